"""JSON API for the audit log: who viewed or changed whose results (admins only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api.errors import STAFF_ERRORS, refuse_nul_characters
from app.deps import ApiAdmin, SessionDep
from app.privacy import service as privacy_service
from app.privacy.audit import PER_PAGE, PER_PAGE_MAX
from app.privacy.schemas import AuditPageOut

router = APIRouter(
    responses=STAFF_ERRORS, tags=["audit"], dependencies=[Depends(refuse_nul_characters)]
)


@router.get("/audit", response_model=AuditPageOut, summary="The audit log, newest first")
def list_audit(
    response: Response,
    session: SessionDep,
    staff: ApiAdmin,
    action: Annotated[
        str | None, Query(max_length=64, description="e.g. assessment.result_viewed")
    ] = None,
    person: Annotated[
        str | None,
        Query(max_length=254, description="an email address, `user:ID` or `candidate:ID`"),
    ] = None,
    date_from: Annotated[date | None, Query(description="first UTC day included")] = None,
    date_to: Annotated[date | None, Query(description="last UTC day included")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=PER_PAGE_MAX)] = PER_PAGE,
) -> AuditPageOut:
    response.headers["Cache-Control"] = "no-store"
    found = privacy_service.list_events(
        session,
        staff.user,
        action=action or None,
        person=person,
        date_from=date_from,
        date_to=date_to,
        page=page,
        per_page=per_page,
    )
    return AuditPageOut.model_validate(found)
