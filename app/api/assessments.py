"""JSON API for HR and raters: candidates, assessments, invite links, ratings, results, exports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
