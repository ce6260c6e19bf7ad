"""ARCHITECTURE §9 for accounts: CSRF on every cookie form, Argon2id, cookies, caching."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import ApiToken, Role, User, WebSession
from app.accounts.secrets import hash_token
from app.config import Settings
from app.deps import SESSION_COOKIE, app_settings
from app.main import create_app
from tests.conftest import TEST_PASSWORD, Signed, use_session

ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


@dataclass
class Route:
    """A state-changing form of ours, and how to tell that it changed nothing."""

    path: str
    form: dict[str, str]


@pytest.fixture
def signed(make_user: Callable[..., User], sign_in: Callable[[User], Signed]) -> Signed:
    return sign_in(make_user(Role.HR))


@pytest.fixture
def their_token(signed: Signed, db: Session) -> ApiToken:
    _, token = account_service.create_token(db, signed.user, "keep me")
    return token


def _routes(token: ApiToken) -> dict[str, Route]:
    return {
        "logout": Route("/logout", {}),
        "language": Route("/language", {"lang": "zh", "next": "/account"}),
        "create token": Route("/account/tokens", {"name": "forged"}),
        "revoke token": Route(f"/account/tokens/{token.id}/revoke", {}),
    }


@pytest.mark.parametrize("route_name", ["logout", "language", "create token", "revoke token"])
@pytest.mark.parametrize("csrf", [None, "", "wrong-token"])
def test_cookie_forms_refuse_a_missing_or_wrong_csrf_token(
    client: TestClient,
    db: Session,
    signed: Signed,
    their_token: ApiToken,
    route_name: str,
    csrf: str | None,
) -> None:
    route = _routes(their_token)[route_name]
    form = dict(route.form)
    if csrf is not None:
        form["csrf_token"] = csrf

    response = client.post(route.path, data=form, follow_redirects=False)

    assert response.status_code == 403
    assert "did not come from this site" in response.text
    db.expire_all()
    # Nothing changed: still signed in, same language, same single live token.
    assert client.get("/account", follow_redirects=False).status_code == 200
    user = db.get(User, signed.user.id)
    assert user is not None
    assert user.language is None
    live = account_service.list_tokens(db, signed.user)
    assert [t.id for t in live] == [their_token.id]
    assert not any(SESSION_COOKIE in h for h in response.headers.get_list("set-cookie"))
    assert not any(h.startswith("lang=") for h in response.headers.get_list("set-cookie"))


def test_the_same_forms_work_with_the_right_token(
    client: TestClient, db: Session, signed: Signed, their_token: ApiToken
) -> None:
    """The refusals above are about the token, not a route that never works."""
    routes = _routes(their_token)
    for name in ["create token", "revoke token", "language", "logout"]:
        route = routes[name]
        response = client.post(
            route.path, data={**route.form, "csrf_token": signed.csrf}, follow_redirects=False
        )
        assert response.status_code in {201, 303}, (name, response.text)


def test_passwords_are_hashed_with_argon2id_at_owasp_strength(
    make_user: Callable[..., User],
) -> None:
    user = make_user(Role.MEMBER)

    match = ARGON2.match(user.password_hash)

    assert match, user.password_hash
    memory_kib, time_cost, _lanes = (int(g) for g in match.groups())
    assert memory_kib >= 19 * 1024
    assert time_cost >= 2
    assert TEST_PASSWORD not in user.password_hash


def test_session_ids_are_stored_only_hashed(
    client: TestClient, signed: Signed, db: Session
) -> None:
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie

    stored = db.scalars(select(WebSession).where(WebSession.user_id == signed.user.id)).one()

    assert stored.id_hash == hash_token(cookie)
    assert cookie not in {stored.id_hash, stored.csrf_token}


@pytest.mark.parametrize("path", ["/login", "/account", "/account/tokens"])
def test_account_pages_are_never_cached(client: TestClient, signed: Signed, path: str) -> None:
    if path == "/login":
        client.cookies.clear()

    response = client.get(path)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


@pytest.fixture
def production_client(settings: Settings, db: Session) -> Iterator[TestClient]:
    production = settings.model_copy(update={"environment": "production"})

    application = create_app(production)
    use_session(application, db)
    application.dependency_overrides[app_settings] = lambda: production
    with TestClient(application, base_url="https://testserver") as test_client:
        yield test_client


def test_cookies_are_secure_outside_development(
    production_client: TestClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.HR)
    form = production_client.get("/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text)
    assert token

    response = production_client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "login_csrf": token.group(1)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie") + form.headers.get_list("set-cookie")
    session_headers = [h for h in cookies if h.startswith(f"{SESSION_COOKIE}=")]
    assert session_headers
    assert all("Secure" in h for h in cookies), cookies
