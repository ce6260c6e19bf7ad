"""JSON API for the signed-in user: who am I, personal access tokens."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
