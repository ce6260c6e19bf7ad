"""The candidate list and a result page with 100 and 10,000 candidates: SQL statements and time.

A handful of sittings are answered, rated and scored through the services; the rest are
bulk-inserted copies of them (answers and stored result included). Run with `make bench`;
prints figures, asserts nothing (goals in tests/bench/README.md).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import benchkit
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.assessments import results
from app.assessments import service as assessment_service
from app.assessments.models import (
    Answer,
    Assessment,
    AssessmentResult,
    Candidate,
    RaterAssignment,
    Rating,
)
from app.assessments.states import Status, transition
from app.config import Settings
from app.db import get_session, make_engine, utcnow
from app.deps import SESSION_COOKIE, app_settings
from app.main import create_app
from app.rubrics import service as rubric_service

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

SIZES = (100, 10_000)
SCORED_SAMPLE = 12  # sittings answered, rated and scored through the services
BATCH = 2_000
RUBRIC = "new_media_operator"
ROLES = ("assistant", "specialist", "lead")
REPEATS = 2  # best of: the least disturbed run is the truest figure
PASSWORD = "bench password that is long enough"
SECRET = "bench-secret-key-0123456789abcdefghijklmnopq"


@dataclass
class Sitting:
    """A scored sitting whose rows the bulk copies repeat."""

    assessment: dict[str, Any]
    answers: list[dict[str, Any]]
    result: dict[str, Any]


class Statements:
    """Counts the SQL statements an engine sends while `counting()` is open."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self.active = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        if self.active:
            self.count += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.count, self.active = 0, True
        try:
            yield
        finally:
            self.active = False


def _settings(url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=url,
        rubrics_dir=benchkit.ROOT / "rubrics",
        public_base_url="https://yardstick.example",
        secret_key=SECRET,
    )


def _answer_and_rate(session: Session, assessment: Assessment, raters: list[User]) -> None:
    rng = random.Random(assessment.id)
    rubric = rubric_service.get_version(session, assessment.rubric_version)
    index = rubric.item_index()
    for item_id in assessment.item_ids:
        item = index[item_id]
        if item.is_choice:
            count = 1 if item.select == "single" else rng.randint(1, len(item.options))
            chosen = [o.id for o in rng.sample(list(item.options), count)]
            session.add(Answer(assessment_id=assessment.id, item_id=item_id, selected=chosen))
            continue
        text = f"标题：熬夜党的20分钟急救面膜 ({item_id})"
        session.add(Answer(assessment_id=assessment.id, item_id=item_id, text=text))
        for rater in raters:
            session.add(
                Rating(
                    assessment_id=assessment.id,
                    item_id=item_id,
                    rater_id=rater.id,
                    criteria={c.id: rng.choice(c.levels).id for c in item.criteria},
                    note="清晰",
                )
            )
    for rater in raters:
        session.add(RaterAssignment(assessment_id=assessment.id, user_id=rater.id))
    now = utcnow()
    assessment.status = transition(assessment.status, Status.IN_PROGRESS)
    assessment.status = transition(assessment.status, Status.SUBMITTED)
    assessment.started_at = assessment.submitted_at = now
    session.flush()
    results.compute(session, assessment)


def _scored_sample(session: Session, hr: User, settings: Settings) -> tuple[list[Sitting], int]:
    raters = [
        User(email=f"rater{n}@example.com", name=f"评分人 {n}", role="lead", password_hash="!")
        for n in range(2)
    ]
    session.add_all(raters)
    session.flush()
    sittings: list[Sitting] = []
    first_id = 0
    for n in range(SCORED_SAMPLE):
        candidate = assessment_service.create_candidate(
            session, hr, f"样本候选人 {n}", f"sample{n}@example.com"
        )
        assessment, _ = assessment_service.create_assessment(
            session, hr, candidate.id, RUBRIC, ROLES[n % len(ROLES)], 60, 14, settings
        )
        _answer_and_rate(session, assessment, raters)
        first_id = first_id or assessment.id
        stored = session.get_one(AssessmentResult, assessment.id)
        sittings.append(
            Sitting(
                assessment={
                    column: getattr(assessment, column)
                    for column in (
                        "rubric_id",
                        "rubric_version",
                        "role_id",
                        "status",
                        "seed",
                        "item_ids",
                        "time_limit_minutes",
                        "started_at",
                        "submitted_at",
                        "scored_at",
                    )
                },
                answers=[
                    {"item_id": a.item_id, "selected": a.selected, "text": a.text}
                    for a in session.scalars(
                        select(Answer).where(Answer.assessment_id == assessment.id)
                    )
                ],
                result={
                    column: getattr(stored, column)
                    for column in (
                        "rubric_version",
                        "final",
                        "overall_level",
                        "fit",
                        "recommendation",
                        "result",
                        "computed_at",
                    )
                },
            )
        )
    return sittings, first_id


