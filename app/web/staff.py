"""Pages for HR and raters: the staff home here; candidates, ratings and results included.

HR and admins see every assessment; leads and members see only the rating tasks they are
assigned (anything else is 404), and pages meant for HR answer them with 403.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.assessments import service as assessment_service
from app.assessments.service import STATUS_ORDER
from app.deps import SessionDep, WebStaff
from app.web import staff_assessment, staff_candidates, staff_ratings, staff_results
from app.web.staff_shared import no_nul_characters, page

router = APIRouter(include_in_schema=False, dependencies=[Depends(no_nul_characters)])


@router.get("/staff", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, staff: WebStaff) -> HTMLResponse:
    queue = assessment_service.rating_queue(session, staff.user)
    context: dict[str, object] = {"queue": queue, "is_hr": False}
    if assessment_service.is_hr(staff.user):
        counts = assessment_service.status_counts(session, staff.user)
        context.update(
            is_hr=True,
            total=counts.total,
            counts=[(status.value, counts.by_status[status.value]) for status in STATUS_ORDER],
            provisional=counts.provisional,
        )
    return page(request, staff, "home.html", context)


router.include_router(staff_candidates.router)
router.include_router(staff_assessment.router)
router.include_router(staff_ratings.router)
router.include_router(staff_results.router)
