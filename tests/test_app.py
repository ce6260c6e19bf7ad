"""The service starts on the shipped rubrics, answers health checks and refuses bad rubrics."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app import db as db_module
from app import migrations
from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.config import Settings
from app.db import make_engine
from app.deps import SESSION_COOKIE, app_settings
from app.main import create_app
from app.rubrics import service as rubric_service
from app.rubrics.loader import RubricError
from app.rubrics.models import RubricVersion
from tests.conftest import SHIPPED_RUBRIC, Signed


def test_health_reports_database_and_rubric_versions(client: TestClient) -> None:
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] in {"sqlite", "postgresql"}
    assert len(body["rubrics"]["new_media_operator"]) == 64


def test_rubric_api_lists_roles_and_targets(client: TestClient) -> None:
    listing = client.get("/api/v1/rubrics").json()
    assert [r["id"] for r in listing] == ["new_media_operator"]
    assert set(listing[0]["roles"]) == {"assistant", "specialist", "lead"}

    detail = client.get("/api/v1/rubrics/new_media_operator").json()
    assert len(detail["competencies"]) == 9
    specialist = next(r for r in detail["role_profiles"] if r["id"] == "specialist")
    assert {t["competency"] for t in specialist["targets"]} == {
        c["id"] for c in detail["competencies"]
    }


def test_unknown_rubric_is_a_clear_404(client: TestClient) -> None:
    response = client.get("/api/v1/rubrics/nope")
    assert response.status_code == 404
    assert response.json()["detail"]["message"] == "no rubric 'nope'"


@pytest.mark.parametrize("path", ["/", "/api/v1/health", "/does-not-exist"])
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("accept", "expected"), [("zh-CN,zh;q=0.9", "新媒体运营"), ("en", "Role")])
def test_home_page_speaks_the_users_language(
    client: TestClient, accept: str, expected: str
) -> None:
    page = client.get("/", headers={"Accept-Language": accept})
    assert page.status_code == 200
    assert expected in page.text


def test_home_page_knows_who_is_signed_in(
    client: TestClient, make_user: Callable[..., User], sign_in: Callable[[User], Signed]
) -> None:
    anonymous = client.get("/", headers={"Accept-Language": "en"})
    assert 'href="/login"' in anonymous.text
    assert "Go to your staff home" not in anonymous.text

    hr = make_user(Role.HR, name="Zhou Li")
    sign_in(hr)
    page = client.get("/", headers={"Accept-Language": "en"})

    assert "Zhou Li" in page.text
    assert 'href="/staff"' in page.text
    assert "Go to your staff home" in page.text
    assert ">Sign in<" not in page.text


def test_service_refuses_to_start_with_an_invalid_rubric(
    tmp_path: Path, settings: Settings
) -> None:
    broken = tmp_path / "rubrics"
    broken.mkdir()
    text = SHIPPED_RUBRIC.read_text(encoding="utf-8").replace(
        "schema_version: 1", "schema_version: 9", 1
    )
    (broken / "new_media_operator.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(RubricError, match=r"new_media_operator\.yaml:"):
        create_app(settings.model_copy(update={"rubrics_dir": broken}))


def test_pinning_stores_a_snapshot_that_rebuilds_the_rubric(db: Session, tmp_path: Path) -> None:
    directory = tmp_path / "rubrics"
    directory.mkdir()
    shutil.copy(SHIPPED_RUBRIC, directory)
    loaded = rubric_service.load_directory(directory)["new_media_operator"]

    rubric_service.pin(db, loaded)
    rubric_service.pin(db, loaded)  # idempotent
    assert db.query(RubricVersion).filter_by(version=loaded.version).count() == 1

    # Editing the file makes a new version; the stored one still gives the old rubric.
    data = yaml.safe_load((directory / "new_media_operator.yaml").read_text(encoding="utf-8"))
    data["description"]["en"] += " (edited)"
    (directory / "new_media_operator.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    newer = rubric_service.load_directory(directory)["new_media_operator"]
    assert newer.version != loaded.version
    assert rubric_service.get_version(db, loaded.version) == loaded.rubric


def test_settings_refuse_a_placeholder_secret_in_production() -> None:
    with pytest.raises(ValueError, match="YARDSTICK_SECRET_KEY"):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="x" * 40).secret_key == "x" * 40


def test_invite_paths_never_leak_the_token_even_on_errors(client: TestClient) -> None:
    response = client.get("/take/not-a-real-token/unknown/page")

    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def test_a_refusal_with_the_real_session_renders_the_error_page(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's own session (rolled back on the error), not the test override."""
    url = f"sqlite:///{tmp_path / 'real.db'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    monkeypatch.setattr(db_module, "get_sessionmaker", lambda: factory)
    with factory.begin() as session:
        member = account_service.create(
            session, email="m@example.com", name="Member Ma", role=Role.MEMBER, password="x" * 12
        )
        raw, _ = account_service.start_session(session, member, settings)

    application = create_app(settings)
    application.dependency_overrides[app_settings] = lambda: settings
    with TestClient(application, raise_server_exceptions=True) as client:
        client.cookies.set(SESSION_COOKIE, raw)
        response = client.get("/staff/assessments")
    engine.dispose()

    assert response.status_code == 403
    assert "Member Ma" in response.text


def test_api_docs_page_may_load_what_it_references_and_nothing_else_does(
    client: TestClient,
) -> None:
    docs = client.get("/api/docs")
    policy = dict(
        part.strip().split(" ", 1) for part in docs.headers["content-security-policy"].split(";")
    )
    scripts = re.findall(r'<script src="(https://[^/"]+)/', docs.text)
    styles = re.findall(r'<link[^>]+rel="stylesheet" href="(https://[^/"]+)/', docs.text)
    icons = re.findall(r'<link[^>]+rel="shortcut icon" href="(https://[^/"]+)/', docs.text)

    assert scripts
    assert all(origin in policy["script-src"] for origin in scripts)
    assert styles
    assert all(origin in policy["style-src"] for origin in styles)
    assert all(origin in policy["img-src"] for origin in icons)
    assert "'unsafe-inline'" in policy["script-src"]  # Swagger UI starts from an inline script
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    # Every other page keeps the strict policy.
    home = client.get("/").headers["content-security-policy"]
    assert "cdn.jsdelivr.net" not in home
    assert "unsafe-inline" not in home
