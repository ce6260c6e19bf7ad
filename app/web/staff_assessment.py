"""HR's page for one assessment: status, link actions (revoke, extend, re-issue), raters.

A re-issued link is shown once, like a new invitation; every other action redirects back
here with a notice.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.assessments import service as assessment_service
from app.assessments.service import DEFAULT_LINK_VALID_DAYS
from app.assessments.states import Status
from app.assessments.views import AssessmentView
from app.deps import CsrfChecked, SessionDep, SettingsDep, Staff, WebHr
from app.errors import AppError, Conflict, InvalidInput
from app.web.staff_shared import (
    FIELD_TEXT,
    FormText,
    Msg,
    field_message,
    invite_page,
    notice_flash,
    page,
    pick,
    redirect,
    whole_number,
)

router = APIRouter(include_in_schema=False)

DEFAULT_EXTEND_DAYS = 7
# Why an action was refused when the page was out of date (the service said Conflict).
CONFLICT_TEXT: Mapping[str, Msg] = {
    "revoke": (
        "当前状态下不能撤回链接（只有已邀请或作答中的测评可以撤回）。",
        "The link cannot be revoked now: only invited or in-progress assessments can be.",
    ),
    "extend": (
        "当前状态下不能延长链接（链接不会过期，或测评已提交、已撤回）。",
        "The link cannot be extended now: it does not expire, or the assessment was "
        "submitted or revoked.",
    ),
    "reissue": (
        "当前状态下不能重新生成链接：已提交的测评不需要链接，开始后被撤回的测评需要重新邀请。",
        "A new link cannot be issued now: a submitted assessment needs none, and a sitting "
        "that was started and then revoked needs a new invitation.",
    ),
    "assign": (
        "不能添加评分人：该用户已是评分人，或测评已过期、已撤回。",
        "The rater cannot be added: they already rate this assessment, or it expired or "
        "was revoked.",
    ),
}


def _actions(view: AssessmentView) -> dict[str, bool]:
    """Which forms to offer; the service still decides, so a stale page gets a refusal."""
    status = Status(view.status)
    never_started = view.started_at is None
    return {
        "revoke": status in (Status.INVITED, Status.IN_PROGRESS),
        "extend": view.link_expires_at is not None
        and (
            status in (Status.INVITED, Status.IN_PROGRESS)
            or (status is Status.EXPIRED and never_started)
        ),
        "reissue": status in (Status.INVITED, Status.IN_PROGRESS)
        or (status in (Status.EXPIRED, Status.REVOKED) and never_started),
        "assign": status not in (Status.EXPIRED, Status.REVOKED),
    }


def _detail(
    request: Request,
    session: Session,
    staff: Staff,
    assessment_id: int,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    flash: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = assessment_service.get_assessment_view(session, staff.user, assessment_id)
    assigned = {r.user_id for r in view.raters}
    users = [u for u in account_service.list_users(session) if u.id not in assigned]
    defaults = {
        "days": str(DEFAULT_EXTEND_DAYS),
        "link_valid_days": str(DEFAULT_LINK_VALID_DAYS),
        "user_id": "",
        "adjudicator": "",
    }
    return page(
        request,
        staff,
        "assessment.html",
        {
            "view": view,
            "users": users,
            "actions": _actions(view),
            "values": {**defaults, **(values or {})},
            "errors": errors or {},
            "flash": flash,
        },
        status_code=status_code,
    )


def _refused(
    request: Request,
    session: Session,
    staff: Staff,
    assessment_id: int,
    error: AppError,
    action: str,
    values: Mapping[str, str],
) -> HTMLResponse:
    """The assessment page again, saying why the action was refused (409/422)."""
    if isinstance(error, InvalidInput) and error.field in FIELD_TEXT:
        field = error.field or ""
        return _detail(
            request,
            session,
            staff,
            assessment_id,
            values=values,
            errors={field: field_message(request, field, error.message)},
            status_code=error.status_code,
        )
    text = CONFLICT_TEXT[action] if isinstance(error, Conflict) else None
    message = pick(request, text) if text else error.message
    return _detail(
        request,
        session,
        staff,
        assessment_id,
        values=values,
        flash={"kind": "error", "text": message},
        status_code=error.status_code,
    )


@router.get("/staff/assessments/{assessment_id:int}", response_class=HTMLResponse)
def detail(
    request: Request, assessment_id: int, session: SessionDep, staff: WebHr, notice: str = ""
) -> HTMLResponse:
    return _detail(request, session, staff, assessment_id, flash=notice_flash(request, notice))


def _here(assessment_id: int) -> str:
    return f"/staff/assessments/{assessment_id}"


@router.post("/staff/assessments/{assessment_id:int}/raters", response_model=None)
def assign_rater(
    request: Request,
    assessment_id: int,
    session: SessionDep,
    staff: WebHr,
    _csrf: CsrfChecked,
    user_id: FormText = "",
    adjudicator: FormText = "",
) -> Response:
    values = {"user_id": user_id, "adjudicator": adjudicator}
    errors: dict[str, str] = {}
    chosen = whole_number(user_id, "user_id", errors, request)
    if chosen is None:
        errors["user_id"] = field_message(request, "user_id", "")
        return _detail(
            request, session, staff, assessment_id, values=values, errors=errors, status_code=422
        )
    try:
        assessment_service.assign_rater(
            session, staff.user, assessment_id, chosen, adjudicator == "on"
        )
    except (InvalidInput, Conflict) as error:
        if isinstance(error, Conflict) and error.field == "user_id":
            message = pick(
                request, ("该用户已是本测评的评分人。", "This user already rates this assessment.")
            )
            return _detail(
                request,
                session,
                staff,
                assessment_id,
                values=values,
                errors={"user_id": message},
                status_code=409,
            )
        return _refused(request, session, staff, assessment_id, error, "assign", values)
    return redirect(_here(assessment_id), "rater_added")


@router.post("/staff/assessments/{assessment_id:int}/raters/{user_id:int}/remove")
def remove_rater(
    assessment_id: int, user_id: int, session: SessionDep, staff: WebHr, _csrf: CsrfChecked
) -> Response:
    assessment_service.unassign_rater(session, staff.user, assessment_id, user_id)
    return redirect(_here(assessment_id), "rater_removed")


@router.post("/staff/assessments/{assessment_id:int}/feedback")
def candidate_feedback(
    assessment_id: int,
    session: SessionDep,
    staff: WebHr,
    _csrf: CsrfChecked,
    enabled: FormText = "",
) -> Response:
    on = enabled == "on"
    assessment_service.set_candidate_feedback(session, staff.user, assessment_id, on)
    return redirect(_here(assessment_id), "feedback_on" if on else "feedback_off")


@router.post("/staff/assessments/{assessment_id:int}/revoke", response_model=None)
def revoke(
    request: Request, assessment_id: int, session: SessionDep, staff: WebHr, _csrf: CsrfChecked
) -> Response:
    try:
        assessment_service.revoke(session, staff.user, assessment_id)
    except Conflict as error:
        return _refused(request, session, staff, assessment_id, error, "revoke", {})
    return redirect(_here(assessment_id), "revoked")


@router.post("/staff/assessments/{assessment_id:int}/extend", response_model=None)
def extend(
    request: Request,
    assessment_id: int,
    session: SessionDep,
    staff: WebHr,
    _csrf: CsrfChecked,
    days: FormText = "",
) -> Response:
    values = {"days": days}
    errors: dict[str, str] = {}
    parsed = whole_number(days, "days", errors, request)
    if parsed is None:
        errors["days"] = field_message(request, "days", "")
        return _detail(
            request, session, staff, assessment_id, values=values, errors=errors, status_code=422
        )
    try:
        assessment_service.extend(session, staff.user, assessment_id, parsed)
    except (InvalidInput, Conflict) as error:
        return _refused(request, session, staff, assessment_id, error, "extend", values)
    return redirect(_here(assessment_id), "extended")


@router.post("/staff/assessments/{assessment_id:int}/reissue", response_model=None)
def reissue(
    request: Request,
    assessment_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebHr,
    _csrf: CsrfChecked,
    link_valid_days: FormText = "",
) -> Response:
    values = {"link_valid_days": link_valid_days}
    errors: dict[str, str] = {}
    days = whole_number(link_valid_days, "link_valid_days", errors, request)
    if errors:
        return _detail(
            request, session, staff, assessment_id, values=values, errors=errors, status_code=422
        )
    try:
        _, url = assessment_service.reissue_link(session, staff.user, assessment_id, days, settings)
    except (InvalidInput, Conflict) as error:
        return _refused(request, session, staff, assessment_id, error, "reissue", values)
    return invite_page(request, session, staff, assessment_id, url, reissued=True, status_code=200)
