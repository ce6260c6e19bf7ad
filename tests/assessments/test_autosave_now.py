"""Autosaves made on the event loop (`autosave_now`, SQLite): stored as the other paths store
them, and never a wait — while anyone else holds the write lock, the save is left to the
worker-thread path and nothing is stored here."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import migrations
from app.assessments import candidate as candidate_service
from app.assessments import fast_save
from app.db import BUSY_TIMEOUT_SECONDS, get_engine, make_engine, sqlite_write, utcnow
from app.main import create_app
from app.web import candidate as candidate_routes
from tests.assessments.test_fast_save import choice, raw_columns, save, stored, work_sample
from tests.conftest import BACKENDS, app_database, database_url
from tests.load.crowd import Invite, invite

# Far below the busy timeout: a save that waited for the lock would take seconds.
NO_WAIT_SECONDS = 0.5


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    directory = tmp_path_factory.mktemp("autosave-now")
    with database_url("sqlite", directory, "now") as url:
        migrations.upgrade(url)
        yield url, directory / "test.db"


@pytest.fixture(scope="module")
def engine(database: tuple[str, Path]) -> Iterator[Engine]:
    engine = make_engine(database[0])
    yield engine
    engine.dispose()


@pytest.fixture
def sitting(database: tuple[str, Path], engine: Engine) -> Invite:
    """A started sitting whose first answer went through the usual path, as a page's first
    autosave does: this process now knows it."""
    fast_save.DRAWN.clear()
    (made,) = invite(database[0], "https://yardstick.example", 1)
    with Session(engine) as session:
        assessment = candidate_service.open_invite(session, made.token, utcnow())
        candidate_service.start(session, assessment, utcnow())
        session.commit()
    first = choice(made)
    save(engine, made, {first.id: first.value(0)})
    return made


def test_a_save_on_the_event_loop_is_stored_as_the_usual_path_stores_it(
    engine: Engine, sitting: Invite
) -> None:
    first, second = choice(sitting), work_sample(sitting)
    now = utcnow()
    answers = {first.id: first.value(1), second.id: "初稿\r\n第二行"}
    save(engine, sitting, answers, now)  # through the worker-thread path
    usual = raw_columns(engine, sitting)

    progress = candidate_service.autosave_now(engine, sitting.token, answers, now)

    assert progress is not None
    assert progress.answered == 2
    assert raw_columns(engine, sitting) == usual


def test_a_sitting_this_process_has_not_seen_is_left_to_the_usual_path(
    engine: Engine, sitting: Invite
) -> None:
    question = choice(sitting)
    fast_save.DRAWN.clear()

    assert (
        candidate_service.autosave_now(engine, sitting.token, {question.id: ["a"]}, utcnow())
        is None
    )
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}


def test_a_refused_answer_is_left_to_the_usual_path_which_says_why(
    engine: Engine, sitting: Invite
) -> None:
    question = choice(sitting)

    found = candidate_service.autosave_now(
        engine, sitting.token, {question.id: ["no-such-option"]}, utcnow()
    )

    assert found is None
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}


def test_while_another_request_of_the_process_writes_the_save_does_not_wait(
    engine: Engine, sitting: Invite
) -> None:
    question = choice(sitting)
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
        found = candidate_service.autosave_now(
            engine, sitting.token, {question.id: question.value(1)}, utcnow()
        )
        waited = time.monotonic() - started
    finally:
        release.set()
        writer.join()

    assert found is None
    assert waited < NO_WAIT_SECONDS
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}
    # Once the writer is done, the next save goes through.
    assert candidate_service.autosave_now(
        engine, sitting.token, {question.id: question.value(2)}, utcnow()
    )
    assert stored(engine, sitting) == {question.id: (question.value(2), None)}


def test_while_another_process_writes_the_save_does_not_wait(
    engine: Engine, sitting: Invite, database: tuple[str, Path]
) -> None:
    question = choice(sitting)
    other_process = sqlite3.connect(database[1], isolation_level=None)
    try:
        other_process.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        found = candidate_service.autosave_now(
            engine, sitting.token, {question.id: question.value(1)}, utcnow()
        )
        waited = time.monotonic() - started
        other_process.execute("COMMIT")
    finally:
        other_process.close()

    assert found is None
    assert waited < NO_WAIT_SECONDS
    assert stored(engine, sitting) == {question.id: (question.value(0), None)}
    # The pooled connection it tried waits for the lock again, as every connection does.
    connection = engine.raw_connection()
    try:
        timeout = connection.cursor().execute("PRAGMA busy_timeout").fetchone()[0]
    finally:
        connection.close()
    assert timeout == BUSY_TIMEOUT_SECONDS * 1000


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "sqlite"])
def test_on_a_database_server_saves_are_left_to_the_worker_thread(
    backend: str, tmp_path: Path
) -> None:
    # A save there waits for a round trip to the server: never on the event loop.
    with database_url(backend, tmp_path, "now") as url:
        migrations.upgrade(url)
        engine = make_engine(url)
        try:
            (made,) = invite(url, "https://yardstick.example", 1)
            with Session(engine) as session:
                assessment = candidate_service.open_invite(session, made.token, utcnow())
                candidate_service.start(session, assessment, utcnow())
                session.commit()
            question = choice(made)
            save(engine, made, {question.id: question.value(0)})

            found = candidate_service.autosave_now(
                engine, made.token, {question.id: question.value(1)}, utcnow()
            )

            assert found is None
            assert stored(engine, made) == {question.id: (question.value(0), None)}
        finally:
            engine.dispose()


def test_the_route_answers_alike_from_the_event_loop_and_from_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threaded: list[str] = []
    run_in_slot = candidate_routes.run_in_slot

    async def watched(work: Callable[[], Any]) -> Any:
        threaded.append("worker thread")
        return await run_in_slot(work)

    monkeypatch.setattr(candidate_routes, "run_in_slot", watched)
    with app_database(f"sqlite:///{tmp_path / 'route.db'}", monkeypatch) as url:
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
