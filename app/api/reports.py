"""PDF reports: candidate, candidate feedback, 360 review and team, in Chinese or English."""

from __future__ import annotations

from typing import Any, Literal

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from app.api.errors import STAFF_ERRORS
from app.deps import ApiStaff, SessionDep, SettingsDep
from app.ids import Id
from app.privacy import audit
from app.reports import service as report_service
from app.reports.documents import Document, content_disposition

router = APIRouter(tags=["reports"], responses=STAFF_ERRORS)

Language = Literal["zh", "en"]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The report as a PDF download."}
}


class PdfResponse(Response):
    """A report document, rendered to PDF as the response is sent.

    That is after the request's session has committed and given back its database slot
    (`SessionDep` ends before the response goes out): a render takes a good part of a second
    and renders take turns, so rendering inside the route would keep other requests, such as
    candidates' autosaves, from the database meanwhile. The document holds plain values only.
    """

    media_type = "application/pdf"

    def __init__(self, document: Document) -> None:
        super().__init__(
            headers={
                "Content-Disposition": content_disposition(document.filename),
                # Personal data: never kept by a browser or proxy cache.
                "Cache-Control": "no-store",
            }
        )
        self.document = document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.body = await anyio.to_thread.run_sync(report_service.pdf, self.document)
        self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


def pdf_response(document: Document) -> Response:
    return PdfResponse(document)


@router.get(
    "/reports/candidates/{assessment_id:int}.pdf",
    response_class=Response,
    responses=PDF,
    summary="Candidate report (HR and admins)",
)
def candidate_pdf(
    assessment_id: Id, session: SessionDep, staff: ApiStaff, lang: Language | None = None
) -> Response:
    chosen = lang or report_service.default_lang(staff.user)
    document = report_service.candidate_report(session, staff.user, assessment_id, chosen)
    audit.assessment_event(
        session,
        staff.user,
        "assessment.report_viewed",
        assessment_id,
        report="candidate",
        format="pdf",
    )
    return pdf_response(document)


@router.get(
    "/reports/candidates/{assessment_id:int}/feedback.pdf",
    response_class=Response,
    responses=PDF,
    summary="Feedback report for the candidate (HR sends it; only when enabled)",
)
def feedback_pdf(
    assessment_id: Id, session: SessionDep, staff: ApiStaff, lang: Language | None = None
) -> Response:
    chosen = lang or report_service.default_lang(staff.user)
    document = report_service.feedback_report(session, staff.user, assessment_id, chosen)
    audit.assessment_event(
        session,
        staff.user,
        "assessment.report_viewed",
        assessment_id,
        report="feedback",
        format="pdf",
    )
    return pdf_response(document)


@router.get(
    "/reports/reviews/{ratee_id:int}.pdf",
    response_class=Response,
    responses=PDF,
    summary="360 review report (the person reviewed, the cycle's lead, HR)",
)
def review_pdf(
    ratee_id: Id, session: SessionDep, staff: ApiStaff, lang: Language | None = None
) -> Response:
    chosen = lang or report_service.default_lang(staff.user)
    document = report_service.review_report(session, staff.user, ratee_id, chosen)
    audit.ratee_event(session, staff.user, "review.report_viewed", ratee_id, format="pdf")
    return pdf_response(document)


@router.get(
    "/reports/teams/{team_id:int}.pdf",
    response_class=Response,
    responses=PDF,
    summary="Team report (the team's lead, HR); `cycle_id` picks a released cycle",
)
def team_pdf(
    team_id: Id,
    session: SessionDep,
    settings: SettingsDep,
    staff: ApiStaff,
    lang: Language | None = None,
    cycle_id: Id | None = None,
) -> Response:
    chosen = lang or report_service.default_lang(staff.user)
    document = report_service.team_report(
        session, staff.user, team_id, chosen, settings, cycle_id=cycle_id
    )
    audit.record(session, staff.user, "team.report_viewed", "team", team_id, format="pdf")
    return pdf_response(document)