def _bulk_copies(session: Session, hr: User, sittings: list[Sitting], start: int, end: int) -> None:
    """Candidates start … end-1, each with a copy of a sample sitting, in a few big inserts."""
    pattern = cycle(sittings)
    for low in range(start, end, BATCH):
        numbers = range(low, min(end, low + BATCH))
        chosen = [next(pattern) for _ in numbers]
        now = utcnow()
        candidate_ids = session.scalars(
            insert(Candidate).returning(Candidate.id, sort_by_parameter_order=True),
            [
                {
                    "name": f"候选人 {n}",
                    "email": f"candidate{n}@example.com",
                    "note": "",
                    "created_by_id": hr.id,
                    "created_at": now,
                }
                for n in numbers
            ],
        ).all()
        assessment_ids = session.scalars(
            insert(Assessment).returning(Assessment.id, sort_by_parameter_order=True),
            [
                {**s.assessment, "candidate_id": c, "created_by_id": hr.id, "created_at": now}
                for s, c in zip(chosen, candidate_ids, strict=True)
            ],
        ).all()
        session.execute(
            insert(Answer),
            [
                {**answer, "assessment_id": a, "saved_at": now}
                for s, a in zip(chosen, assessment_ids, strict=True)
                for answer in s.answers
            ],
        )
        session.execute(
            insert(AssessmentResult),
            [{**s.result, "assessment_id": a} for s, a in zip(chosen, assessment_ids, strict=True)],
        )
        session.commit()


def _best(statements: Statements, run: Callable[[], object], warm: bool) -> tuple[int, float]:
    """Fewest statements and shortest time over REPEATS runs, after a warm-up run if `warm`.

    The warm-up fills the caches a running server has (the parsed rubric); the fewest
    statements leave out the once-a-minute "last seen" update of the staff session.
    """
    if warm:
        run()
    counts, timings = [], []
    for _ in range(REPEATS):
        with statements.counting():
            started = time.perf_counter()
            run()
            timings.append(time.perf_counter() - started)
        counts.append(statements.count)
    return min(counts), min(timings)


@dataclass
class Figure:
    name: str
    statements: int
    seconds: float
    size: str = ""


def _measure(
    engine: Engine,
    statements: Statements,
    client: TestClient | None,
    hr_id: int,
    result_id: int,
    warm: bool,
) -> list[Figure]:
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    figures: list[Figure] = []

    def service(name: str, call: Callable[[Session, User], object]) -> None:
        def run() -> None:
            with sessions() as session:
                call(session, session.get_one(User, hr_id))

        figures.append(Figure(name, *_best(statements, run, warm)))

    service("list_assessments() (all rows)", lambda s, u: assessment_service.list_assessments(s, u))
    service(
        "list_assessments(sort=level)",
        lambda s, u: assessment_service.list_assessments(s, u, sort="level", descending=True),
    )
    service("page_assessments()", lambda s, u: assessment_service.page_assessments(s, u))
    service(
        "page_assessments(level, page 2)",
        lambda s, u: assessment_service.page_assessments(
            s, u, sort="level", descending=True, page=2
        ),
    )
    service("status_counts()", lambda s, u: assessment_service.status_counts(s, u))
    service(
        "get_result_view()",
        lambda s, u: assessment_service.get_result_view(s, u, result_id),
    )
    if client is None:
        return figures
    for name, path in (
        ("GET /staff (home, counts)", "/staff"),
        ("GET /staff/assessments", "/staff/assessments"),
        ("GET …?sort=level&page=2", "/staff/assessments?sort=level&descending=1&page=2"),
        ("GET …/{id}/result", f"/staff/assessments/{result_id}/result"),
    ):
        figures.append(_page(statements, client, name, path, warm))
    return figures


