"""A review cycle's page: ratees and their raters, reminders, nominations, closing, results.

The lead and HR see who was asked and who has not answered yet, never an answer; once the
cycle is released they see each ratee's summary and the agreement statistics. Ratees and
raters see only their own part of the cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.config import Settings
from app.deps import CsrfChecked, SessionDep, SettingsDep, Staff, WebStaff
from app.errors import AppError, Conflict, NotFound
from app.privacy import audit
from app.reviews import service as review_service
from app.reviews.views import CycleView, RateeView, TeamMemberView
from app.web.reviews_shared import (
    FormDep,
    Msg,
    error_flash,
    field_errors,
    form_id,
    form_text,
    page,
    pick,
    redirect,
)

router = APIRouter(include_in_schema=False)

OPEN = review_service.CycleStatus.OPEN.value
ASSIGNABLE = ("manager", "peer", "report")
CHOOSE_RATER: Msg = ("请选择评分人。", "Choose the rater.")
CHOOSE_GROUP: Msg = ("请选择评分人所在的组。", "Choose the rater's group.")
CONFIRM_CLOSE: Msg = (
    "请勾选确认：结束后将发布结果，评分不能再修改。",
    "Tick the box to confirm: closing releases the results and ratings can no longer change.",
)


def own_row(view: CycleView, user_id: int) -> RateeView | None:
    return next((r for r in view.ratees if r.user_id == user_id), None)


def nomination_choices(
    session: Session, staff: Staff, settings: Settings, view: CycleView
) -> list[TeamMemberView]:
    """Teammates the viewer may still nominate as peers for their own review in `view`."""
    mine = own_row(view, staff.id)
    if not view.can_nominate or mine is None:
        return []
    try:
        team = review_service.get_team(session, staff.user, view.cycle.team_id, settings)
    except NotFound:  # no longer in the team: nobody left to nominate from it
        return []
    asked = {request.rater.user_id for request in mine.requests}
    return [m for m in team.members if m.user_id != staff.id and m.user_id not in asked]


def cycle_page_response(
    request: Request,
    session: Session,
    settings: Settings,
    staff: Staff,
    cycle_id: int,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    flash: dict[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    view = review_service.get_cycle(session, staff.user, cycle_id)
    is_open = view.cycle.status == OPEN
    context: dict[str, Any] = {
        "view": view,
        "is_open": is_open,
        "mine": own_row(view, staff.id),
        "my_requests": [
            (ratee, r)
            for ratee in view.ratees
            for r in ratee.requests
            if r.rater.user_id == staff.id
        ],
        "nominate": nomination_choices(session, staff, settings, view),
        "values": values or {},
        "errors": errors or {},
        "progress": {},
        "reminders": None,
        "people": [],
        "results": None,
        "agreement": None,
    }
    if view.can_manage and is_open:
        reminders = review_service.reminders(session, staff.user, cycle_id)
        context["reminders"] = reminders
        context["progress"] = {p.user_id: p for p in reminders.ratees}
        context["people"] = account_service.list_users(session)
    elif view.can_manage:
        context["results"] = review_service.list_results(session, staff.user, cycle_id)
        audit.record(
            session, staff.user, "review.results_listed", "review_cycle", cycle_id, via="page"
        )
        context["agreement"] = review_service.get_cycle_agreement(session, staff.user, cycle_id)
    if flash is not None:
        context["flash"] = flash
    return page(request, staff, "cycle.html", context, notice=notice, status_code=status_code)


@router.get("/staff/cycles/{cycle_id:rowid}", response_class=HTMLResponse)
def cycle_page(
    request: Request,
    cycle_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    notice: str = "",
) -> HTMLResponse:
    return cycle_page_response(request, session, settings, staff, cycle_id, notice=notice)


def form_failed(
    request: Request,
    session: Session,
    settings: Settings,
    staff: Staff,
    cycle_id: int,
    error: AppError,
    scope: str,
    values: Mapping[str, str],
) -> HTMLResponse:
    """The cycle page again: a field's problem next to that field of the form `scope`, a
    problem with the cycle itself (closed meanwhile) as the page's message."""
    if error.field is None:
        if not isinstance(error, Conflict):
            raise error
        return cycle_page_response(
            request,
            session,
            settings,
            staff,
            cycle_id,
            flash=error_flash(request, error),
            status_code=error.status_code,
        )
    errors = {f"{scope}.{k}": v for k, v in field_errors(request, error).items()}
    return cycle_page_response(
        request, session, settings, staff, cycle_id, values=values, errors=errors, status_code=422
    )


@router.post("/staff/cycles/{cycle_id:rowid}/raters", response_model=None)
def add_rater(
    request: Request,
    cycle_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    ratee_id, rater_id = form_id(form, "ratee_id"), form_id(form, "rater_id")
    group = form_text(form, "group")
    scope = f"add-{ratee_id or 0}"
    values = {f"{scope}.rater_id": form_text(form, "rater_id"), f"{scope}.group": group}
    errors: dict[str, str] = {}
    if rater_id is None:
        errors[f"{scope}.rater_id"] = pick(request, CHOOSE_RATER)
    if group not in ASSIGNABLE:
        errors[f"{scope}.group"] = pick(request, CHOOSE_GROUP)
    if errors or ratee_id is None or rater_id is None:
        # Check who may do this before saying anything about the form.
        review_service.reminders(session, staff.user, cycle_id)
        return cycle_page_response(
            request,
            session,
            settings,
            staff,
            cycle_id,
            values=values,
            errors=errors or {f"{scope}.rater_id": pick(request, CHOOSE_RATER)},
            status_code=422,
        )
    try:
        review_service.add_rater(session, staff.user, cycle_id, ratee_id, rater_id, group)
    except AppError as error:
        return form_failed(request, session, settings, staff, cycle_id, error, scope, values)
    return redirect(f"/staff/cycles/{cycle_id}", "rater_added", f"ratee-{ratee_id}")


@router.post(
    "/staff/cycles/{cycle_id:rowid}/nominations/{request_id:rowid}/decide", response_model=None
)
def decide(
    request: Request,
    cycle_id: int,
    request_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    approve = form_text(form, "decision") == "approve"
    try:
        view = review_service.decide(session, staff.user, request_id, approve)
    except AppError as error:
        return form_failed(request, session, settings, staff, cycle_id, error, "decide", {})
    notice = "approved" if approve else "declined"
    return redirect(f"/staff/cycles/{view.cycle.id}", notice, "reminders")


@router.post("/staff/cycles/{cycle_id:rowid}/close", response_model=None)
def close_cycle(
    request: Request,
    cycle_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    if form_text(form, "confirm") != "1":
        review_service.reminders(session, staff.user, cycle_id)  # who may close, first
        errors = {"close.confirm": pick(request, CONFIRM_CLOSE)}
        return cycle_page_response(
            request, session, settings, staff, cycle_id, errors=errors, status_code=422
        )
    try:
        review_service.close_cycle(session, staff.user, cycle_id)
    except AppError as error:
        return form_failed(request, session, settings, staff, cycle_id, error, "close", {})
    return redirect(f"/staff/cycles/{cycle_id}", "closed")
