"""The 360 review pages under /staff: teams, cycles, rating forms, results, heat map, trends.

Include `router` in the app; the pages live in the `reviews_*` modules it gathers.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.web import reviews_cycles, reviews_rating, reviews_results, reviews_teams
from app.web.reviews_shared import no_nul_characters

router = APIRouter(include_in_schema=False, dependencies=[Depends(no_nul_characters)])
router.include_router(reviews_teams.router)
router.include_router(reviews_cycles.router)
router.include_router(reviews_rating.router)
router.include_router(reviews_results.router)
