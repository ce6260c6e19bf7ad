"""Finding one person's records by email (a staff account and any candidate records), and
whether an assessment or review of them is still running.

The privacy package reads every domain's tables directly: an export or an erasure must see
every row about a person, not what some role may see through the domain services.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.assessments.models import Assessment, Candidate
from app.assessments.states import Status
from app.errors import NotFound
from app.privacy.audit import Person
from app.reviews.common import CycleStatus
from app.reviews.models import ReviewCycle, ReviewRatee


class PersonNotFound(NotFound):
    code = "person_not_found"


@dataclass(frozen=True)
class Records:
    """Everything stored under one email: at most one staff user, any number of candidates."""

    email: str
    user: User | None
    candidates: tuple[Candidate, ...]

    @property
    def people(self) -> list[Person]:
        found = [Person("user", self.user.id)] if self.user else []
        return found + [Person("candidate", c.id) for c in self.candidates]


def normalise(email: str) -> str:
    return email.strip().lower()


def find(session: Session, email: str) -> Records:
    """The records with this email (case-insensitive); PersonNotFound when there are none."""
    email = normalise(email)
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    candidates = tuple(
        session.scalars(
            select(Candidate).where(func.lower(Candidate.email) == email).order_by(Candidate.id)
        )
    )
    if user is None and not candidates:
        raise PersonNotFound(f"no staff user or candidate with email {email}", field="email")
    return Records(email, user, candidates)


def ended_at(assessment: Assessment, now: datetime) -> datetime | None:
    """When the assessment stopped being the candidate's to take; None while it still is.

    Submitted and scored sittings end at submission, revoked ones when revoked, expired
    ones when the link expired (also an invitation still marked invited whose link has run
    out: it is only recorded as expired when someone opens it).
    """
    status = Status(assessment.status)
    if status in (Status.SUBMITTED, Status.SCORED):
        return assessment.submitted_at or assessment.created_at
    if status is Status.REVOKED:
        return assessment.revoked_at or assessment.created_at
    if status is Status.EXPIRED:
        return assessment.link_expires_at or assessment.created_at
    expires = assessment.link_expires_at
    if status is Status.INVITED and expires is not None and expires <= now:
        return expires
    return None


def assessments_of(session: Session, candidate_ids: Sequence[int]) -> list[Assessment]:
    if not candidate_ids:
        return []
    return list(
        session.scalars(
            select(Assessment)
            .where(Assessment.candidate_id.in_(candidate_ids))
            .order_by(Assessment.id)
        )
    )


def running(session: Session, records: Records, now: datetime) -> list[str]:
    """What is still in progress about this person, one line each (empty: nothing is).

    An assessment invited or started and not yet submitted; for staff, an open review cycle
    that reviews them (their results are not released yet).
    """
    problems = [
        f"assessment #{a.id} of candidate #{a.candidate_id} is {a.status}"
        for a in assessments_of(session, [c.id for c in records.candidates])
        if ended_at(a, now) is None
    ]
    if records.user is not None:
        problems += [
            f"review cycle #{cycle_id} reviewing user #{records.user.id} is still open"
            for cycle_id in session.scalars(
                select(ReviewCycle.id)
                .join(ReviewRatee, ReviewRatee.cycle_id == ReviewCycle.id)
                .where(
                    ReviewRatee.user_id == records.user.id,
                    ReviewCycle.status == CycleStatus.OPEN.value,
                )
                .order_by(ReviewCycle.id)
            )
        ]
    return problems
