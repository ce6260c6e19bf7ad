"""The candidate's pages, reached through the private invite link (no account)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
