"""Pages for development plans, team progress, the training catalogue and practice.

Every form posts with the session's CSRF token and answers with a 303 to a page that says
what happened; a form with a problem comes back (422) with the message next to the field
and what was typed still in it. Objects a person may not see are 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.deps import CsrfChecked, SessionDep, SettingsDep, Staff, WebStaff
from app.errors import AppError
from app.plans import catalogue as plan_catalogue
from app.plans import practice_service
from app.plans import progress as plan_progress
from app.plans import service as plan_service
from app.plans.service import EVIDENCE_MAX, HOURS_MAX, NOTE_MAX, TITLE_MAX
from app.plans.views import FORMAT_LABELS, SOURCE_LABELS, STATUS_LABELS
from app.rubrics.spec import Text
from app.web.nul_characters import refuse_nul_characters
from app.web.templating import language, render

Msg = tuple[str, str]

# Shown once after a POST → 303 (`?notice=code`): codes only, never text from the request.
NOTICES: Mapping[str, Msg] = {
    "created": ("计划已创建。", "The plan was created."),
    "title": ("标题已保存。", "The title was saved."),
    "added": ("模块已加入计划。", "The module was added to the plan."),
    "saved": ("已保存。", "Saved."),
    "removed": ("模块已从计划中移除。", "The module was removed from the plan."),
    "status": ("状态已更新。", "The status was updated."),
    "evidence": ("学习记录已添加。", "The evidence note was added."),
}


def _text(request: Request, message: Text | Msg) -> str:
    zh_first = language(request) == "zh"
    if isinstance(message, tuple):
        return message[0] if zh_first else message[1]
    return message.get("zh" if zh_first else "en") or message.get("en", "")


def _error_text(request: Request, error: AppError) -> str:
    bilingual = getattr(error, "text", None)
    return _text(request, bilingual) if isinstance(bilingual, dict) else error.message


def _page(
    request: Request,
    staff: Staff,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = language(request)

    def tx(text: Mapping[str, str] | None) -> str:
        if not text:
            return ""
        return text.get(lang) or text.get("en") or next(iter(text.values()), "")

    found = NOTICES.get(notice or "")
    flash = None if found is None else {"kind": "success", "text": _text(request, found)}
    return render(
        request,
        f"plans/{template}",
        {
            "tx": tx,
            "flash": flash,
            "status_labels": STATUS_LABELS,
            "format_labels": FORMAT_LABELS,
            "source_labels": SOURCE_LABELS,
            "is_hr": plan_service.is_hr(staff.user),
            **(context or {}),
        },
        staff=staff,
        status_code=status_code,
    )


def _redirect(path: str, notice: str | None = None, anchor: str = "") -> RedirectResponse:
    target = f"{path}?{urlencode({'notice': notice})}" if notice else path
    return RedirectResponse(target + (f"#{anchor}" if anchor else ""), status_code=303)


async def _form(request: Request) -> FormData:
    # Parsed once already (and cached on the request) by the NUL check, with these limits.
    return await request.form(max_files=0, max_fields=200)


FormDep = Annotated[FormData, Depends(_form)]
router = APIRouter(include_in_schema=False, dependencies=[Depends(refuse_nul_characters(_form))])


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _date(value: str) -> date | None:
    """The date typed (YYYY-MM-DD, as `<input type=date>` sends it), None when empty."""
    value = value.strip()
    return date.fromisoformat(value) if value else None


BAD_DATE: Msg = (
    "请按 年-月-日 填写日期，例如 2026-12-31。",
    "Give a date as YYYY-MM-DD, e.g. 2026-12-31.",
)


# ── plans ───────────────────────────────────────────────────────────────────────────────


@router.get("/plans", response_class=HTMLResponse)
def plans_page(
    request: Request, session: SessionDep, staff: WebStaff, notice: str = ""
) -> HTMLResponse:
    rows = plan_progress.list_plans(session, staff.user)
    own = [r for r in rows if r.person.id == staff.id]
    others = [r for r in rows if r.person.id != staff.id]
    context = {
        "own": own,
        "others": others,
        "can_plan": plan_service.may_plan(staff.user),
        "team_refs": plan_progress.list_teams(session, staff.user),
    }
    return _page(request, staff, "list.html", context, notice=notice)


def _new_page(
    request: Request,
    session: Session,
    staff: Staff,
    user_id: int | None,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    planning = plan_progress.planning(session, staff.user, user_id)
    context = {
        "planning": planning,
        "values": values or {},
        "errors": errors or {},
        "hours_max": HOURS_MAX,
        "title_max": TITLE_MAX,
    }
    return _page(request, staff, "new.html", context, status_code=status_code)


@router.get("/plans/new", response_class=HTMLResponse)
def new_plan_page(
    request: Request, session: SessionDep, staff: WebStaff, user_id: str = ""
) -> HTMLResponse:
    chosen = int(user_id) if user_id.isascii() and user_id.isdigit() else None
    return _new_page(request, session, staff, chosen)


@router.post("/plans", response_class=HTMLResponse, response_model=None)
def create_plan(
    request: Request, session: SessionDep, staff: WebStaff, _csrf: CsrfChecked, form: FormDep
) -> HTMLResponse | RedirectResponse:
    values = {k: _field(form, k) for k in ("user_id", "source", "hours_budget", "title")}
    user_id = int(values["user_id"]) if values["user_id"].isdigit() else None
    errors: dict[str, str] = {}
    kind, _, raw_id = values["source"].partition(":")
    if not raw_id.isdigit():
        errors["source"] = _text(
            request, ("请选择制定计划所依据的结果。", "Choose the result to plan from.")
        )
    budget: float | None = None
    if values["hours_budget"].strip():
        try:
            budget = float(values["hours_budget"])
        except ValueError:
            errors["hours_budget"] = _text(
                request,
                (
                    f"请填写大于 0、不超过 {HOURS_MAX:g} 的学时数，或留空。",
                    f"Give a number of hours above 0 and at most {HOURS_MAX:g}, or leave it empty.",
                ),
            )
    if not errors:
        try:
            plan = plan_service.create_plan(
                session, staff.user, kind, int(raw_id), budget, values["title"]
            )
        except (plan_service.PlanInvalid, plan_service.PlanConflict) as error:
            errors[error.field if error.field in values else "source"] = _error_text(request, error)
        else:
            return _redirect(f"/plans/{plan.id}", "created")
    return _new_page(
        request, session, staff, user_id, values=values, errors=errors, status_code=422
    )


def _detail(
    request: Request,
    session: Session,
    staff: Staff,
    plan_id: int,
    *,
    notice: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = plan_progress.get_plan_view(session, staff.user, plan_id)
    context = {
        "plan": view,
        "errors": errors or {},
        "values": values or {},
        "note_max": NOTE_MAX,
        "evidence_max": EVIDENCE_MAX,
        "title_max": TITLE_MAX,
    }
    return _page(request, staff, "detail.html", context, notice=notice, status_code=status_code)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(
    request: Request, plan_id: int, session: SessionDep, staff: WebStaff, notice: str = ""
) -> HTMLResponse:
    return _detail(request, session, staff, plan_id, notice=notice)


def _failed(
    request: Request,
    session: Session,
    staff: Staff,
    plan_id: int,
    scope: str,
    error: AppError,
    values: Mapping[str, str],
) -> HTMLResponse:
    """The plan page again, with the message next to the field of the form that failed."""
    key = f"{scope}.{error.field or 'form'}"
    return _detail(
        request,
        session,
        staff,
        plan_id,
        errors={key: _error_text(request, error)},
        values={f"{scope}.{k}": v for k, v in values.items()},
        status_code=error.status_code,
    )


@router.post("/plans/{plan_id}/title", response_class=HTMLResponse, response_model=None)
def save_title(
    request: Request,
    plan_id: int,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    values = {"title": _field(form, "title")}
    try:
        plan_service.update_plan(session, staff.user, plan_id, values["title"])
    except (plan_service.PlanInvalid, plan_service.PlanConflict) as error:
        return _failed(request, session, staff, plan_id, "plan", error, values)
    return _redirect(f"/plans/{plan_id}", "title")


@router.post("/plans/{plan_id}/items", response_class=HTMLResponse, response_model=None)
def add_item(
    request: Request,
    plan_id: int,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    values = {k: _field(form, k) for k in ("module_id", "competency", "due_date", "note")}
    try:
        due = _date(values["due_date"])
    except ValueError:
        error = plan_service.PlanInvalid("due_date", *BAD_DATE)
        return _failed(request, session, staff, plan_id, "add", error, values)
    try:
        item = plan_service.add_item(
            session,
            staff.user,
            plan_id,
            values["module_id"],
            values["competency"] or None,
            due,
            values["note"],
        )
    except (plan_service.PlanInvalid, plan_service.PlanConflict) as error:
        return _failed(request, session, staff, plan_id, "add", error, values)
    return _redirect(f"/plans/{plan_id}", "added", f"item-{item.id}")


@router.post("/plans/{plan_id}/items/{item_id}", response_class=HTMLResponse, response_model=None)
def save_item(
    request: Request,
    plan_id: int,
    item_id: int,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    values = {k: _field(form, k) for k in ("due_date", "note")}
    scope = f"item-{item_id}"
    try:
        due = _date(values["due_date"])
    except ValueError:
        error = plan_service.PlanInvalid("due_date", *BAD_DATE)
        return _failed(request, session, staff, plan_id, scope, error, values)
    try:
        plan_service.update_item(
            session, staff.user, plan_id, item_id, due_date=due, owner_note=values["note"]
        )
    except plan_service.PlanInvalid as error:
        return _failed(request, session, staff, plan_id, scope, error, values)
    return _redirect(f"/plans/{plan_id}", "saved", scope)


@router.post("/plans/{plan_id}/items/{item_id}/remove")
def remove_item(
    plan_id: int, item_id: int, session: SessionDep, staff: WebStaff, _csrf: CsrfChecked
) -> RedirectResponse:
    plan_service.remove_item(session, staff.user, plan_id, item_id)
    return _redirect(f"/plans/{plan_id}", "removed")


@router.post(
    "/plans/{plan_id}/items/{item_id}/status", response_class=HTMLResponse, response_model=None
)
def set_status(
    request: Request,
    plan_id: int,
    item_id: int,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    values = {"status": _field(form, "status")}
    scope = f"item-{item_id}"
    try:
        plan_service.set_status(session, staff.user, plan_id, item_id, values["status"])
    except plan_service.PlanInvalid as error:
        return _failed(request, session, staff, plan_id, scope, error, values)
    return _redirect(f"/plans/{plan_id}", "status", scope)


@router.post(
    "/plans/{plan_id}/items/{item_id}/evidence", response_class=HTMLResponse, response_model=None
)
def add_evidence(
    request: Request,
    plan_id: int,
    item_id: int,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    values = {"text": _field(form, "text")}
    scope = f"item-{item_id}"
    try:
        plan_service.add_evidence(session, staff.user, plan_id, item_id, values["text"])
    except plan_service.PlanInvalid as error:
        return _failed(request, session, staff, plan_id, scope, error, values)
    return _redirect(f"/plans/{plan_id}", "evidence", scope)


@router.get("/plans/teams/{team_id}", response_class=HTMLResponse)
def team_page(request: Request, team_id: int, session: SessionDep, staff: WebStaff) -> HTMLResponse:
    view = plan_progress.team_view(session, staff.user, team_id)
    return _page(request, staff, "team.html", {"team": view})


# ── catalogue ───────────────────────────────────────────────────────────────────────────


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    rubric: str = "",
    competency: str = "",
    level: str = "",
) -> HTMLResponse:
    errors: dict[str, str] = {}
    chosen_level = int(level) if level.isascii() and level.isdigit() else None
    if level and chosen_level is None:
        errors["level"] = _text(request, ("请选择一个等级。", "Choose a level."))
    try:
        found = plan_catalogue.catalogue(settings, rubric or None, competency or None, chosen_level)
    except plan_service.PlanInvalid as error:
        errors[error.field or "competency"] = _error_text(request, error)
        found = plan_catalogue.catalogue(settings)
    needs = (
        plan_catalogue.needs(session, staff.user, settings)
        if plan_service.is_hr(staff.user)
        else None
    )
    context = {
        "catalogue": found,
        "needs": needs,
        "errors": errors,
        "values": {"competency": competency, "level": level},
    }
    return _page(request, staff, "catalogue.html", context, status_code=422 if errors else 200)


# ── practice ────────────────────────────────────────────────────────────────────────────


def _practice_page(
    request: Request,
    session: Session,
    settings: SettingsDep,
    staff: Staff,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    overview = practice_service.overview(session, staff.user, settings)
    return _page(
        request,
        staff,
        "practice.html",
        {"overview": overview, "error": error},
        status_code=status_code,
    )


@router.get("/practice", response_class=HTMLResponse)
def practice_page(
    request: Request, session: SessionDep, settings: SettingsDep, staff: WebStaff
) -> HTMLResponse:
    return _practice_page(request, session, settings, staff)


@router.post("/practice", response_class=HTMLResponse, response_model=None)
def start_practice(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    try:
        run = practice_service.start(session, staff.user, settings, _field(form, "competency"))
    except (plan_service.PlanInvalid, plan_service.PlanConflict) as failed:
        return _practice_page(
            request,
            session,
            settings,
            staff,
            error=_error_text(request, failed),
            status_code=failed.status_code,
        )
    return _redirect(f"/practice/{run.id}")


def _session_page(
    request: Request,
    session: Session,
    staff: Staff,
    session_id: int,
    *,
    answered: str = "",
    error: str | None = None,
    selected: tuple[str, ...] = (),
    status_code: int = 200,
) -> HTMLResponse:
    view = practice_service.get_session_view(session, staff.user, session_id)
    latest = next((a for a in view.answered if a.question.id == answered), None)
    context = {
        "run": view,
        "latest": latest,
        "error": error,
        "selected": selected,
    }
    return _page(request, staff, "practice_session.html", context, status_code=status_code)


@router.get("/practice/{session_id}", response_class=HTMLResponse)
def practice_session_page(
    request: Request, session_id: int, session: SessionDep, staff: WebStaff, answered: str = ""
) -> HTMLResponse:
    return _session_page(request, session, staff, session_id, answered=answered)


@router.post("/practice/{session_id}/answer", response_class=HTMLResponse, response_model=None)
def answer_practice(
    request: Request,
    session_id: int,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> HTMLResponse | RedirectResponse:
    item_id = _field(form, "item_id")
    selected = tuple(v for v in form.getlist("selected") if isinstance(v, str))
    try:
        practice_service.answer(session, staff.user, session_id, item_id, selected)
    except plan_service.PlanInvalid as failed:
        return _session_page(
            request,
            session,
            staff,
            session_id,
            error=_error_text(request, failed),
            selected=selected,
            status_code=failed.status_code,
        )
    target = f"/practice/{session_id}?{urlencode({'answered': item_id})}"
    return RedirectResponse(target + "#feedback", status_code=303)
