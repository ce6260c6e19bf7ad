"""Personal access tokens: made on the page or the API, shown once, stored hashed, revocable."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import ApiToken, Role, User
from tests.conftest import Signed

RAW_TOKEN = re.compile(r"ys_[A-Za-z0-9_-]{43}")


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def create_on_page(client: TestClient, signed: Signed, name: str) -> str:
    response = client.post("/account/tokens", data={"name": name, "csrf_token": signed.csrf})
    assert response.status_code == 201, response.text
    found = RAW_TOKEN.search(response.text)
    assert found, response.text
    return found.group(0)


def test_me_describes_the_token_owner(
    client: TestClient, make_user: Callable[..., User], token_for: Callable[[User], dict[str, str]]
) -> None:
    user = make_user(Role.LEAD, email="lead@example.com", name="李雷")

    response = client.get("/api/v1/me", headers=token_for(user))

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "email": "lead@example.com",
        "name": "李雷",
        "role": "lead",
        "language": None,
    }


def test_api_without_credentials_or_with_a_bad_token_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=bearer("ys_not-a-real-token")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_a_token_made_on_the_page_works_as_bearer_and_is_shown_once(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
) -> None:
    signed = sign_in(make_user(Role.HR))

    raw = create_on_page(client, signed, "weekly report")

    listing = client.get("/account/tokens")
    assert "weekly report" in listing.text
    assert raw[:10] in listing.text
    assert raw not in listing.text
    client.cookies.clear()
    me = client.get("/api/v1/me", headers=bearer(raw))
    assert me.status_code == 200
    assert me.json()["id"] == signed.user.id
    stored = db.scalars(select(ApiToken).where(ApiToken.user_id == signed.user.id)).one()
    assert stored.last_used_at is not None


def test_tokens_are_stored_only_hashed(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
) -> None:
    signed = sign_in(make_user(Role.HR))

    raw = create_on_page(client, signed, "ci")

    stored = db.scalars(select(ApiToken).where(ApiToken.user_id == signed.user.id)).one()
    columns = [getattr(stored, c.key) for c in ApiToken.__table__.columns]
    assert not any(isinstance(value, str) and raw in value for value in columns)
    assert stored.prefix == raw[:10]


def test_a_bad_token_name_is_explained_and_kept(
    client: TestClient, make_user: Callable[..., User], sign_in: Callable[[User], Signed]
) -> None:
    signed = sign_in(make_user(Role.HR))

    response = client.post("/account/tokens", data={"name": "   ", "csrf_token": signed.csrf})

    assert response.status_code == 422
    assert "Give the token a name of 1–100 characters." in response.text
    assert 'aria-invalid="true"' in response.text
    long_name = "x" * 101
    response = client.post("/account/tokens", data={"name": long_name, "csrf_token": signed.csrf})
    assert response.status_code == 422
    assert f'value="{long_name}"' in response.text


def test_revoking_on_the_page_stops_the_token(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
) -> None:
    signed = sign_in(make_user(Role.HR))
    raw = create_on_page(client, signed, "old script")
    token = db.scalars(select(ApiToken).where(ApiToken.user_id == signed.user.id)).one()

    response = client.post(
        f"/account/tokens/{token.id}/revoke",
        data={"csrf_token": signed.csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "The token was revoked" in page.text
    assert "old script" not in page.text
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_someone_elses_token_is_not_found_on_the_page(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
) -> None:
    owner = make_user(Role.HR)
    raw, theirs = account_service.create_token(db, owner, "theirs")
    signed = sign_in(make_user(Role.ADMIN))

    response = client.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": signed.csrf})

    assert response.status_code == 404
    assert "theirs" not in client.get("/account/tokens").text
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200


def test_api_creates_lists_and_revokes_tokens(
    client: TestClient, make_user: Callable[..., User], token_for: Callable[[User], dict[str, str]]
) -> None:
    user = make_user(Role.MEMBER)
    headers = token_for(user)

    created = client.post("/api/v1/tokens", json={"name": "export job"}, headers=headers)

    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "prefix", "created_at", "last_used_at", "token"}
    assert body["token"].startswith(body["prefix"])
    assert client.get("/api/v1/me", headers=bearer(body["token"])).json()["id"] == user.id

    listing = client.get("/api/v1/tokens", headers=headers).json()
    assert {t["name"] for t in listing} == {"tests", "export job"}
    assert all("token" not in t for t in listing)

    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(body["token"])).status_code == 401
    assert {t["name"] for t in client.get("/api/v1/tokens", headers=headers).json()} == {"tests"}
    # Revoking twice: the token is gone as far as anyone can tell.
    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=headers).status_code == 404


def test_api_refuses_another_users_token_id_with_404(
    client: TestClient,
    make_user: Callable[..., User],
    token_for: Callable[[User], dict[str, str]],
    db: Session,
) -> None:
    owner = make_user(Role.HR)
    raw, theirs = account_service.create_token(db, owner, "theirs")
    admin = token_for(make_user(Role.ADMIN))

    response = client.delete(f"/api/v1/tokens/{theirs.id}", headers=admin)

    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "not_found"
    assert client.delete("/api/v1/tokens/999999", headers=admin).json() == response.json()
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200


def test_api_token_input_forbids_unknown_fields(
    client: TestClient, make_user: Callable[..., User], token_for: Callable[[User], dict[str, str]]
) -> None:
    headers = token_for(make_user(Role.HR))
    other = make_user(Role.ADMIN)

    response = client.post(
        "/api/v1/tokens", json={"name": "sneaky", "user_id": other.id}, headers=headers
    )

    assert response.status_code == 422
    assert client.post("/api/v1/tokens", json={"name": ""}, headers=headers).status_code == 422


def test_cookie_authenticated_api_writes_need_the_csrf_header(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
) -> None:
    signed = sign_in(make_user(Role.HR))

    missing = client.post("/api/v1/tokens", json={"name": "forged"})
    wrong = client.post("/api/v1/tokens", json={"name": "forged"}, headers={"X-CSRF-Token": "nope"})

    assert missing.status_code == wrong.status_code == 403
    assert db.scalars(select(ApiToken).where(ApiToken.user_id == signed.user.id)).all() == []
    assert client.get("/api/v1/me").status_code == 200  # reading needs no header
    made = client.post(
        "/api/v1/tokens", json={"name": "real"}, headers={"X-CSRF-Token": signed.csrf}
    )
    assert made.status_code == 201
    revoke = client.delete(f"/api/v1/tokens/{made.json()['id']}")
    assert revoke.status_code == 403
    assert client.get("/api/v1/me", headers=bearer(made.json()["token"])).status_code == 200


def test_a_deactivated_users_token_stops_working(
    client: TestClient,
    make_user: Callable[..., User],
    token_for: Callable[[User], dict[str, str]],
    db: Session,
) -> None:
    user = make_user(Role.HR)
    headers = token_for(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    account_service.deactivate(db, user)

    assert client.get("/api/v1/me", headers=headers).status_code == 401
