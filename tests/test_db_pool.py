"""Pooled PostgreSQL connections: tested after sitting idle, not on every checkout; the
number of requests holding a session at once, as configured."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from app import db
from app.config import Settings
from tests.conftest import POSTGRES_URL, _admin, create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.skipif(POSTGRES_URL is None, reason="needs YARDSTICK_TEST_POSTGRES_URL")


@pytest.fixture
def engine() -> Iterator[Engine]:
    url = create_postgres_database("pool")
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_postgres_database(url)


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real_ping = engine.dialect.do_ping

    def counting_ping(dbapi_connection: Any) -> bool:
        seen.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting_ping)
    return seen


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert isinstance(pid, int)
    return pid


def test_a_connection_cut_while_idle_is_replaced_without_an_error(
    engine: Engine, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)
    admin = _admin(str(engine.url.render_as_string(hide_password=False)))
    with admin.connect() as connection:
        # What a database restart or an idle-connection timeout does to a pooled connection.
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)

    second = _backend_pid(engine)

    assert second != first
    assert len(pings) == 1


def test_a_connection_in_steady_use_is_handed_out_without_a_ping(
    engine: Engine, pings: list[object]
) -> None:
    first = _backend_pid(engine)
    for _ in range(5):
        assert _backend_pid(engine) == first
    assert pings == []


def test_a_connection_idle_past_the_limit_is_pinged_once_per_checkout(
    engine: Engine, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(engine)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(engine) == first
    assert _backend_pid(engine) == first
    assert len(pings) == 2


def test_requests_hold_at_most_the_configured_number_of_sessions_at_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(environment="test", database_session_slots=2)
    monkeypatch.setattr(db, "get_settings", lambda: settings)
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    monkeypatch.setattr(db, "get_sessionmaker", lambda: sessionmaker(bind=engine))
    holding: list[int] = []
    most = 0

    async def request() -> None:
        nonlocal most
        async for _session in db.get_session():
            holding.append(1)
            most = max(most, len(holding))
            await anyio.sleep(0.02)
            holding.pop()

    def work_in_thread() -> None:
        nonlocal most
        with db.transaction() as session:
            session.execute(text("SELECT 1"))
            holding.append(1)
            most = max(most, len(holding))
            time.sleep(0.02)
            holding.pop()

    async def one_call_request() -> None:
        # A route doing all its database work in one worker-thread call takes the same slots.
        await db.run_in_slot(work_in_thread)

    async def six_at_once() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(request)
                group.start_soon(one_call_request)

    anyio.run(six_at_once)
    assert most == 2
    assert not holding
