"""The admins' pages: the audit log, filtered by action, person and day, newest first."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep, WebAdmin
from app.errors import InvalidInput
from app.privacy import service as privacy_service
from app.privacy.audit import PER_PAGE, EventPage
from app.web.nul_characters import refuse_nul_characters
from app.web.templating import language, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(refuse_nul_characters())])

Msg = tuple[str, str]
FIELD_TEXT: dict[str, Msg] = {
    "action": ("未知的操作类型。", "Unknown action."),
    "person": (
        "请填写邮箱地址，或 user:编号 / candidate:编号。",
        "Give an email address, or user:ID / candidate:ID.",
    ),
    "date_from": (
        "请填写 YYYY-MM-DD 格式的日期，且不晚于结束日期。",
        "Give a date as YYYY-MM-DD, not after the end date.",
    ),
    "date_to": ("请填写 YYYY-MM-DD 格式的日期。", "Give a date as YYYY-MM-DD."),
    "page": ("页码须为正整数。", "The page number must be a whole number from 1."),
}


def _day(value: str, field: str, errors: dict[str, str], lang: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[field] = _text(field, lang)
        return None


def _text(field: str, lang: str) -> str:
    zh, en = FIELD_TEXT[field]
    return zh if lang == "zh" else en


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    staff: WebAdmin,
    action: str = "",
    person: str = "",
    date_from: str = "",
    date_to: str = "",
    page: str = "1",
) -> HTMLResponse:
    lang = language(request)
    errors: dict[str, str] = {}
    day_from = _day(date_from, "date_from", errors, lang)
    day_to = _day(date_to, "date_to", errors, lang)
    number = int(page) if page.isascii() and page.isdigit() and 0 < len(page) < 8 else 0
    if number < 1:
        errors["page"] = _text("page", lang)
    found = EventPage((), 1, PER_PAGE, 0)
    if not errors:
        try:
            found = privacy_service.list_events(
                session,
                staff.user,
                action=action.strip() or None,
                person=person.strip() or None,
                date_from=day_from,
                date_to=day_to,
                page=number,
            )
        except InvalidInput as error:
            field = error.field if error.field in FIELD_TEXT else "person"
            errors[field] = _text(field, lang)
    filters = {
        "action": action.strip(),
        "person": person.strip(),
        "date_from": date_from.strip(),
        "date_to": date_to.strip(),
    }
    kept = {k: v for k, v in filters.items() if v}

    def page_url(n: int) -> str:
        return "/admin/audit?" + urlencode({**kept, "page": n})

    return render(
        request,
        "admin/audit.html",
        {
            "found": found,
            "filters": filters,
            "errors": errors,
            "actions": privacy_service.ACTIONS,
            "previous_url": page_url(found.page - 1) if found.page > 1 else None,
            "next_url": page_url(found.page + 1) if found.page < found.pages else None,
        },
        staff=staff,
        status_code=422 if errors else 200,
    )
