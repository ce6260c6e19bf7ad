"""HTML previews of the PDF reports: the same markup in the browser, with download links.

The report stylesheet is inlined, so each preview carries its own CSP allowing exactly that
stylesheet by hash; who may see a preview is decided by the reports service, as for the PDF.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep, SettingsDep, WebStaff
from app.privacy import audit
from app.reports import render
from app.reports import service as report_service
from app.reports.documents import Document
from app.security_headers import CSP
from app.web.nul_characters import refuse_nul_characters
from app.web.templating import language

router = APIRouter(include_in_schema=False, dependencies=[Depends(refuse_nul_characters())])

Language = Literal["zh", "en"]
API = "/api/v1/reports"


def _preview(
    request: Request, document: Document, pdf_path: str, query: Mapping[str, int] | None = None
) -> HTMLResponse:
    """The preview page; `query` holds parameters both links keep (ours, never the client's)."""
    here, extra = request.url.path, "".join(f"&{k}={v}" for k, v in (query or {}).items())
    links = report_service.PreviewLinks(
        pdf=f"{pdf_path}?lang={document.lang}{extra}",
        zh=f"{here}?lang=zh{extra}",
        en=f"{here}?lang=en{extra}",
    )
    return HTMLResponse(
        report_service.preview(document, links),
        headers={
            "Content-Security-Policy": f"{CSP}; style-src {render.preview_style_source()}",
            "Cache-Control": "no-store",
        },
    )


@router.get("/staff/reports/candidates/{assessment_id:int}.html", response_class=HTMLResponse)
def candidate_preview(
    request: Request,
    assessment_id: int,
    session: SessionDep,
    staff: WebStaff,
    lang: Language | None = None,
) -> HTMLResponse:
    document = report_service.candidate_report(
        session, staff.user, assessment_id, lang or language(request)
    )
    audit.assessment_event(
        session,
        staff.user,
        "assessment.report_viewed",
        assessment_id,
        report="candidate",
        format="html",
    )
    return _preview(request, document, f"{API}/candidates/{assessment_id}.pdf")


@router.get(
    "/staff/reports/candidates/{assessment_id:int}/feedback.html", response_class=HTMLResponse
)
def feedback_preview(
    request: Request,
    assessment_id: int,
    session: SessionDep,
    staff: WebStaff,
    lang: Language | None = None,
) -> HTMLResponse:
    document = report_service.feedback_report(
        session, staff.user, assessment_id, lang or language(request)
    )
    audit.assessment_event(
        session,
        staff.user,
        "assessment.report_viewed",
        assessment_id,
        report="feedback",
        format="html",
    )
    return _preview(request, document, f"{API}/candidates/{assessment_id}/feedback.pdf")


@router.get("/staff/reports/reviews/{ratee_id:int}.html", response_class=HTMLResponse)
def review_preview(
    request: Request,
    ratee_id: int,
    session: SessionDep,
    staff: WebStaff,
    lang: Language | None = None,
) -> HTMLResponse:
    document = report_service.review_report(
        session, staff.user, ratee_id, lang or language(request)
    )
    audit.ratee_event(session, staff.user, "review.report_viewed", ratee_id, format="html")
    return _preview(request, document, f"{API}/reviews/{ratee_id}.pdf")


@router.get(
    "/staff/reports/cycles/{cycle_id:int}/results/{user_id:int}.html",
    response_class=HTMLResponse,
)
def review_preview_by_person(
    request: Request,
    cycle_id: int,
    user_id: int,
    session: SessionDep,
    staff: WebStaff,
    lang: Language | None = None,
) -> HTMLResponse:
    """The review report addressed as the review pages address results: cycle and person."""
    ratee_id = report_service.find_ratee_id(session, staff.user, cycle_id, user_id)
    document = report_service.review_report(
        session, staff.user, ratee_id, lang or language(request)
    )
    audit.ratee_event(session, staff.user, "review.report_viewed", ratee_id, format="html")
    return _preview(request, document, f"{API}/reviews/{ratee_id}.pdf")


@router.get("/staff/reports/teams/{team_id:int}.html", response_class=HTMLResponse)
def team_preview(
    request: Request,
    team_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    lang: Language | None = None,
    cycle_id: int | None = None,
) -> HTMLResponse:
    document = report_service.team_report(
        session, staff.user, team_id, lang or language(request), settings, cycle_id=cycle_id
    )
    query = {} if cycle_id is None else {"cycle_id": cycle_id}
    audit.record(session, staff.user, "team.report_viewed", "team", team_id, format="html")
    return _preview(request, document, f"{API}/teams/{team_id}.pdf", query)
