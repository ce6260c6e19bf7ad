"""The Jinja2 environment for pages: autoescaped, templates from the top-level folder.

Every page gets `lang`, `t(zh, en)`, `current_path` and the `when` filter; pages rendered
with `render(…, staff=staff)` (or given `staff`) also get `staff` and `csrf_token`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import _TemplateResponse

from app.deps import Staff

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"
LANGUAGES = ("zh", "en")
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def attached_staff(request: Request) -> Staff | None:
    staff = getattr(request.state, "staff", None)
    return staff if isinstance(staff, Staff) else None


def attach_staff(request: Request, staff: Staff | None) -> None:
    """Let templates (error pages included) and `language()` know who is signed in."""
    request.state.staff = staff


def language(request: Request) -> str:
    """The signed-in user's stored choice, else the remembered cookie, else Accept-Language."""
    staff = attached_staff(request)
    stored = staff.user.language if staff is not None else None
    if stored in LANGUAGES:
        return stored
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def current_path(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


@pass_context
def t(context: Context, zh: str, en: str) -> str:
    """`{{ t("中文", "English") }}`: the text in the page's language."""
    return zh if context.get("lang") == "zh" else en


def when(value: datetime | None) -> str:
    """`{{ value|when }}`: a stored time as `2026-11-27 09:30 UTC`, or a dash when unset."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _page_context(request: Request) -> dict[str, Any]:
    context: dict[str, Any] = {"lang": language(request), "current_path": current_path(request)}
    staff = attached_staff(request)
    if staff is not None:
        context["staff"] = staff
        context["csrf_token"] = staff.csrf_token
    return context


class PageTemplates(Jinja2Templates):
    """Page defaults (`lang`, `current_path`, `staff`, `csrf_token`) under what a route passes.

    Unlike Starlette's context processors, which overwrite the route's values, a route's own
    `lang` (say, from a `?lang=` link) wins here.
    """

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        given = dict(context or {})
        if attached_staff(request) is None and isinstance(given.get("staff"), Staff):
            attach_staff(request, given["staff"])
        response = super().TemplateResponse(
            request,
            name,
            {**_page_context(request), **given},
            status_code=status_code,
            headers=headers,
            media_type=media_type,
            background=background,
        )
        if attached_staff(request) is not None:
            # Pages for signed-in staff carry personal data: never keep them in a cache.
            response.headers["cache-control"] = "no-store"
        return response


templates = PageTemplates(directory=TEMPLATE_DIR)
templates.env.globals["t"] = t
templates.env.filters["when"] = when


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    staff: Staff | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page; with `staff` it shows the signed-in header and is marked `no-store`."""
    if staff is not None:
        attach_staff(request, staff)
    return templates.TemplateResponse(
        request, name, dict(context or {}), status_code=status_code, headers=headers
    )
