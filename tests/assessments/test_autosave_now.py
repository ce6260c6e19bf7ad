"""Autosaves made on the event loop (`autosave_on_loop`): stored as the worker-thread path
stores them; anything that path would refuse or explain left to it, with nothing stored;
and on SQLite never a wait: while anyone else holds the write lock, the save is left to the
worker-thread path."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import migrations
from app.assessments import candidate as candidate_service
from app.assessments import fast_save
from app.assessments.candidate import Progress
from app.assessments.models import Assessment
from app.db import (
    BUSY_TIMEOUT_SECONDS,
    close_loop_pools,
    get_engine,
    make_engine,
    sqlite_write,
    utcnow,
)
from app.main import create_app
from app.web import candidate as candidate_routes
from tests.assessments.test_fast_save import (
    choice,
    raw_columns,
    save,
    started_sitting,
    stored,
    work_sample,
)
from tests.conftest import BACKENDS, app_database, database_url
from tests.load.crowd import Invite, invite

# Far below the busy timeout: a save that waited for the lock would take seconds.
NO_WAIT_SECONDS = 0.5


def on_loop(
    engine: Engine, made: Invite, answers: dict[str, Any], now: datetime | None = None
) -> Progress | None:
    """`autosave_on_loop` as the route awaits it, in an event loop of its own."""

    async def save_and_close() -> Progress | None:
        try:
            return await candidate_service.autosave_on_loop(
                engine, made.token, answers, now or utcnow()
            )
        finally:
            await close_loop_pools()

    return asyncio.run(save_and_close())


def known_sitting(url: str, engine: Engine) -> Invite:
    """A started sitting whose first answer went through the usual path, as a page's first
    autosave does: this process now knows it."""
    made = started_sitting(url, engine)
    first = choice(made)
    save(engine, made, {first.id: first.value(0)})
    return made


@pytest.fixture(scope="module", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    with database_url(request.param, tmp_path_factory.mktemp("on-loop"), "onloop") as url:
        migrations.upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def sitting(engine: Engine) -> Invite:
    return known_sitting(engine.url.render_as_string(hide_password=False), engine)


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    directory = tmp_path_factory.mktemp("on-loop-sqlite")
    with database_url("sqlite", directory, "now") as url:
        migrations.upgrade(url)
        engine = make_engine(url)
        yield engine, directory / "test.db"
        engine.dispose()


@pytest.fixture
def sqlite_sitting(sqlite_file: tuple[Engine, Path]) -> Invite:
    engine = sqlite_file[0]
    return known_sitting(engine.url.render_as_string(hide_password=False), engine)


def test_a_save_on_the_event_loop_is_stored_as_the_usual_path_stores_it(
    engine: Engine, sitting: Invite
) -> None:
    first, second = choice(sitting), work_sample(sitting)
    answers, now = {first.id: first.value(1), second.id: "初稿\r\n第二行"}, utcnow()
    save(engine, sitting, answers, now)  # through the worker-thread path
    usual = raw_columns(engine, sitting)
    save(engine, sitting, {first.id: first.value(2), second.id: "另一稿"})

    progress = on_loop(engine, sitting, answers, now)  # the first answers again

    assert progress is not None
    assert progress.answered == 2
    assert raw_columns(engine, sitting) == usual


def test_a_sitting_this_process_has_not_seen_is_left_to_the_usual_path(
    engine: Engine, sitting: Invite
) -> None:
    question = choice(sitting)
    fast_save.DRAWN.clear()

    assert on_loop(engine, sitting, {question.id: question.value(1)}) is None
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}


def test_a_refused_answer_is_left_to_the_usual_path_which_says_why(
    engine: Engine, sitting: Invite
) -> None:
    good, bad = choice(sitting), [q for q in sitting.questions if q.options][1]

    found = on_loop(engine, sitting, {good.id: good.value(1), bad.id: ["no-such-option"]})

    assert found is None
    assert stored(engine, sitting) == {good.id: (good.value(0), None)}


def test_a_submitted_sitting_stores_nothing_from_the_event_loop(
    engine: Engine, sitting: Invite
) -> None:
    question = choice(sitting)
    with Session(engine) as session:
        candidate_service.submit(
            session, session.get_one(Assessment, sitting.assessment_id), utcnow()
        )
        session.commit()

    assert on_loop(engine, sitting, {question.id: question.value(1)}) is None
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}


def test_while_another_request_of_the_process_writes_the_save_does_not_wait(
    sqlite_file: tuple[Engine, Path], sqlite_sitting: Invite
) -> None:
    engine, question = sqlite_file[0], choice(sqlite_sitting)
    holding, release = threading.Event(), threading.Event()

    def write_slowly() -> None:
        with sqlite_write(engine):
            holding.set()
            release.wait(timeout=30)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        assert holding.wait(timeout=10)
        started = time.monotonic()
        found = on_loop(engine, sqlite_sitting, {question.id: question.value(1)})
        waited = time.monotonic() - started
    finally:
        release.set()
        writer.join()

    assert found is None
    assert waited < NO_WAIT_SECONDS
    assert stored(engine, sqlite_sitting) == {question.id: (question.value(0), None)}
    # Once the writer is done, the next save goes through.
    assert on_loop(engine, sqlite_sitting, {question.id: question.value(2)}) is not None
    assert stored(engine, sqlite_sitting) == {question.id: (question.value(2), None)}


def test_while_another_process_writes_the_save_does_not_wait(
    sqlite_file: tuple[Engine, Path], sqlite_sitting: Invite
) -> None:
    (engine, path), question = sqlite_file, choice(sqlite_sitting)
    other_process = sqlite3.connect(path, isolation_level=None)
    try:
        other_process.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        found = on_loop(engine, sqlite_sitting, {question.id: question.value(1)})
        waited = time.monotonic() - started
        other_process.execute("COMMIT")
    finally:
        other_process.close()

    assert found is None
    assert waited < NO_WAIT_SECONDS
    assert stored(engine, sqlite_sitting) == {question.id: (question.value(0), None)}
    # The pooled connection it tried waits for the lock again, as every connection does.
    connection = engine.raw_connection()
    try:
        timeout = connection.cursor().execute("PRAGMA busy_timeout").fetchone()[0]
    finally:
        connection.close()
    assert timeout == BUSY_TIMEOUT_SECONDS * 1000


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_route_answers_alike_from_the_event_loop_and_from_a_worker_thread(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threaded: list[str] = []
    run_in_slot = candidate_routes.run_in_slot

    async def watched(work: Callable[[], Any]) -> Any:
        threaded.append("worker thread")
        return await run_in_slot(work)

    monkeypatch.setattr(candidate_routes, "run_in_slot", watched)
    with database_url(backend, tmp_path, "route") as url, app_database(url, monkeypatch):
        (made,) = invite(url, "https://yardstick.example", 1)
        question = choice(made)
        with TestClient(create_app(), base_url="https://yardstick.example") as client:
            started = client.post(
                f"{made.path}/start", data={"consent": "yes"}, follow_redirects=False
            )
            assert started.status_code == 303
            first = client.post(
                f"{made.path}/autosave", json={"answers": {question.id: question.value(0)}}
            )
            second = client.post(
                f"{made.path}/autosave", json={"answers": {question.id: question.value(1)}}
            )
        engine = get_engine()
        saved = stored(engine, made)

    assert threaded == ["worker thread"]  # the first save: the sitting was not known yet
    assert first.status_code == second.status_code == 200
    assert {**first.json(), "saved_at": None} == {**second.json(), "saved_at": None}
    assert second.json()["answered"] == 1
    assert second.headers["cache-control"] == "no-store"
    assert saved == {question.id: (question.value(1), None)}
