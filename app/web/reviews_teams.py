"""Team pages and opening a review cycle: HR and admins manage teams, a lead sees their own.

Members see the teams they belong to; opening a cycle is for the team's lead and HR (other
leads get 404, members 403, as in the review service).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import Role
from app.config import Settings
from app.db import utcnow
from app.deps import HR_ROLES, CsrfChecked, SessionDep, SettingsDep, Staff, WebHr, WebStaff
from app.errors import AppError, Forbidden, NotFound
from app.reviews import service as review_service
from app.reviews.views import TeamView
from app.rubrics import service as rubric_service
from app.web.reviews_shared import (
    MANAGING_ROLES,
    FormDep,
    Msg,
    field_errors,
    form_id,
    form_ids,
    form_text,
    page,
    pick,
    redirect,
)

router = APIRouter(include_in_schema=False)

DEFAULT_DUE_DAYS = 14
DEFAULT_MIN_RATERS = 3
ANONYMOUS_GROUPS = ("peer", "report")

CHOOSE_LEAD: Msg = ("请选择团队负责人（主管）。", "Choose the team's lead.")
CHOOSE_USER: Msg = ("请选择要加入的员工。", "Choose the person to add.")
CHOOSE_ROLE: Msg = ("请选择此人对应的岗位画像。", "Choose the role profile they are measured on.")
NAME_NEEDED: Msg = ("请填写名称。", "Give a name.")
BAD_DUE: Msg = (
    "请按 年-月-日 时:分 填写截止时间，例如 2026-12-31 18:00。",
    "Give the due date and time as YYYY-MM-DD HH:MM, e.g. 2026-12-31 18:00.",
)
BAD_MIN_RATERS: Msg = (
    "最少人数须为 2–20 的整数（为保护匿名至少 2 人）。",
    "Give a whole number from 2 to 20 (at least 2 keeps raters anonymous).",
)


def role_choices(settings: Settings) -> list[tuple[str, Mapping[str, str]]]:
    """Every role profile of the loaded rubrics, once each: (role id, name)."""
    seen: dict[str, Mapping[str, str]] = {}
    for _, loaded in sorted(rubric_service.current_rubrics(settings.rubrics_dir).items()):
        for role in loaded.rubric.roles:
            seen.setdefault(role.id, role.name)
    return list(seen.items())


def managed_team(session: Session, staff: Staff, team_id: int, settings: Settings) -> TeamView:
    """The team if `staff` may run its cycles: members 403, anyone else who may not 404."""
    if not staff.has_role(*MANAGING_ROLES):
        raise Forbidden("only team leads, HR and admins may do this")
    team = review_service.get_team(session, staff.user, team_id, settings)
    if not team.can_manage:
        raise NotFound("no such team")
    return team


# ── teams ───────────────────────────────────────────────────────────────────────────────


def _teams_page(
    request: Request,
    session: Session,
    settings: Settings,
    staff: Staff,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    teams = review_service.list_teams(session, staff.user, settings)
    leads = account_service.list_users(session, {Role.LEAD}) if staff.has_role(*HR_ROLES) else []
    return page(
        request,
        staff,
        "teams.html",
        {"teams": teams, "leads": leads, "values": values or {}, "errors": errors or {}},
        notice=notice,
        status_code=status_code,
    )


@router.get("/staff/teams", response_class=HTMLResponse)
def teams_page(
    request: Request, session: SessionDep, settings: SettingsDep, staff: WebStaff, notice: str = ""
) -> HTMLResponse:
    return _teams_page(request, session, settings, staff, notice=notice)


@router.post("/staff/teams", response_model=None)
def create_team(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebHr,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    name, lead_id = form_text(form, "name"), form_id(form, "lead_id")
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = pick(request, NAME_NEEDED)
    if lead_id is None:
        errors["lead_id"] = pick(request, CHOOSE_LEAD)
    if not errors and lead_id is not None:
        try:
            team = review_service.create_team(session, staff.user, name, lead_id, settings)
        except AppError as error:
            if error.field is None:
                raise
            errors = field_errors(request, error)
        else:
            return redirect(f"/staff/teams/{team.id}", "team_created")
    values = {"name": name, "lead_id": form_text(form, "lead_id")}
    return _teams_page(
        request, session, settings, staff, values=values, errors=errors, status_code=422
    )


def _team_page(
    request: Request,
    session: Session,
    settings: Settings,
    staff: Staff,
    team_id: int,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    team = review_service.get_team(session, staff.user, team_id, settings)
    context: dict[str, Any] = {
        "team": team,
        "cycles": review_service.list_cycles(session, staff.user, team_id=team.id),
        "roles": dict(role_choices(settings)),
        "values": values or {},
        "errors": errors or {},
        "people": [],
        "leads": [],
    }
    if staff.has_role(*HR_ROLES):
        people = account_service.list_users(session)
        members = {m.user_id for m in team.members}
        context["people"] = [u for u in people if u.id not in members]
        context["leads"] = [u for u in people if u.role == Role.LEAD.value]
    return page(request, staff, "team.html", context, notice=notice, status_code=status_code)


@router.get("/staff/teams/{team_id:rowid}", response_class=HTMLResponse)
def team_page(
    request: Request,
    team_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    notice: str = "",
) -> HTMLResponse:
    return _team_page(request, session, settings, staff, team_id, notice=notice)


@router.post("/staff/teams/{team_id:rowid}", response_model=None)
def update_team(
    request: Request,
    team_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebHr,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    name, lead_id = form_text(form, "name"), form_id(form, "lead_id")
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = pick(request, NAME_NEEDED)
    if lead_id is None:
        errors["lead_id"] = pick(request, CHOOSE_LEAD)
    if not errors:
        try:
            review_service.update_team(
                session, staff.user, team_id, settings, name=name, lead_id=lead_id
            )
        except AppError as error:
            if error.field is None:
                raise
            errors = field_errors(request, error)
        else:
            return redirect(f"/staff/teams/{team_id}", "team_saved")
    values = {"name": name, "lead_id": form_text(form, "lead_id")}
    return _team_page(
        request, session, settings, staff, team_id, values=values, errors=errors, status_code=422
    )


@router.post("/staff/teams/{team_id:rowid}/members", response_model=None)
def add_member(
    request: Request,
    team_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebHr,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    user_id, role_id = form_id(form, "user_id"), form_text(form, "role_id")
    errors: dict[str, str] = {}
    if user_id is None:
        errors["user_id"] = pick(request, CHOOSE_USER)
    if not role_id:
        errors["role_id"] = pick(request, CHOOSE_ROLE)
    if not errors and user_id is not None:
        try:
            review_service.add_member(session, staff.user, team_id, user_id, role_id, settings)
        except AppError as error:
            if error.field is None:
                raise
            errors = field_errors(request, error)
        else:
            return redirect(f"/staff/teams/{team_id}", "member_added", "members")
    values = {"user_id": form_text(form, "user_id"), "role_id": role_id}
    return _team_page(
        request, session, settings, staff, team_id, values=values, errors=errors, status_code=422
    )


@router.post("/staff/teams/{team_id:rowid}/members/{user_id:rowid}/remove", response_model=None)
def remove_member(
    team_id: int,
    user_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebHr,
    _csrf: CsrfChecked,
) -> Response:
    review_service.remove_member(session, staff.user, team_id, user_id, settings)
    return redirect(f"/staff/teams/{team_id}", "member_removed", "members")


# ── opening a cycle ─────────────────────────────────────────────────────────────────────


def parse_due(value: str) -> datetime | None:
    """`YYYY-MM-DDTHH:MM` (what `datetime-local` sends) or with a space, in UTC; a bare
    date means the end of that day."""
    value = value.strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        return datetime.combine(date.fromisoformat(value), time(23, 59), UTC)
    except ValueError:
        return None


def _common_role(team: TeamView) -> str:
    roles = {m.role_id for m in team.members}
    return roles.pop() if len(roles) == 1 else ""


def _new_cycle_page(
    request: Request,
    settings: Settings,
    staff: Staff,
    team: TeamView,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        staff,
        "cycle_new.html",
        {
            "team": team,
            "roles": role_choices(settings),
            "values": values,
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/staff/teams/{team_id:rowid}/cycles/new", response_class=HTMLResponse)
def new_cycle_page(
    request: Request, team_id: int, session: SessionDep, settings: SettingsDep, staff: WebStaff
) -> HTMLResponse:
    team = managed_team(session, staff, team_id, settings)
    due = (utcnow() + timedelta(days=DEFAULT_DUE_DAYS)).replace(hour=10, minute=0)
    values = {
        "name": "",
        "due_at": due.strftime("%Y-%m-%dT%H:%M"),
        "role_id": _common_role(team),
        "ratees": [str(m.user_id) for m in team.members],
        "auto_peers": True,
        "min_peer": str(DEFAULT_MIN_RATERS),
        "min_report": str(DEFAULT_MIN_RATERS),
    }
    return _new_cycle_page(request, settings, staff, team, values)


def _peers(team: TeamView, ratee_id: int, active: set[int]) -> tuple[int, ...]:
    """Every other active member: the lead rates as manager, never also as a peer."""
    return tuple(
        m.user_id
        for m in team.members
        if m.user_id not in (ratee_id, team.lead.user_id) and m.user_id in active
    )


@router.post("/staff/teams/{team_id:rowid}/cycles", response_model=None)
def open_cycle(
    request: Request,
    team_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    team = managed_team(session, staff, team_id, settings)
    values: dict[str, Any] = {
        "name": form_text(form, "name"),
        "due_at": form_text(form, "due_at"),
        "role_id": form_text(form, "role_id"),
        "ratees": [str(i) for i in form_ids(form, "ratees")],
        "auto_peers": form_text(form, "auto_peers") == "1",
        "min_peer": form_text(form, "min_peer"),
        "min_report": form_text(form, "min_report"),
    }
    errors: dict[str, str] = {}
    due_at = parse_due(values["due_at"])
    if due_at is None:
        errors["due_at"] = pick(request, BAD_DUE)
    min_raters: dict[str, int] = {}
    for group in ANONYMOUS_GROUPS:
        raw = values[f"min_{group}"]
        if raw.isascii() and raw.isdigit():
            min_raters[group] = int(raw)
        else:
            errors["min_raters"] = pick(request, BAD_MIN_RATERS)
    if not values["role_id"]:
        errors["role_id"] = pick(request, CHOOSE_ROLE)
    active = {u.id for u in account_service.list_users(session)}
    ratees = [
        review_service.RateeSpec(
            user_id, peer_ids=_peers(team, user_id, active) if values["auto_peers"] else ()
        )
        for user_id in form_ids(form, "ratees")
    ]
    if not errors and due_at is not None:
        try:
            cycle = review_service.open_cycle(
                session,
                staff.user,
                team.id,
                settings,
                name=values["name"],
                due_at=due_at,
                ratees=ratees,
                role_id=values["role_id"],
                min_raters=min_raters,
            )
        except AppError as error:
            if error.field is None:
                raise
            errors = field_errors(request, error, {"rubric_id": "role_id"})
            # Raters come from "ask the other members": say it where that box is.
            for field in [f for f in errors if f.startswith("ratees[")]:
                errors.setdefault("ratees", errors.pop(field))
        else:
            return redirect(f"/staff/cycles/{cycle.cycle.id}", "cycle_opened")
    return _new_cycle_page(request, settings, staff, team, values, errors, 422)
