"""The hiring flow against real server processes: many candidates at once, racing submits, crashes.

SQLite runs behind one and two app processes (`uvicorn --workers 2`), PostgreSQL behind two.
Every acknowledged (2xx) answer must be in the database exactly once with its last value.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app import migrations
from app.assessments.models import Assessment, AssessmentResult
from app.assessments.states import Status
from app.db import make_engine
from app.rubrics import service as rubric_service
from tests.conftest import POSTGRES_URL, database_url
from tests.load.crowd import (
    Crowd,
    Invite,
    Ledger,
    duplicate_answers,
    invite,
    lost_answers,
    rescored,
    result_rows,
    stored_answers,
)
from tests.load.rawhttp import Client, Reply
from tests.load.server import Server

pytestmark = pytest.mark.slow

CANDIDATES = 200
CONCURRENCY = 50
# How often each of a candidate's questions is saved: some are changed once or twice more.
REVISIONS = (1, 1, 1, 2, 3)
SUBMITTERS = 50
CRASH_CANDIDATES = 40
CRASH_QUESTIONS = 3
SAVING_SECONDS = 1.5  # of saves before the crash, and again after the recovery
RESTART_TIMEOUT = 20.0

Deployment = tuple[str, int]  # backend, app processes
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]
DEPLOYMENTS: list[Deployment] = [("sqlite", 1), *((backend, 2) for backend in BACKENDS)]


def _name(deployment: Deployment) -> str:
    backend, workers = deployment
    return f"{backend}-{workers}-worker{'s' if workers > 1 else ''}"


@dataclass
class Served:
    server: Server
    engine: Engine
    database_url: str


@contextmanager
def serving(deployment: Deployment, directory: Path) -> Iterator[Served]:
    """A migrated private database and a server over it, both gone afterwards."""
    backend, workers = deployment
    with database_url(backend, directory, "load") as url:
        migrations.upgrade(url)
        server = Server(url, directory / "server.log", workers=workers)
        engine = make_engine(url)
        try:
            server.start()
            yield Served(server, engine, url)
        finally:
            server.stop()
            engine.dispose()


@pytest.fixture(scope="module", params=DEPLOYMENTS, ids=_name)
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with serving(request.param, tmp_path_factory.mktemp(_name(request.param))) as running:
        yield running


def assert_all_answered(ledger: Ledger) -> None:
    """No 5xx, no unexpected status, no broken connection."""
    assert ledger.unexpected == []
    assert ledger.server_errors() == 0, ledger.statuses
    assert not ledger.transport_errors, ledger.transport_errors


def assert_nothing_lost(session: Session, ledger: Ledger, ids: list[int]) -> None:
    assert lost_answers(ledger, stored_answers(session, ids)) == []
    assert duplicate_answers(session, ids) == []


def assert_scored_once_each(session: Session, ids: list[int]) -> None:
    assert result_rows(session, ids) == {assessment_id: 1 for assessment_id in ids}
    assessments = session.scalars(select(Assessment).where(Assessment.id.in_(ids))).all()
    rubric = rubric_service.get_version(session, assessments[0].rubric_version)
    for assessment in assessments:
        assert assessment.status in (Status.SUBMITTED, Status.SCORED)
        assert assessment.submitted_at is not None
        stored = session.get_one(AssessmentResult, assessment.id)
        # Scored on exactly the answers kept: none landed after the result was computed.
        assert stored.result == rescored(session, assessment, rubric)


# --- 200 candidates at once ----------------------------------------------------------------


async def _sitting(crowd: Crowd, candidate: Invite, racing: bool) -> None:
    """Start, save each question one or more times (different questions at once), submit.

    A racing candidate sends a last change together with the submit: it is either
    acknowledged (and then part of the result) or refused as too late, never half of each.
    """
    rng = random.Random(candidate.assessment_id)
    questions = rng.sample(candidate.questions, len(REVISIONS))
    await crowd.start(candidate)
    await asyncio.gather(
        *(crowd.revise(candidate, q, times) for q, times in zip(questions, REVISIONS, strict=True))
    )
    if not racing:
        await crowd.submit(candidate)
        return
    last = questions[-1]
    await asyncio.gather(
        crowd.save(candidate, last, last.value(len(REVISIONS) + 1), may_be_closed=True),
        crowd.submit(candidate),
    )


async def _crowd_sitting(base_url: str, candidates: list[Invite]) -> Ledger:
    client = Client(base_url, size=CONCURRENCY)
    crowd = Crowd(client)
    try:
        await asyncio.gather(
            *(_sitting(crowd, c, racing=n % 4 == 0) for n, c in enumerate(candidates))
        )
    finally:
        await client.aclose()
    return crowd.ledger


def test_200_candidates_at_once_lose_no_answer_and_are_scored_once_each(
    deployment: Served,
) -> None:
    candidates = invite(deployment.database_url, deployment.server.base_url, CANDIDATES)
    ids = [c.assessment_id for c in candidates]

    ledger = asyncio.run(_crowd_sitting(deployment.server.base_url, candidates))

    assert_all_answered(ledger)
    assert ledger.statuses[303] == 2 * CANDIDATES  # every start and every submit
    with Session(deployment.engine) as session:
        assert_nothing_lost(session, ledger, ids)
        assert_scored_once_each(session, ids)


# --- 50 submits of one assessment ----------------------------------------------------------


@dataclass
class Storm:
    replies: list[Reply]
    computed_after_first: datetime | None  # as read once the first submit was answered
    page: Reply
    ledger: Ledger


async def _submit_storm(base_url: str, candidate: Invite, engine: Engine) -> Storm:
    client = Client(base_url, size=SUBMITTERS)
    crowd = Crowd(client)
    try:
        await crowd.start(candidate)
        for question in candidate.questions[:3]:
            await crowd.save(candidate, question, question.value(1))
        submits = [crowd.submit(candidate) for _ in range(SUBMITTERS)]
        replies: list[Reply] = []
        computed: datetime | None = None
        for finished in asyncio.as_completed(submits):
            reply = await finished
            if reply is not None:
                replies.append(reply)
            if len(replies) == 1 and computed is None:
                with Session(engine) as session:
                    first = session.get(AssessmentResult, candidate.assessment_id)
                    computed = first.computed_at if first else None
        page = await client.get(candidate.path)
    finally:
        await client.aclose()
    return Storm(replies, computed, page, crowd.ledger)


def test_50_submits_of_one_assessment_at_once_score_it_once(deployment: Served) -> None:
    (candidate,) = invite(deployment.database_url, deployment.server.base_url, 1)

    storm = asyncio.run(_submit_storm(deployment.server.base_url, candidate, deployment.engine))

    assert_all_answered(storm.ledger)
    # The first submit and the 49 repeats all end on the confirmation.
    assert [r.status for r in storm.replies] == [303] * SUBMITTERS
    assert {r.headers["location"] for r in storm.replies} == {candidate.path}
    assert storm.page.status == 200
    assert "Thank you" in storm.page.text or "谢谢" in storm.page.text
    with Session(deployment.engine) as session:
        assert result_rows(session, [candidate.assessment_id]) == {candidate.assessment_id: 1}
        stored = session.get_one(AssessmentResult, candidate.assessment_id)
    # Computed by the submit answered first and never again by the others.
    assert storm.computed_after_first is not None
    assert stored.computed_at == storm.computed_after_first


# --- crashes -------------------------------------------------------------------------------


@dataclass
class CrashRun:
    ledger: Ledger
    acknowledged_after_recovery: int


async def _save_through_a_crash(
    base_url: str, candidates: list[Invite], crash: Callable[[], Awaitable[None]]
) -> CrashRun:
    """Keep every candidate saving, crash the server, recover, save on, then submit all."""
    client = Client(base_url, size=CONCURRENCY)
    crowd = Crowd(client)
    try:
        for candidate in candidates:
            await crowd.start(candidate)
        stop = asyncio.Event()
        saving = asyncio.gather(
            *(
                crowd.revise_until(c, q, stop)
                for c in candidates
                for q in c.questions[:CRASH_QUESTIONS]
            )
        )
        await asyncio.sleep(SAVING_SECONDS)
        await crash()
        before = crowd.ledger.statuses[200]
        await asyncio.sleep(SAVING_SECONDS)
        stop.set()
        await saving
        after = crowd.ledger.statuses[200] - before
        for candidate in candidates:
            await crowd.submit(candidate)
    finally:
        await client.aclose()
    return CrashRun(crowd.ledger, after)


def assert_survived(running: Served, run: CrashRun, ids: list[int]) -> None:
    ledger = run.ledger
    assert ledger.unexpected == []  # no 5xx, no timeout, every submit confirmed
    assert ledger.server_errors() == 0, ledger.statuses
    assert sum(ledger.transport_errors.values()) > 0, "the crash broke no request"
    assert run.acknowledged_after_recovery > 0
    with Session(running.engine) as session:
        assert_nothing_lost(session, ledger, ids)
        assert_scored_once_each(session, ids)


async def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RESTART_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {RESTART_TIMEOUT:.0f} s")
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_worker_killed_mid_run_loses_no_acknowledged_answer(backend: str, tmp_path: Path) -> None:
    with serving((backend, 2), tmp_path) as running:
        server = running.server
        candidates = invite(running.database_url, server.base_url, CRASH_CANDIDATES)
        assert len(server.worker_pids()) == 2

        async def kill_one_worker() -> None:
            # The one serving requests: killing an idle worker would break nothing.
            victim = server.busiest_worker()
            os.kill(victim, signal.SIGKILL)
            # uvicorn's supervisor replaces it; the other worker serves meanwhile.
            await _wait_for(
                lambda: len(server.worker_pids()) == 2 and victim not in server.worker_pids(),
                "uvicorn started no new worker",
            )

        run = asyncio.run(_save_through_a_crash(server.base_url, candidates, kill_one_worker))

        assert_survived(running, run, [c.assessment_id for c in candidates])


def test_the_sqlite_server_killed_mid_run_and_restarted_loses_no_acknowledged_answer(
    tmp_path: Path,
) -> None:
    with serving(("sqlite", 1), tmp_path) as running:
        server = running.server
        candidates = invite(running.database_url, server.base_url, CRASH_CANDIDATES)

        async def kill_and_restart() -> None:
            server.kill()
            await asyncio.sleep(0.3)  # saves meanwhile find nobody listening
            await asyncio.to_thread(server.start)  # same file, same port

        run = asyncio.run(_save_through_a_crash(server.base_url, candidates, kill_and_restart))

        assert_survived(running, run, [c.assessment_id for c in candidates])
        with running.engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
