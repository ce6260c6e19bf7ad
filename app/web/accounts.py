"""Sign-in, sign-out, language choice and personal access tokens (pages)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
