"""Retention anonymises only candidates whose assessments ended long enough ago; a dry run
changes nothing and a second run finds nothing left to do."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments.models import Candidate
from app.assessments.states import Status
from app.config import Settings
from app.db import utcnow
from app.errors import InvalidInput
from app.privacy import service as privacy_service
from tests.assessments.staff_helpers import make_assessment, make_candidate
from tests.privacy.privacy_helpers import candidate_of, days_ago, events, scored, started
from tests.reviews.review_helpers import MakeUser


@dataclass
class Candidates:
    old_submitted: Candidate
    old_lapsed_link: Candidate
    old_revoked: Candidate
    old_never_invited: Candidate
    recent_submitted: Candidate
    old_but_running: Candidate
    old_but_invited_again: Candidate

    def due(self) -> list[int]:
        return sorted(
            c.id
            for c in (
                self.old_submitted,
                self.old_lapsed_link,
                self.old_revoked,
                self.old_never_invited,
            )
        )

    def kept(self) -> list[Candidate]:
        return [self.recent_submitted, self.old_but_running, self.old_but_invited_again]


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR)


@pytest.fixture
def candidates(db: Session, settings: Settings, hr: User) -> Candidates:
    def submitted(name: str, days: float) -> Candidate:
        assessment = scored(db, hr, settings, name=name)
        assessment.submitted_at = days_ago(days)
        return candidate_of(db, assessment)

    old_submitted = submitted("旧的", 400)
    recent_submitted = submitted("新的", 10)

    lapsed = make_candidate(db, hr, name="链接过期")
    invite, _ = make_assessment(db, hr, settings, candidate=lapsed)
    invite.link_expires_at = days_ago(380)

    revoked = make_candidate(db, hr, name="已撤回")
    withdrawn, _ = make_assessment(db, hr, settings, candidate=revoked)
    withdrawn.status, withdrawn.revoked_at = Status.REVOKED.value, days_ago(390)

    never = make_candidate(db, hr, name="未邀请")
    never.created_at = days_ago(500)

    running = submitted("还在答题", 400)
    started(db, hr, settings, running)

    again = submitted("再次邀请", 400)
    make_assessment(db, hr, settings, candidate=again)
    db.flush()
    return Candidates(old_submitted, lapsed, revoked, never, recent_submitted, running, again)


def test_a_dry_run_lists_the_due_candidates_and_changes_nothing(
    db: Session, candidates: Candidates
) -> None:
    found = privacy_service.run_retention(db, 365, utcnow(), dry_run=True)

    assert sorted(found.candidate_ids) == candidates.due()
    assert found.summary().startswith("would anonymise 4 candidate(s)")
    assert "nothing changed" in found.summary()
    for candidate in db.scalars(select(Candidate)):
        db.refresh(candidate)
        assert candidate.anonymised_at is None
        assert not candidate.name.startswith("Erased")
    assert events(db, "person.erased") == []
    assert events(db, "retention.run") == []


def test_a_run_anonymises_only_the_candidates_past_the_period(
    db: Session, candidates: Candidates
) -> None:
    found = privacy_service.run_retention(db, 365, utcnow(), dry_run=False)

    assert sorted(found.candidate_ids) == candidates.due()
    assert found.summary() == (
        "anonymised 4 candidate(s) whose assessments ended more than 365 day(s) ago"
    )
    for candidate_id in candidates.due():
        candidate = db.get(Candidate, candidate_id)
        assert candidate is not None
        assert candidate.name == f"Erased person #{candidate_id}"
        assert candidate.anonymised_at is not None
    for candidate in candidates.kept():
        db.refresh(candidate)
        assert candidate.anonymised_at is None
        assert not candidate.name.startswith("Erased")
    erased = events(db, "person.erased")
    assert sorted(e.subject_id or 0 for e in erased) == candidates.due()
    assert {e.actor_label for e in erased} == {"retention"}
    assert {e.detail["reason"] for e in erased} == {"retention"}
    [run] = events(db, "retention.run")
    assert run.detail == {"days": 365, "anonymised": 4}


def test_a_second_run_finds_nothing_and_logs_nothing(db: Session, candidates: Candidates) -> None:
    privacy_service.run_retention(db, 365, utcnow(), dry_run=False)
    logged = len(events(db))

    again = privacy_service.run_retention(db, 365, utcnow(), dry_run=False)

    assert again.candidate_ids == ()
    assert again.summary().startswith("anonymised 0 candidate(s)")
    assert len(events(db)) == logged


def test_a_shorter_period_reaches_recent_candidates_too(
    db: Session, candidates: Candidates
) -> None:
    found = privacy_service.run_retention(db, 7, utcnow(), dry_run=True)

    assert sorted(found.candidate_ids) == sorted(
        [*candidates.due(), candidates.recent_submitted.id]
    )


@pytest.mark.parametrize(("days", "message"), [(None, "no retention period"), (0, "give 1–")])
def test_a_missing_or_bad_period_is_refused(db: Session, days: int | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        privacy_service.run_retention(db, days, utcnow(), dry_run=True)
    assert raised.value.field == "days"


def test_the_period_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YARDSTICK_CANDIDATE_RETENTION_DAYS", "180")
    assert Settings().candidate_retention_days == 180
    monkeypatch.setenv("YARDSTICK_CANDIDATE_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="candidate_retention_days"):
        Settings()
