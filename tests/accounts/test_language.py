"""The interface language: chosen on any page, remembered by cookie and on the account."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from tests.conftest import TEST_PASSWORD, Signed

YEAR = 365 * 24 * 3600


def lang_cookie_header(headers: list[str]) -> str:
    return next(h for h in headers if h.startswith("lang="))


def test_an_anonymous_choice_is_remembered_by_cookie(client: TestClient) -> None:
    response = client.post(
        "/language", data={"lang": "zh", "next": "/login"}, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    header = lang_cookie_header(response.headers.get_list("set-cookie"))
    assert header.startswith("lang=zh;")
    assert f"Max-Age={YEAR}" in header
    assert "SameSite=lax" in header
    page = client.get("/login", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in page.text
    assert "员工登录" in page.text


def test_the_choice_only_leads_back_to_this_site(client: TestClient) -> None:
    for target in ["https://evil.example/", "//evil.example", "/\\evil.example"]:
        response = client.post(
            "/language", data={"lang": "en", "next": target}, follow_redirects=False
        )
        assert response.headers["location"] == "/"


def test_an_unknown_language_is_refused(client: TestClient) -> None:
    response = client.post("/language", data={"lang": "fr", "next": "/"}, follow_redirects=False)

    assert response.status_code == 422
    assert "lang must be one of zh, en" in response.text
    assert "lang" not in response.cookies


def test_a_signed_in_choice_is_stored_on_the_account(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
) -> None:
    signed = sign_in(make_user(Role.HR))

    response = client.post(
        "/language",
        data={"lang": "zh", "next": "/account", "csrf_token": signed.csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.cookies.get("lang") == "zh"
    db.refresh(signed.user)
    assert signed.user.language == "zh"
    assert (
        client.get("/api/v1/me", headers={"X-CSRF-Token": signed.csrf}).json()["language"] == "zh"
    )


def test_the_stored_language_wins_over_another_devices_cookie(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    db: Session,
) -> None:
    user = make_user(Role.HR)
    user.language = "zh"
    db.flush()
    sign_in(user)
    client.cookies.set("lang", "en")

    page = client.get("/account")

    assert '<html lang="zh-CN">' in page.text
    assert "我的账户" in page.text


def test_signing_in_brings_the_stored_language_along(
    client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    user = make_user(Role.HR)
    user.language = "zh"
    db.flush()
    form = client.get("/login", headers={"Accept-Language": "en"})
    token = re.search(r'name="login_csrf" value="([^"]+)"', form.text)
    assert token

    response = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "login_csrf": token.group(1)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.cookies.get("lang") == "zh"


def test_accept_language_decides_until_someone_chooses(client: TestClient) -> None:
    assert (
        '<html lang="zh-CN">'
        in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
    )
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "de, en"}).text


@pytest.mark.parametrize(
    ("lang", "markers"),
    [
        ("zh", ["员工登录", "我的账户", "个人访问令牌"]),
        ("en", ["Staff sign-in", "Account", "Personal access tokens"]),
    ],
)
def test_account_pages_render_in_both_languages(
    client: TestClient,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
    lang: str,
    markers: list[str],
) -> None:
    client.cookies.set("lang", lang)
    html_lang = "zh-CN" if lang == "zh" else "en"
    login_page = client.get("/login")
    assert f'<html lang="{html_lang}">' in login_page.text
    assert markers[0] in login_page.text

    sign_in(make_user(Role.MEMBER))
    for path, marker in [("/account", markers[1]), ("/account/tokens", markers[2])]:
        page = client.get(path)
        assert page.status_code == 200
        assert f'<html lang="{html_lang}">' in page.text
        assert marker in page.text
