"""Pages for HR and raters: candidates, invitations, rating queue, results."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
