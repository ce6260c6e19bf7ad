"""The app over its own migrated database with the demo data, for fuzzing the JSON API.

Requests share one connection; each fuzz example runs in a transaction that is rolled back,
so every example sees the same seeded data and nothing outlives the module's database.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app import demo, migrations
from app.accounts import service as account_service
from app.accounts.secrets import hash_password
from app.config import Settings
from app.db import get_session, make_engine
from app.deps import app_settings
from app.main import create_app
from tests.conftest import ROOT, database_url

OPENAPI_PATH = "/api/v1/openapi.json"
# Users the demo creates; the fuzz runs with a personal access token of each.
DEMO_LOGINS = {"hr": "hr@demo.yardstick", "admin": "admin@demo.yardstick"}


def fuzz_settings(url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=url,
        rubrics_dir=ROOT / "rubrics",
        public_base_url="https://yardstick.example",
        secret_key="fuzz-secret-key-that-is-long-enough-0123456789",
    )


@functools.cache
def _demo_password_hash() -> str:
    return hash_password(demo.DEMO_PASSWORD)


@dataclass
class FuzzTarget:
    app: FastAPI
    connection: Connection
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @contextmanager
    def isolated(self) -> Iterator[None]:
        """Whatever the requests inside write is gone afterwards."""
        transaction = self.connection.begin()
        try:
            yield
        finally:
            transaction.rollback()


def _seed(url: str, settings: Settings) -> dict[str, str]:
    engine = make_engine(url)
    try:
        with Session(engine) as session, pytest.MonkeyPatch.context() as patch:
            # Argon2 is slow on purpose and the fuzz signs in with tokens: hash once.
            patch.setattr(account_service, "hash_password", lambda _: _demo_password_hash())
            demo.load(session, settings)
            tokens = {}
            for role, email in DEMO_LOGINS.items():
                user = account_service.get_by_email(session, email)
                assert user is not None, email
                tokens[role], _ = account_service.create_token(session, user, "fuzz")
            session.commit()
        return tokens
    finally:
        engine.dispose()


@contextmanager
def seeded_target(backend: str, directory: Path) -> Iterator[FuzzTarget]:
    with database_url(backend, directory, "fuzz") as url:
        migrations.upgrade(url)
        settings = fuzz_settings(url)
        tokens = _seed(url, settings)
        engine = make_engine(url)
        connection = engine.connect()

        def session_override() -> Iterator[Session]:
            # A savepoint per request: committed when the route succeeds, as in production.
            session = Session(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
            try:
                yield session
                session.commit()
            finally:
                session.close()

        app = create_app(settings)
        app.dependency_overrides[get_session] = session_override
        app.dependency_overrides[app_settings] = lambda: settings
        try:
            yield FuzzTarget(app, connection, tokens)
        finally:
            app.dependency_overrides.clear()
            connection.close()
            engine.dispose()
