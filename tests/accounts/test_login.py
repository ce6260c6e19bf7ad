"""Signing in and out through the pages: cookies, rotation, throttling, redirects, login CSRF."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from app.accounts.models import LoginAttempt, Role, User, WebSession
from app.accounts.secrets import hash_token
from app.config import Settings, get_settings
from app.db import get_engine, get_sessionmaker, utcnow
from app.deps import SESSION_COOKIE, app_settings
from app.main import create_app
from tests.conftest import TEST_PASSWORD, Signed

LOGIN_CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
INVALID = "The email or password is incorrect."


def login(
    client: TestClient, email: str, password: str, next_path: str | None = None
) -> httpx.Response:
    """Open the sign-in form and submit it, as a browser would."""
    form = client.get("/login")
    match = LOGIN_CSRF.search(form.text)
    assert match, form.text
    data = {"email": email, "password": password, "login_csrf": match.group(1)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data, follow_redirects=False)


def session_cookie(response: httpx.Response) -> str:
    value = response.cookies.get(SESSION_COOKIE)
    assert value, response.headers
    return value


def page_with(client: TestClient, cookie: str, path: str = "/account") -> httpx.Response:
    """Request `path` carrying only this session cookie (replaying a value a browser held)."""
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    return client.get(path, follow_redirects=False)


def test_login_sets_a_httponly_lax_cookie_and_goes_to_staff_home(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.HR)

    response = login(client, user.email, TEST_PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    header = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")
    )
    attributes = {a.strip().lower() for a in header.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    # 256 random bits, URL-safe: far above the 128-bit floor.
    assert len(session_cookie(response)) >= 43
    assert page_with(client, session_cookie(response)).status_code == 200


def test_email_is_matched_case_insensitively(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.HR, email="mixed@example.com")
    assert login(client, "  Mixed@Example.COM ", TEST_PASSWORD).status_code == 303
    assert user.is_active


def test_session_id_rotates_on_login(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
) -> None:
    user = make_user(Role.HR)
    token = LOGIN_CSRF.search(client.get("/login").text)
    assert token
    sign_in(user)  # e.g. a session an attacker planted before the person signs in
    old = client.cookies.get(SESSION_COOKIE)
    assert old is not None

    response = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "login_csrf": token.group(1)},
        follow_redirects=False,
    )
    new = session_cookie(response)

    assert new != old
    assert page_with(client, old).status_code == 303
    assert page_with(client, new).status_code == 200


def test_logout_kills_the_session_even_if_the_cookie_is_replayed(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.LEAD)
    cookie = session_cookie(login(client, user.email, TEST_PASSWORD))
    csrf = CSRF.search(page_with(client, cookie).text)
    assert csrf

    response = client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert any(
        h.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" in h
        for h in response.headers.get_list("set-cookie")
    )
    replayed = page_with(client, cookie)
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/login")


def test_get_on_logout_changes_nothing(
    client: TestClient, make_user: Callable[..., User], sign_in: Callable[[User], Signed]
) -> None:
    sign_in(make_user(Role.HR))

    assert client.get("/logout", follow_redirects=False).status_code == 405
    assert client.get("/account", follow_redirects=False).status_code == 200


def test_unknown_user_and_wrong_password_get_the_same_answer(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.HR)

    unknown = login(client, "nobody@example.com", TEST_PASSWORD)
    wrong = login(client, user.email, "not the password")

    assert unknown.status_code == wrong.status_code == 401
    assert INVALID in unknown.text
    assert INVALID in wrong.text
    assert SESSION_COOKIE not in unknown.cookies
    assert SESSION_COOKIE not in wrong.cookies
    # The email is kept so the person only retypes the password.
    assert f'value="{user.email}"' in wrong.text
    assert "not the password" not in wrong.text


def test_deactivated_user_cannot_sign_in(
    client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    user = make_user(Role.HR)
    user.is_active = False
    db.flush()

    response = login(client, user.email, TEST_PASSWORD)

    assert response.status_code == 401
    assert INVALID in response.text


def test_empty_fields_are_named(client: TestClient, db: Session) -> None:
    form = client.get("/login")
    token = LOGIN_CSRF.search(form.text)
    assert token

    response = client.post(
        "/login",
        data={"email": "someone@example.com", "password": "", "login_csrf": token.group(1)},
    )

    assert response.status_code == 422
    assert "Enter your password." in response.text
    assert 'value="someone@example.com"' in response.text
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_five_failures_throttle_the_account_even_for_the_right_password(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.HR)
    for _ in range(5):
        assert login(client, user.email, "wrong password!").status_code == 401

    response = login(client, user.email, TEST_PASSWORD)

    assert response.status_code == 429
    assert "wait 15 minutes" in response.text
    assert response.headers["retry-after"] == "900"
    assert SESSION_COOKIE not in response.cookies


def test_throttling_is_per_account(client: TestClient, make_user: Callable[..., User]) -> None:
    target, other = make_user(Role.HR), make_user(Role.HR)
    for _ in range(5):
        login(client, target.email, "wrong password!")

    assert login(client, other.email, TEST_PASSWORD).status_code == 303


def test_failed_attempts_are_recorded(
    client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    user = make_user(Role.HR)

    login(client, user.email, "wrong password!")

    attempts = db.scalars(select(LoginAttempt).where(LoginAttempt.email == user.email)).all()
    assert [a.succeeded for a in attempts] == [False]


@pytest.fixture
def committing_client(
    migrated_engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The app with its real session dependency: each request commits (or not) for real."""
    monkeypatch.setenv(
        "YARDSTICK_DATABASE_URL", migrated_engine.url.render_as_string(hide_password=False)
    )
    caches = (get_settings, get_engine, get_sessionmaker)
    for cache in caches:
        cache.cache_clear()
    application = create_app(settings)
    application.dependency_overrides[app_settings] = lambda: settings
    try:
        with TestClient(application) as test_client:
            yield test_client
    finally:
        get_engine().dispose()
        for cache in caches:
            cache.cache_clear()


