"""PDF reports: candidate, candidate feedback, 360 review and team, in Chinese or English."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response

from app.deps import ApiStaff, SessionDep, SettingsDep
from app.reports import service as report_service
from app.reports.documents import Document, content_disposition

router = APIRouter(tags=["reports"])

Language = Literal["zh", "en"]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The report as a PDF download."}
}


def pdf_response(document: Document) -> Response:
    return Response(
        report_service.pdf(document),
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(document.filename),
            # Personal data: never kept by a browser or proxy cache.
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/reports/candidates/{assessment_id:int}.pdf",
    response_class=Response,
    responses=PDF,
    summary="Candidate report (HR and admins)",
)
def candidate_pdf(
    assessment_id: int, session: SessionDep, staff: ApiStaff, lang: Language | None = None
) -> Response:
    chosen = lang or report_service.default_lang(staff.user)
    return pdf_response(report_service.candidate_report(session, staff.user, assessment_id, chosen))


@router.get(
    "/reports/candidates/{assessment_id:int}/feedback.pdf",
    response_class=Response,
    responses=PDF,
    summary="Feedback report for the candidate (HR sends it; only when enabled)",
)
def feedback_pdf(
    assessment_id: int, session: SessionDep, staff: ApiStaff, lang: Language | None = None
) -> Response:
    chosen = lang or report_service.default_lang(staff.user)
    return pdf_response(report_service.feedback_report(session, staff.user, assessment_id, chosen))


@router.get(
    "/reports/reviews/{ratee_id:int}.pdf",
    response_class=Response,
    responses=PDF,
    summary="360 review report (the person reviewed, the cycle's lead, HR)",
)
def review_pdf(
    ratee_id: int, session: SessionDep, staff: ApiStaff, lang: Language | None = None
) -> Response:
    chosen = lang or report_service.default_lang(staff.user)
    return pdf_response(report_service.review_report(session, staff.user, ratee_id, chosen))


@router.get(
    "/reports/teams/{team_id:int}.pdf",
    response_class=Response,
    responses=PDF,
    summary="Team report (the team's lead, HR); `cycle_id` picks a released cycle",
)
def team_pdf(
    team_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: ApiStaff,
    lang: Language | None = None,
    cycle_id: int | None = None,
) -> Response:
    chosen = lang or report_service.default_lang(staff.user)
    document = report_service.team_report(
        session, staff.user, team_id, chosen, settings, cycle_id=cycle_id
    )
    return pdf_response(document)
