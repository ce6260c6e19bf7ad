"""Test databases: SQLite always, PostgreSQL when YARDSTICK_TEST_POSTGRES_URL is set.

Each backend is migrated once with `alembic upgrade head`; each test runs in a transaction
that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import migrations
from app.config import Settings, get_settings
from app.db import get_session, make_engine
from app.main import create_app

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_RUBRIC = ROOT / "rubrics" / "new_media_operator.yaml"
POSTGRES_URL = os.environ.get("YARDSTICK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def ensure_postgres_database(url: str) -> None:
    """Create the database named in `url` if the server does not have it yet."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def database_url(backend: str, directory: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory / 'test.db'}"
    assert POSTGRES_URL is not None
    ensure_postgres_database(POSTGRES_URL)
    reset_postgres_schema(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    url = database_url(request.param, tmp_path_factory.mktemp(request.param))
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


@pytest.fixture
def client(settings: Settings, db: Session) -> Iterator[TestClient]:
    """The whole app over the test's rolled-back session."""

    def session_override() -> Iterator[Session]:
        yield db
        db.flush()

    application = create_app(settings)
    application.dependency_overrides[get_session] = session_override
    application.dependency_overrides[get_settings] = lambda: settings
    with TestClient(application, raise_server_exceptions=False) as test_client:
        yield test_client
