"""Sessions end where they should on the API too, and error answers (404, 405, 422, 500)
carry the security headers; what tests/accounts and the route matrix cover is not repeated.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User, WebSession
from app.accounts.secrets import hash_token
from app.config import Settings
from app.db import get_session
from app.deps import SESSION_COOKIE, app_settings
from app.main import create_app
from tests.accounts.test_login import CSRF, LOGIN_CSRF, login, page_with, session_cookie
from tests.conftest import TEST_PASSWORD, MakeUser, Signed
from tests.security.route_matrix import header_problems

SECRET = "connection string with a password in it"


def api_with(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    return client.get("/api/v1/me").status_code


# ── sessions ────────────────────────────────────────────────────────────────────────────


def test_a_session_planted_before_sign_in_is_dead_on_the_api_after_it(
    client: TestClient, make_user: MakeUser, sign_in: Callable[[User], Signed]
) -> None:
    user = make_user(Role.MEMBER)
    sign_in(user)  # e.g. set by someone else before the person signs in
    planted = client.cookies.get(SESSION_COOKIE)
    assert planted is not None
    assert api_with(client, planted) == 200
    client.cookies.clear()
    form = LOGIN_CSRF.search(client.get("/login").text)
    assert form

    client.cookies.set(SESSION_COOKIE, planted)
    signed = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "login_csrf": form.group(1)},
        follow_redirects=False,
    )
    fresh = session_cookie(signed)

    assert fresh != planted
    assert api_with(client, planted) == 401
    assert api_with(client, fresh) == 200


def test_after_logout_the_old_cookie_opens_neither_api_nor_pages(
    client: TestClient, db: Session, make_user: MakeUser
) -> None:
    user = make_user(Role.HR)
    cookie = session_cookie(login(client, user.email, TEST_PASSWORD))
    csrf = CSRF.search(page_with(client, cookie).text)
    assert csrf

    response = client.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)

    assert response.status_code == 303
    stored = db.get(WebSession, hash_token(cookie))
    assert stored is not None
    assert stored.revoked_at is not None
    assert api_with(client, cookie) == 401
    assert page_with(client, cookie, "/staff").headers["location"] == "/login?next=/staff"


def test_session_ids_carry_at_least_128_random_bits(
    client: TestClient, make_user: MakeUser
) -> None:
    user = make_user(Role.LEAD)

    first = session_cookie(login(client, user.email, TEST_PASSWORD))
    client.cookies.clear()
    second = session_cookie(login(client, user.email, TEST_PASSWORD))

    assert first != second
    for cookie in (first, second):
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        assert len(raw) * 8 >= 128


# ── headers on error answers ────────────────────────────────────────────────────────────


@pytest.fixture
def failing_client(settings: Settings, db: Session) -> Iterator[TestClient]:
    """The app with two routes that fail, as a bug would; candidate pages lose the database."""
    application = create_app(settings)

    def page_bug() -> None:
        raise RuntimeError(SECRET)

    application.add_api_route("/staff/broken", page_bug)
    application.add_api_route("/api/v1/broken", page_bug)

    def database_down() -> Iterator[Session]:
        raise RuntimeError(SECRET)
        yield db

    application.dependency_overrides[get_session] = database_down
    application.dependency_overrides[app_settings] = lambda: settings
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/staff/broken", "/api/v1/broken", "/take/some-token"])
def test_server_errors_carry_the_security_headers_and_no_detail(
    failing_client: TestClient, path: str
) -> None:
    response = failing_client.get(path)

    assert response.status_code == 500
    assert header_problems(path, response, private=False) == []
    assert SECRET not in response.text
    assert "Traceback" not in response.text


def test_a_server_error_is_json_on_the_api_and_a_page_elsewhere(
    failing_client: TestClient,
) -> None:
    api = failing_client.get("/api/v1/broken")
    page = failing_client.get("/staff/broken")

    assert api.json()["detail"]["code"] == "server_error"
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>500</h1>" in page.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/api/v1/no-such-thing", 404),
        ("GET", "/take/no-such-token/section/1", 404),
        ("DELETE", "/login", 405),
        ("GET", "/api/v1/teams", 401),
        ("POST", "/take/no-such-token/autosave", 422),
        ("GET", "/staff", 303),
        ("GET", "/static/no-such-file.css", 404),
    ],
)
def test_other_errors_and_redirects_carry_them_too(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path, follow_redirects=False)

    assert response.status_code == status
    assert header_problems(path, response, private=False) == []


def test_an_error_page_that_names_the_signed_in_user_is_not_cached(
    client: TestClient, make_user: MakeUser, sign_in: Callable[[User], Signed]
) -> None:
    user = make_user(Role.MEMBER, name="Zhao Lei")
    sign_in(user)

    response = client.get("/staff/assessments")

    assert response.status_code == 403
    assert "Zhao Lei" in response.text
    assert header_problems("/staff/assessments", response, private=True) == []
    assert response.headers["cache-control"] == "no-store"
