"""Retention: anonymise candidates whose assessments all ended more than N days ago.

A candidate is due when none of their assessments is still running and the latest one
ended (see `people.ended_at`) at least N days ago; a candidate never invited is due N days
after being added. Anonymised candidates are never picked again, so a run is idempotent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments.models import Assessment, Candidate
from app.errors import InvalidInput
from app.privacy import audit, erasure
from app.privacy.people import ended_at

ACTOR = "retention"
MAX_DAYS = 100 * 366


@dataclass(frozen=True)
class RetentionRun:
    days: int
    cutoff: datetime
    candidate_ids: tuple[int, ...]
    dry_run: bool

    def summary(self) -> str:
        count = len(self.candidate_ids)
        if self.dry_run:
            return (
                f"would anonymise {count} candidate(s) whose assessments ended more than "
                f"{self.days} day(s) ago (dry run: nothing changed)"
            )
        return (
            f"anonymised {count} candidate(s) whose assessments ended more than "
            f"{self.days} day(s) ago"
        )


def check_days(days: int | None) -> int:
    if days is None:
        raise InvalidInput(
            "no retention period: set YARDSTICK_CANDIDATE_RETENTION_DAYS or pass --days",
            field="days",
        )
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"give 1–{MAX_DAYS} days, not {days}", field="days")
    return days


def due(session: Session, cutoff: datetime, now: datetime) -> list[Candidate]:
    """Candidates not yet anonymised whose data is past `cutoff` (two queries)."""
    candidates = list(
        session.scalars(
            select(Candidate).where(Candidate.anonymised_at.is_(None)).order_by(Candidate.id)
        )
    )
    by_candidate: defaultdict[int, list[Assessment]] = defaultdict(list)
    for assessment in session.scalars(
        select(Assessment)
        .join(Candidate, Candidate.id == Assessment.candidate_id)
        .where(Candidate.anonymised_at.is_(None))
    ):
        by_candidate[assessment.candidate_id].append(assessment)
    found = []
    for candidate in candidates:
        ends = [ended_at(a, now) for a in by_candidate[candidate.id]]
        if any(end is None for end in ends):
            continue
        last = max((end for end in ends if end is not None), default=candidate.created_at)
        if last <= cutoff:
            found.append(candidate)
    return found


def run(session: Session, days: int | None, now: datetime, *, dry_run: bool) -> RetentionRun:
    """Anonymise every due candidate through the erasure code (or only list them)."""
    days = check_days(days)
    cutoff = now - timedelta(days=days)
    candidates = due(session, cutoff, now)
    if not dry_run:
        for candidate in candidates:
            erasure.erase_candidate(session, candidate, ACTOR, now, reason="retention")
        if candidates:
            audit.record(
                session, ACTOR, "retention.run", "candidate", days=days, anonymised=len(candidates)
            )
    return RetentionRun(days, cutoff, tuple(c.id for c in candidates), dry_run)
