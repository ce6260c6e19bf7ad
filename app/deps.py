"""Annotated dependency aliases that make route signatures read like sentences.

API routes accept a bearer token or the browser session (state changes by session then need
the `X-CSRF-Token` header); pages accept the browser session and redirect to login without.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import Role, User, WebSession
from app.config import Settings, get_settings
from app.db import get_engine, get_session, transaction
from app.errors import AppError, Forbidden

SESSION_COOKIE = "ys_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# scope="function": the session commits before the response is sent, so a client never
# sees a success for a write that then fails to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class OwnTransaction:
    """How a route that does all its database work in one worker-thread call
    (`db.run_in_slot`) opens its transaction there; and the engine it may write through on
    the event loop instead, when no worker thread is needed (None: never)."""

    open: Transaction
    engine: Engine | None = None


async def one_transaction() -> OwnTransaction:
    """The busiest route takes this instead of `SessionDep`: the session dependency's set-up
    and tear-down on the event loop cost more than that route's own database work. Tests
    override this beside `get_session`.
    """
    return OwnTransaction(transaction, get_engine())


TransactionDep = Annotated[OwnTransaction, Depends(one_transaction)]


async def app_settings() -> Settings:
    """The settings as a dependency (tests override this one).

    Checks without I/O are coroutines so that FastAPI runs them on the event loop: a plain
    function dependency costs a trip to the thread pool on every request.
    """
    return get_settings()


SettingsDep = Annotated[Settings, Depends(app_settings)]


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"


class CsrfFailed(AppError):
    status_code = 403
    code = "csrf_failed"


class LoginRequired(Exception):
    """A page needs a signed-in user; the app answers with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Staff:
    """The signed-in staff user and, for browser sessions, the session (with its CSRF token)."""

    user: User
    web_session: WebSession | None

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    @property
    def id(self) -> int:
        return self.user.id

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def csrf_token(self) -> str:
        return self.web_session.csrf_token if self.web_session else ""


def _from_request(request: Request, session: Session, settings: Settings) -> Staff | None:
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, raw = authorization.partition(" ")
        user = (
            account_service.user_for_token(session, raw.strip())
            if scheme.lower() == "bearer"
            else None
        )
        if user is None:
            raise Unauthenticated("invalid, expired or revoked token")
        return Staff(user, None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = account_service.resolve_session(session, cookie, settings)
    return Staff(*found) if found else None


def _csrf_matches(staff: Staff, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(staff.csrf_token, supplied or "")


def optional_staff(request: Request, session: SessionDep, settings: SettingsDep) -> Staff | None:
    staff = _from_request(request, session, settings)
    # Pages and error pages rendered later in this request show who is signed in.
    request.state.staff = staff
    return staff


async def api_staff(
    request: Request, staff: Annotated[Staff | None, Depends(optional_staff)]
) -> Staff:
    if staff is None:
        raise Unauthenticated("sign in or send `Authorization: Bearer <token>`")
    if (
        staff.web_session is not None
        and request.method not in SAFE_METHODS
        and not _csrf_matches(staff, request.headers.get(CSRF_HEADER))
    ):
        raise CsrfFailed("missing or wrong X-CSRF-Token header")
    return staff


async def web_staff(
    request: Request, staff: Annotated[Staff | None, Depends(optional_staff)]
) -> Staff:
    if staff is None or staff.web_session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return staff


async def verify_csrf(request: Request, staff: Annotated[Staff, Depends(web_staff)]) -> None:
    """Cookie-authenticated form posts must echo the session's CSRF token."""
    form = await request.form()
    supplied = form.get(CSRF_FIELD)
    supplied = supplied if isinstance(supplied, str) else request.headers.get(CSRF_HEADER)
    if not _csrf_matches(staff, supplied):
        raise CsrfFailed("the form has expired or did not come from this site; reload and retry")


def _require(base: Callable[..., Staff], roles: tuple[Role, ...]) -> Callable[..., Staff]:
    # A default, not Annotated: postponed annotations can't name this closure's `base`.
    def dependency(staff: Staff = Depends(base)) -> Staff:  # noqa: B008
        if not staff.has_role(*roles):
            raise Forbidden("your role does not allow this")
        return staff

    return dependency


HR_ROLES = (Role.HR, Role.ADMIN)

ApiStaff = Annotated[Staff, Depends(api_staff)]
ApiHr = Annotated[Staff, Depends(_require(api_staff, HR_ROLES))]
ApiAdmin = Annotated[Staff, Depends(_require(api_staff, (Role.ADMIN,)))]
WebStaff = Annotated[Staff, Depends(web_staff)]
WebHr = Annotated[Staff, Depends(_require(web_staff, HR_ROLES))]
WebAdmin = Annotated[Staff, Depends(_require(web_staff, (Role.ADMIN,)))]
CsrfChecked = Annotated[None, Depends(verify_csrf)]
MaybeStaff = Annotated[Staff | None, Depends(optional_staff)]
