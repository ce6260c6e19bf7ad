"""Helpers for the report tests: hostile text, a fetch spy, checked renders, and data makers
(a scored hiring assessment, a released 360 cycle) built through the domain services.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import pypdf
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.config import Settings
from app.reports import render
from app.reports import service as report_service
from app.reports.documents import Document
from app.reports.render import FetchRefused, SafeFetcher
from app.reviews import service as review_service
from app.reviews.models import ReviewRatee
from app.rubrics import service as rubric_service
from tests.assessments.staff_helpers import (
    answer_all,
    levels,
    make_assessment,
    make_candidate,
    submit,
    work_samples,
)
from tests.conftest import ROOT, TEST_PASSWORD, _test_password_hash
from tests.reviews.review_helpers import Team, open_cycle, rate

HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel=attachment href="file:///etc/passwd">',
    "background: url(http://127.0.0.1:9/x.png)",
    "<script>alert(1)</script>",
]
HOSTILE_TEXT = "标题：熬夜急救面膜。" + " ".join(HOSTILE)
NOTE = "关键词到位，开头有冲突感。"
_numbers = itertools.count(1)


@dataclass
class FetchSpy:
    calls: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)


@contextmanager
def fetch_spy() -> Iterator[FetchSpy]:
    """Record every URL the report fetcher is asked for, and any file or URL urllib opens."""
    spy = FetchSpy()
    original = SafeFetcher.fetch

    def fetch(self: SafeFetcher, url: str, headers: Any = None) -> Any:
        spy.calls.append(url)
        try:
            return original(self, url, headers)
        except FetchRefused:
            spy.refused.append(url)
            raise

    def opened(self: Any, req: urllib.request.Request) -> Any:
        spy.opened.append(req.full_url)
        raise AssertionError(f"urllib opened {req.full_url}")

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(SafeFetcher, "fetch", fetch)
        monkeypatch.setattr(urllib.request.FileHandler, "file_open", opened)
        monkeypatch.setattr(urllib.request.HTTPHandler, "http_open", opened)
        yield spy


@dataclass
class Rendered:
    pdf: bytes
    again: bytes
    reader: pypdf.PdfReader
    warnings: render.RenderWarnings
    spy: FetchSpy
    seconds: float

    @property
    def pages(self) -> int:
        return len(self.reader.pages)

    @functools.cached_property
    def page_texts(self) -> list[str]:
        # pypdf's extraction is slow with CJK fonts: once per page, then kept.
        return [page.extract_text() for page in self.reader.pages]

    def page_text(self, index: int) -> str:
        return self.page_texts[index]

    @property
    def text(self) -> str:
        return "\n".join(self.page_texts)

    @functools.cached_property
    def flat(self) -> str:
        """The text without any whitespace: lines wrap wherever the layout put them."""
        return "".join(self.text.split())


def rendered(document: Document) -> Rendered:
    """The document as PDF, twice, with every fetch and WeasyPrint warning recorded."""
    with fetch_spy() as spy, render.capture_warnings() as warnings:
        start = time.perf_counter()
        pdf = report_service.pdf(document)
        seconds = time.perf_counter() - start
        again = report_service.pdf(document)
    return Rendered(pdf, again, pypdf.PdfReader(io.BytesIO(pdf)), warnings, spy, seconds)


def flat(text: str) -> str:
    return "".join(text.split())


def scored_assessment(
    db: Session,
    hr: User,
    settings: Settings,
    *,
    name: str = "张伟",
    role: str = "assistant",
    text: str = HOSTILE_TEXT,
    note: str = NOTE,
    rate_samples: bool = True,
    weak: Sequence[str] = (),
) -> Assessment:
    """A submitted assessment; with `rate_samples`, `hr` rates every work sample (best level
    except for `weak` competencies) with `note`, so the result is final."""
    candidate = make_candidate(db, hr, name=name)
    assessment, _ = make_assessment(db, hr, settings, role=role, candidate=candidate)
    answer_all(db, assessment, text=text, weak=weak)
    submit(db, assessment)
    if rate_samples:
        assessment_service.assign_rater(db, hr, assessment.id, hr.id)
        index = rubric_service.get_version(db, assessment.rubric_version).item_index()
        for item_id in work_samples(db, assessment):
            position = 0 if index[item_id].competency in weak else -1
            assessment_service.save_rating(
                db, hr, assessment.id, item_id, levels(db, assessment, item_id, position), note
            )
    return assessment


@dataclass(frozen=True)
class ReleasedReview:
    cycle_id: int
    ratee_id: int
    ratee: User


def released_cycle(
    db: Session,
    settings: Settings,
    team: Team,
    peers_of: Mapping[int, Sequence[int]],
    *,
    self_levels: int | Mapping[str, int | None] = 4,
    others_levels: int | Mapping[str, int | None] = 3,
    comment: str | Mapping[str, str] = "",
) -> dict[int, ReleasedReview]:
    """A released cycle reviewing `team.member(n)` for each n in `peers_of`, rated by
    themself, the lead as manager and the members `peers_of[n]` as peers (who all use
    `others_levels` and `comment`). Returns the reviews by member index."""
    specs = [
        review_service.RateeSpec(
            team.member(n).id, peer_ids=tuple(team.member(p).id for p in peers)
        )
        for n, peers in peers_of.items()
    ]
    cycle_id = open_cycle(db, settings, team, specs).cycle.id
    for n, peers in peers_of.items():
        person = team.member(n)
        rate(db, settings, cycle_id, person, person, self_levels)
        for rater in (team.lead, *(team.member(p) for p in peers)):
            rate(db, settings, cycle_id, person, rater, others_levels, comment)
    review_service.close_cycle(db, team.lead, cycle_id)
    found = {}
    for n in peers_of:
        ratee_id = db.scalar(
            select(ReviewRatee.id).where(
                ReviewRatee.cycle_id == cycle_id, ReviewRatee.user_id == team.member(n).id
            )
        )
        assert ratee_id is not None
        found[n] = ReleasedReview(cycle_id, ratee_id, team.member(n))
    return found


def released_review(
    db: Session,
    settings: Settings,
    team: Team,
    *,
    ratee: int = 0,
    peers: Sequence[int] = (1, 2),
    self_levels: int | Mapping[str, int | None] = 4,
    others_levels: int | Mapping[str, int | None] = 3,
    comment: str | Mapping[str, str] = "",
) -> ReleasedReview:
    """A released cycle reviewing only `team.member(ratee)` (see `released_cycle`)."""
    return released_cycle(
        db,
        settings,
        team,
        {ratee: peers},
        self_levels=self_levels,
        others_levels=others_levels,
        comment=comment,
    )[ratee]


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back at the end, for data shared by a module's tests."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def make_settings(directory: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{directory / 'unused.db'}",
        rubrics_dir=ROOT / "rubrics",
        public_base_url="https://yardstick.example",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
    )


def make_staff(session: Session, role: Role, name: str) -> User:
    """A staff user with the shared test password (hashed once per run)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(account_service, "hash_password", lambda _: _test_password_hash())
        return account_service.create(
            session,
            email=f"{role.value}.{next(_numbers)}@example.com",
            name=name,
            role=role,
            password=TEST_PASSWORD,
        )


def text_of(html: str) -> str:
    """The visible text of preview HTML, whitespace removed (as `Rendered.flat`)."""
    body = html.split("<body>", 1)[1]
    return flat(unescape(re.sub(r"<[^>]+>", " ", body)))