def _page(statements: Statements, client: TestClient, name: str, path: str, warm: bool) -> Figure:
    sizes: list[int] = []

    def fetch() -> None:
        reply = client.get(path)
        assert reply.status_code == 200, (path, reply.status_code)
        sizes.append(len(reply.content))

    count, seconds = _best(statements, fetch, warm)
    return Figure(name, count, seconds, f"{sizes[-1] / 1024:,.0f} KiB")


def _client(engine: Engine, settings: Settings, hr_id: int) -> TestClient | None:
    """The staff pages over `engine`, signed in as HR; None when the list page is not built."""
    with warnings.catch_warnings():
        # Starlette prefers the httpx2 fork for TestClient; the project pins httpx.
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    application = create_app(settings)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)

    def session_dependency() -> Iterator[Session]:
        with sessions() as session:
            yield session
            session.commit()

    application.dependency_overrides[get_session] = session_dependency
    application.dependency_overrides[app_settings] = lambda: settings
    client = TestClient(application)
    with sessions() as session:
        raw, _ = account_service.start_session(session, session.get_one(User, hr_id), settings)
        session.commit()
    client.cookies.set(SESSION_COOKIE, raw)
    return None if client.get("/staff/assessments").status_code == 404 else client


def run_backend(backend: str) -> None:
    with (
        tempfile.TemporaryDirectory() as scratch,
        benchkit.private_database(backend, Path(scratch), "lists") as url,
    ):
        benchkit.migrate(url)
        settings = _settings(url)
        engine = make_engine(url)
        statements = Statements(engine)
        try:
            started = time.perf_counter()
            with Session(engine, expire_on_commit=False) as session:
                hr = account_service.create(
                    session, email="hr@example.com", name="王芳", role=Role.HR, password=PASSWORD
                )
                sittings, result_id = _scored_sample(session, hr, settings)
                session.commit()
            client = _client(engine, settings, hr.id)
            setup = time.perf_counter() - started
            measured: dict[int, list[Figure]] = {}
            count = SCORED_SAMPLE
            for size in SIZES:
                started = time.perf_counter()
                with Session(engine, expire_on_commit=False) as session:
                    _bulk_copies(session, session.get_one(User, hr.id), sittings, count, size)
                setup += time.perf_counter() - started
                count = size
                warm = size == SIZES[0]  # the caches stay warm for the larger size
                measured[size] = _measure(engine, statements, client, hr.id, result_id, warm)
            _print(backend, measured, setup)
        finally:
            engine.dispose()


def _print(backend: str, measured: dict[int, list[Figure]], setup: float) -> None:
    small, large = (measured[size] for size in SIZES)
    print(f"\n{backend} (setup {setup:.1f} s; time is the best of {REPEATS})")
    print(
        f"{'':<33}{'SQL statements':>16}{'time, ms':>20}{'page size':>22}\n"
        f"{'':<33}{SIZES[0]:>8,}{SIZES[1]:>8,}{SIZES[0]:>10,}{SIZES[1]:>10,}"
        f"{SIZES[0]:>11,}{SIZES[1]:>11,}"
    )
    for a, b in zip(small, large, strict=True):
        constant = "constant" if a.statements == b.statements else "GROWS"
        print(
            f"{a.name:<33}{a.statements:>8}{b.statements:>8}{a.seconds * 1000:>10.1f}"
            f"{b.seconds * 1000:>10.1f}{a.size:>11}{b.size:>11}  {constant}"
        )
    if not any(figure.name.startswith("GET") for figure in small):
        print("(the staff list page is not in this build: the HTTP rows are left out)")
    sys.stdout.flush()


def main() -> None:
    print(
        f"candidate list and result page: SQL statements and time with {SIZES[0]:,} and "
        f"{SIZES[1]:,} candidates (one scored sitting each)"
    )
    for backend in benchkit.backends():
        run_backend(backend)


if __name__ == "__main__":
    main()
