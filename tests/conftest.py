"""Test databases: SQLite always, PostgreSQL when YARDSTICK_TEST_POSTGRES_URL is set.

Each backend is migrated once with `alembic upgrade head`; each test runs in a transaction
that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app import migrations
from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.accounts.secrets import hash_password
from app.config import Settings, get_settings
from app.db import get_engine, get_session, get_sessionmaker, make_engine
from app.deps import SESSION_COOKIE, OwnTransaction, app_settings, one_transaction
from app.main import create_app

# Generation speed and per-example time depend on how loaded the machine is, not on the code
# under test; a property fails on a counterexample only.
hypothesis_settings.register_profile(
    "yardstick", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("yardstick")

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_RUBRIC = ROOT / "rubrics" / "new_media_operator.yaml"
POSTGRES_URL = os.environ.get("YARDSTICK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def _admin(url: str) -> Engine:
    return create_engine(
        make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


def create_postgres_database(suffix: str) -> str:
    """A new, empty database named after YARDSTICK_TEST_POSTGRES_URL's plus `suffix`.

    Each test run gets its own, so two runs against one server never share tables.
    """
    assert POSTGRES_URL is not None
    base = make_url(POSTGRES_URL)
    name = f"{base.database}_{suffix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _admin(POSTGRES_URL)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    admin = _admin(url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def database_url(backend: str, directory: Path, suffix: str = "run") -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'test.db'}"
        return
    url = create_postgres_database(suffix)
    try:
        yield url
    finally:
        drop_postgres_database(url)


@contextmanager
def app_database(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's own settings, engine and sessions on `url`, migrated and committed to, as
    `yardstick` commands and a running server use them (no test transaction around them)."""
    migrations.upgrade(url)
    monkeypatch.setenv("YARDSTICK_DATABASE_URL", url)
    monkeypatch.setenv("YARDSTICK_RUBRICS_DIR", str(ROOT / "rubrics"))
    caches = (get_settings, get_engine, get_sessionmaker)
    for cache in caches:
        cache.cache_clear()
    try:
        yield url
    finally:
        get_engine().dispose()
        for cache in caches:
            cache.cache_clear()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    with database_url(request.param, tmp_path_factory.mktemp(request.param)) as url:
        migrations.upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def db(migrated_engine: Engine) -> Iterator[Session]:
    connection = migrated_engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        rubrics_dir=ROOT / "rubrics",
        public_base_url="https://yardstick.example",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
    )


def use_session(application: FastAPI, db: Session) -> None:
    """Every request of `application` works in the test's session (rolled back after the test):
    through the session dependency and through routes that run their own transaction."""

    def session_override() -> Iterator[Session]:
        yield db
        db.flush()

    @contextmanager
    def in_test_session() -> Iterator[Session]:
        yield db
        db.flush()

    async def transaction_override() -> OwnTransaction:
        return OwnTransaction(in_test_session)

    application.dependency_overrides[get_session] = session_override
    application.dependency_overrides[one_transaction] = transaction_override


@pytest.fixture
def client(settings: Settings, db: Session) -> Iterator[TestClient]:
    """The whole app over the test's rolled-back session."""
    application = create_app(settings)
    use_session(application, db)
    application.dependency_overrides[app_settings] = lambda: settings
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client


TEST_PASSWORD = "correct horse battery staple"


@dataclass
class Signed:
    """A staff user signed in through the browser session: cookie set on the client."""

    user: User
    csrf: str


# What the `make_user` and `sign_in` fixtures give a test.
MakeUser = Callable[..., User]
SignIn = Callable[[User], Signed]


@functools.cache
def _test_password_hash() -> str:
    return hash_password(TEST_PASSWORD)


@pytest.fixture
def make_user(db: Session, monkeypatch: pytest.MonkeyPatch) -> Callable[..., User]:
    counter = iter(range(1, 10_000))
    # Argon2id is slow on purpose; hash the shared test password once per run, not per user.
    monkeypatch.setattr(
        account_service,
        "hash_password",
        lambda p: _test_password_hash() if p == TEST_PASSWORD else hash_password(p),
    )

    def make(role: Role = Role.HR, *, email: str | None = None, name: str | None = None) -> User:
        n = next(counter)
        return account_service.create(
            db,
            email=email or f"{role.value}{n}@example.com",
            name=name or f"{role.value.title()} {n}",
            role=role,
            password=TEST_PASSWORD,
        )

    return make


@pytest.fixture
def token_for(db: Session) -> Callable[[User], dict[str, str]]:
    """API headers carrying a fresh personal access token of `user`."""

    def headers(user: User) -> dict[str, str]:
        raw, _ = account_service.create_token(db, user, "tests")
        return {"Authorization": f"Bearer {raw}"}

    return headers


@pytest.fixture
def sign_in(db: Session, client: TestClient, settings: Settings) -> Callable[[User], Signed]:
    """Put a browser session for `user` on the test client (as the login page would)."""

    def sign(user: User) -> Signed:
        raw, web_session = account_service.start_session(db, user, settings)
        client.cookies.set(SESSION_COOKIE, raw)
        return Signed(user, web_session.csrf_token)

    return sign