def test_a_failed_login_still_commits_its_attempt(
    committing_client: TestClient, migrated_engine: Engine
) -> None:
    email = f"nobody-{uuid4().hex}@example.com"
    try:
        response = login(committing_client, email, "some password")
        assert response.status_code == 401

        with Session(migrated_engine) as fresh:
            count = fresh.scalar(
                select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == email)
            )
        assert count == 1
    finally:
        with migrated_engine.begin() as connection:
            connection.execute(delete(LoginAttempt).where(LoginAttempt.email == email))


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example/path",
    ],
)
def test_next_leading_off_site_goes_to_the_default(
    client: TestClient, make_user: Callable[..., User], next_path: str
) -> None:
    user = make_user(Role.HR)

    response = login(client, user.email, TEST_PASSWORD, next_path=next_path)

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"


def test_next_on_this_site_is_followed_and_kept_by_the_form(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.HR)
    form = client.get("/login", params={"next": "/account/tokens?page=2"})
    assert 'name="next" value="/account/tokens?page=2"' in form.text
    assert 'value="//evil.example"' not in client.get("/login?next=//evil.example").text

    response = login(client, user.email, TEST_PASSWORD, next_path="/account/tokens?page=2")

    assert response.headers["location"] == "/account/tokens?page=2"


def test_pages_send_signed_out_visitors_to_login_and_back(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.MEMBER)
    redirect = client.get("/account/tokens", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/login?next=/account/tokens"

    response = login(client, user.email, TEST_PASSWORD, next_path="/account/tokens")

    assert response.headers["location"] == "/account/tokens"


@pytest.mark.parametrize("supplied", [None, "", "forged-value"])
def test_login_form_without_the_right_login_csrf_token_is_refused(
    client: TestClient, make_user: Callable[..., User], db: Session, supplied: str | None
) -> None:
    user = make_user(Role.HR)
    client.get("/login")  # the browser holds a real login-CSRF cookie
    data = {"email": user.email, "password": TEST_PASSWORD}
    if supplied is not None:
        data["login_csrf"] = supplied

    response = client.post("/login", data=data, follow_redirects=False)

    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert SESSION_COOKIE not in response.cookies
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_login_form_without_the_login_csrf_cookie_is_refused(
    client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.HR)
    token = LOGIN_CSRF.search(client.get("/login").text)
    assert token
    client.cookies.clear()  # a cross-site form can copy the field, never our cookie

    response = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "login_csrf": token.group(1)},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


def _web_session(db: Session, cookie: str) -> WebSession:
    found = db.get(WebSession, hash_token(cookie))
    assert found is not None
    return found


def test_an_idle_session_expires(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
    settings: Settings,
) -> None:
    sign_in(make_user(Role.HR))
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    web_session = _web_session(db, cookie)
    web_session.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes - 5)
    db.flush()
    assert client.get("/account", follow_redirects=False).status_code == 200

    web_session.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    db.flush()

    assert client.get("/account", follow_redirects=False).status_code == 303


def test_a_busy_session_still_ends_at_its_absolute_expiry(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
) -> None:
    sign_in(make_user(Role.HR))
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    web_session = _web_session(db, cookie)
    web_session.last_seen_at = utcnow()
    web_session.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()

    response = client.get("/account", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"


def test_signed_in_visitor_of_the_login_page_goes_on(
    client: TestClient, make_user: Callable[..., User], sign_in: Callable[[User], Signed]
) -> None:
    sign_in(make_user(Role.HR))

    response = client.get("/login", params={"next": "/account"}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account"
