"""Staff accounts: users, login with throttling, browser sessions and API tokens."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.accounts.models import ApiToken, LoginAttempt, Role, User, WebSession
from app.accounts.secrets import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    hash_token,
    needs_rehash,
    new_token,
    verify_password,
)
from app.config import Settings
from app.db import utcnow
from app.errors import AppError, Conflict, InvalidInput, NotFound

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
# Touching last_seen_at on every request would turn every page view into a write.
SEEN_RESOLUTION = timedelta(minutes=1)
# Deliberately loose (one @, a dotted domain, no spaces): the address is a login name here,
# not something we deliver mail to.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Throttled(AppError):
    status_code = 429
    code = "too_many_attempts"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def get_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def list_users(
    session: Session, roles: set[Role] | None = None, *, include_inactive: bool = False
) -> list[User]:
    query = select(User).order_by(User.name, User.id)
    if not include_inactive:
        query = query.where(User.is_active.is_(True))
    if roles:
        query = query.where(User.role.in_([r.value for r in roles]))
    return list(session.scalars(query))


def check_new_email(session: Session, email: str) -> str:
    """The normalised address, if it is well-formed and no account uses it yet."""
    email = normalise_email(email)
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput(f"not an email address: {email!r}", field="email")
    if get_by_email(session, email) is not None:
        raise Conflict(f"a user with email {email} already exists", field="email")
    return email


def create(session: Session, *, email: str, name: str, role: Role, password: str) -> User:
    email = check_new_email(session, email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    user = User(
        email=email,
        name=name.strip() or email,
        role=role.value,
        password_hash=hash_password(password),
        is_active=True,
    )
    session.add(user)
    session.flush()
    return user


def _recent_failures(
    session: Session, column: InstrumentedAttribute[str], value: str, now: datetime
) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                column == value,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.created_at > now - THROTTLE_WINDOW,
            )
        )
        or 0
    )


def authenticate(session: Session, email: str, password: str, address: str) -> User | None:
    """The active user with this email and password, else None (the same for every failure).

    The failed attempt is recorded in `session`: callers answer with an error response
    rather than raising, so the request's transaction commits it and throttling counts it.
    """
    now = utcnow()
    email = normalise_email(email)
    if (
        _recent_failures(session, LoginAttempt.email, email, now) >= MAX_FAILURES_PER_ACCOUNT
        or _recent_failures(session, LoginAttempt.address, address, now) >= MAX_FAILURES_PER_ADDRESS
    ):
        raise Throttled("too many failed attempts; wait 15 minutes and try again")
    user = get_by_email(session, email)
    valid = verify_password(user.password_hash if user else None, password)
    ok = user is not None and user.is_active and valid
    session.add(LoginAttempt(email=email, address=address, succeeded=ok, created_at=now))
    session.flush()
    if not ok or user is None:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(session: Session, user: User, settings: Settings) -> tuple[str, WebSession]:
    """A new session (the old one, if any, is the caller's to end): returns the cookie value."""
    raw = new_token()
    now = utcnow()
    web_session = WebSession(
        id_hash=hash_token(raw),
        user_id=user.id,
        csrf_token=new_token(),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
    )
    session.add(web_session)
    session.flush()
    return raw, web_session


def resolve_session(
    session: Session, raw: str, settings: Settings
) -> tuple[User, WebSession] | None:
    """The live session and its user, or None if unknown, revoked, idle too long or too old."""
    web_session = session.get(WebSession, hash_token(raw))
    now = utcnow()
    if (
        web_session is None
        or web_session.revoked_at is not None
        or web_session.expires_at <= now
        or web_session.last_seen_at + timedelta(minutes=settings.session_idle_minutes) <= now
    ):
        return None
    user = session.get(User, web_session.user_id)
    if user is None or not user.is_active:
        return None
    if now - web_session.last_seen_at >= SEEN_RESOLUTION:
        web_session.last_seen_at = now
    return user, web_session


def end_session(session: Session, raw: str) -> None:
    web_session = session.get(WebSession, hash_token(raw))
    if web_session is not None and web_session.revoked_at is None:
        web_session.revoked_at = utcnow()


def set_language(user: User, language: str) -> None:
    user.language = language


def deactivate(session: Session, user: User) -> tuple[int, int]:
    """Lock the account out and revoke its live sessions and tokens: (sessions, tokens) revoked.

    Revoking as well as deactivating means a later reactivation cannot revive old credentials.
    """
    now = utcnow()
    user.is_active = False
    sessions = list(
        session.scalars(
            select(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
        )
    )
    tokens = list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    for web_session in sessions:
        web_session.revoked_at = now
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(sessions), len(tokens)


def create_token(session: Session, user: User, name: str) -> tuple[str, ApiToken]:
    """A personal access token; the raw value is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("give the token a name of 1–100 characters", field="name")
    raw = "ys_" + new_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw), prefix=raw[:10])
    session.add(token)
    session.flush()
    return raw, token


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_token(session: Session, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    # Someone else's token is "not found", so ids reveal nothing.
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("no such token")
    token.revoked_at = utcnow()


def user_for_token(session: Session, raw: str) -> User | None:
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(raw), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= SEEN_RESOLUTION:
        token.last_used_at = now
    return user
