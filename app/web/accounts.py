"""Sign-in, sign-out, language choice, the account page and personal access tokens (pages)."""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import ApiToken
from app.config import Settings
from app.deps import (
    SESSION_COOKIE,
    CsrfChecked,
    CsrfFailed,
    MaybeStaff,
    SessionDep,
    SettingsDep,
    Staff,
    WebStaff,
)
from app.errors import InvalidInput
from app.web.nul_characters import refuse_nul_characters
from app.web.templating import (
    LANG_COOKIE,
    LANG_COOKIE_MAX_AGE,
    LANGUAGES,
    attach_staff,
    render,
)

router = APIRouter(include_in_schema=False, dependencies=[Depends(refuse_nul_characters())])

STAFF_HOME = "/staff"
LOGIN_CSRF_COOKIE = "ys_login_csrf"
LOGIN_CSRF_MAX_AGE = 3600
_LOGIN_CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_EMAIL_CHARS = 254
# Long enough for any passphrase, short enough that nobody makes us hash megabytes.
MAX_PASSWORD_CHARS = 1024
TOKEN_NOTICES = frozenset({"revoked"})
# Field problems the login template turns into text in the page's language.
REQUIRED, TOO_LONG = "required", "too_long"

FormText = Annotated[str, Form()]


def safe_next(value: str | None, default: str) -> str:
    """`value` if it is a path on this site, else `default`: no open redirects.

    Only `/path` passes: browsers read `//host`, `/\\host` and paths with tabs or newlines
    in them as another site.
    """
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or any(c == "\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    ):
        return default
    return value


def _cookie_secure(settings: Settings) -> bool:
    return not settings.is_development


def _require_csrf(staff: Staff, supplied: str) -> None:
    if not (supplied and hmac.compare_digest(staff.csrf_token, supplied)):
        raise CsrfFailed("the form has expired or did not come from this site; reload and retry")


def _login_page(
    request: Request,
    settings: Settings,
    *,
    email: str = "",
    next_path: str = "",
    problem: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    # Keep an existing double-submit value so sign-in forms open in several tabs all work.
    existing = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    login_csrf = existing if _LOGIN_CSRF_SHAPE.fullmatch(existing) else secrets.token_urlsafe(32)
    context: dict[str, Any] = {
        "email": email,
        "next": next_path,
        "problem": problem,
        "errors": errors or {},
        "login_csrf": login_csrf,
        "retry_minutes": int(account_service.THROTTLE_WINDOW.total_seconds() // 60),
    }
    response = render(
        request, "accounts/login.html", context, status_code=status_code, headers=headers
    )
    response.headers["cache-control"] = "no-store"
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        login_csrf,
        max_age=LOGIN_CSRF_MAX_AGE,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(settings),
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    settings: SettingsDep,
    staff: MaybeStaff,
    next_path: Annotated[str, Query(alias="next")] = "",
) -> Response:
    next_path = safe_next(next_path, "")
    if staff is not None and staff.web_session is not None:
        return RedirectResponse(next_path or STAFF_HOME, status_code=303)
    return _login_page(request, settings, next_path=next_path)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: FormText = "",
    password: FormText = "",
    next_path: Annotated[str, Form(alias="next")] = "",
    login_csrf: FormText = "",
) -> Response:
    next_path = safe_next(next_path, "")
    email = email.strip()
    kept: dict[str, Any] = {"email": email[:MAX_EMAIL_CHARS], "next_path": next_path}
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not (expected and login_csrf and hmac.compare_digest(expected, login_csrf)):
        return _login_page(request, settings, **kept, problem="form_expired", status_code=403)

    errors: dict[str, str] = {}
    if not email:
        errors["email"] = REQUIRED
    elif len(email) > MAX_EMAIL_CHARS:
        errors["email"] = TOO_LONG
    if not password:
        errors["password"] = REQUIRED
    elif len(password) > MAX_PASSWORD_CHARS:
        errors["password"] = TOO_LONG
    if errors:
        return _login_page(request, settings, **kept, errors=errors, status_code=422)

    address = request.client.host if request.client else "unknown"
    try:
        user = account_service.authenticate(session, email, password, address=address)
    except account_service.Throttled:
        retry_after = str(int(account_service.THROTTLE_WINDOW.total_seconds()))
        return _login_page(
            request,
            settings,
            **kept,
            problem="throttled",
            status_code=429,
            headers={"Retry-After": retry_after},
        )
    if user is None:
        # A response, not an exception: the request's transaction then commits the attempt.
        return _login_page(request, settings, **kept, problem="invalid", status_code=401)

    # Rotation: whatever session this browser had before ends here.
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        account_service.end_session(session, previous)
    raw, _ = account_service.start_session(session, user, settings)

    response = RedirectResponse(next_path or STAFF_HOME, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(settings),
    )
    response.delete_cookie(
        LOGIN_CSRF_COOKIE,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(settings),
    )
    if user.language in LANGUAGES:
        _set_language_cookie(response, user.language, settings)
    return response


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: MaybeStaff,
    csrf_token: FormText = "",
) -> RedirectResponse:
    if staff is not None and staff.web_session is not None:
        _require_csrf(staff, csrf_token)
        account_service.end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_cookie_secure(settings)
    )
    return response


def _set_language_cookie(response: Response, lang: str, settings: Settings) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(settings),
    )


@router.post("/language")
def choose_language(
    settings: SettingsDep,
    staff: MaybeStaff,
    lang: FormText = "",
    next_path: Annotated[str, Form(alias="next")] = "",
    csrf_token: FormText = "",
) -> RedirectResponse:
    """Remember the interface language; anonymous visitors have no session a forgery could use."""
    if staff is not None and staff.web_session is not None:
        _require_csrf(staff, csrf_token)
    if lang not in LANGUAGES:
        raise InvalidInput(
            f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}", field="lang"
        )
    if staff is not None:
        account_service.set_language(staff.user, lang)
    response = RedirectResponse(safe_next(next_path, "/"), status_code=303)
    _set_language_cookie(response, lang, settings)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, staff: WebStaff) -> HTMLResponse:
    return render(request, "accounts/account.html", staff=staff)


def _tokens_page(
    request: Request,
    session: Session,
    staff: Staff,
    *,
    name: str = "",
    errors: dict[str, str] | None = None,
    created: tuple[str, ApiToken] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "tokens": account_service.list_tokens(session, staff.user),
        "name": name,
        "errors": errors or {},
        "created_token": created[0] if created else None,
        "created": created[1] if created else None,
        "notice": notice,
    }
    return render(request, "accounts/tokens.html", context, staff=staff, status_code=status_code)


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens_page(
    request: Request, session: SessionDep, staff: WebStaff, notice: str = ""
) -> HTMLResponse:
    return _tokens_page(request, session, staff, notice=notice if notice in TOKEN_NOTICES else None)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request, session: SessionDep, staff: WebStaff, _csrf: CsrfChecked, name: FormText = ""
) -> HTMLResponse:
    try:
        created = account_service.create_token(session, staff.user, name)
    except InvalidInput:
        return _tokens_page(
            request, session, staff, name=name, errors={"name": "invalid"}, status_code=422
        )
    return _tokens_page(request, session, staff, created=created, status_code=201)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: int, session: SessionDep, staff: WebStaff, _csrf: CsrfChecked
) -> RedirectResponse:
    attach_staff(request, staff)
    account_service.revoke_token(session, staff.user, token_id)
    return RedirectResponse("/account/tokens?notice=revoked", status_code=303)
