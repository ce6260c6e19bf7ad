"""What plans read from the hiring and review tables: measured levels, and who leads whom.

Kept in one place so that, as the other services grow these queries, only this module
changes. A staff user and a hiring candidate are the same person when their emails match
(case-insensitively; anonymised candidates never match); a review result counts once its
cycle is released. As every review read does, a cycle past its due date is closed first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.assessments.models import Assessment, AssessmentResult, Candidate
from app.db import utcnow
from app.plans.models import SourceKind
from app.reviews import service as review_service
from app.reviews.models import ReviewCycle, ReviewRatee, ReviewResult, Team, TeamMember

SCORED = "scored"


@dataclass(frozen=True)
class Evidence:
    """Competency levels of one person from one assessment or one released 360 review."""

    kind: SourceKind
    id: int
    # The staff user measured; None when no staff account has the candidate's email.
    user_id: int | None
    rubric_id: str
    rubric_version: str
    role_id: str
    measured_at: datetime
    levels: Mapping[str, float | None]
    # False while an assessment's result is provisional (ratings missing or disputed).
    final: bool
    # The review cycle's name; empty for assessments.
    name: str = ""


def _assessment_levels(result: Mapping[str, Any]) -> dict[str, float | None]:
    return {c: data.get("level") for c, data in result.get("competencies", {}).items()}


def _review_levels(result: Mapping[str, Any]) -> dict[str, float | None]:
    # The 360 level of a competency is Others (ARCHITECTURE §4): self never counts.
    return {c: data.get("others") for c, data in result.get("competencies", {}).items()}


RELEASED = review_service.CycleStatus.RELEASED.value


def _close_due(session: Session, cycle_ids: list[int]) -> None:
    """Release the cycles among `cycle_ids` that are open past their due date."""
    if cycle_ids:
        review_service.close_due_cycles(session, utcnow(), cycle_ids)


def _user_by_email(session: Session, email: str) -> int | None:
    return session.scalar(select(User.id).where(func.lower(User.email) == email.strip().lower()))


def _from_assessment(
    assessment: Assessment, stored: AssessmentResult, user_id: int | None
) -> Evidence:
    return Evidence(
        kind=SourceKind.ASSESSMENT,
        id=assessment.id,
        user_id=user_id,
        rubric_id=assessment.rubric_id,
        rubric_version=stored.rubric_version,
        role_id=assessment.role_id,
        measured_at=assessment.submitted_at or stored.computed_at,
        levels=_assessment_levels(stored.result),
        final=stored.final and assessment.status == SCORED,
    )


def _from_review(
    ratee: ReviewRatee, cycle: ReviewCycle, stored: ReviewResult, closed_at: datetime
) -> Evidence:
    return Evidence(
        kind=SourceKind.REVIEW,
        id=ratee.id,
        user_id=ratee.user_id,
        rubric_id=cycle.rubric_id,
        rubric_version=stored.rubric_version,
        role_id=cycle.role_id,
        measured_at=closed_at,
        levels=_review_levels(stored.result),
        final=True,
        name=cycle.name,
    )


def assessment_evidence(session: Session, assessment_id: int) -> Evidence | None:
    """The levels of a submitted assessment that has a result (final or not); else None."""
    row = session.execute(
        select(Assessment, AssessmentResult, Candidate.email)
        .join(AssessmentResult, AssessmentResult.assessment_id == Assessment.id)
        .join(Candidate, Candidate.id == Assessment.candidate_id)
        .where(Assessment.id == assessment_id, Candidate.anonymised_at.is_(None))
    ).first()
    if row is None:
        return None
    assessment, stored, email = row
    return _from_assessment(assessment, stored, _user_by_email(session, email))


def review_evidence(session: Session, ratee_id: int) -> Evidence | None:
    """The Others levels of a released review result; else None."""
    _close_due(
        session,
        list(session.scalars(select(ReviewRatee.cycle_id).where(ReviewRatee.id == ratee_id))),
    )
    row = session.execute(
        select(ReviewRatee, ReviewCycle, ReviewResult)
        .join(ReviewCycle, ReviewCycle.id == ReviewRatee.cycle_id)
        .join(ReviewResult, ReviewResult.ratee_id == ReviewRatee.id)
        .where(
            ReviewRatee.id == ratee_id,
            ReviewCycle.status == RELEASED,
            ReviewCycle.closed_at.is_not(None),
        )
    ).first()
    if row is None:
        return None
    ratee, cycle, stored = row
    assert cycle.closed_at is not None  # filtered above
    return _from_review(ratee, cycle, stored, cycle.closed_at)


def evidence_of(session: Session, user: User) -> list[Evidence]:
    """Every scored assessment (by email) and released review of `user`, oldest first."""
    found: list[Evidence] = []
    assessments = session.execute(
        select(Assessment, AssessmentResult)
        .join(AssessmentResult, AssessmentResult.assessment_id == Assessment.id)
        .join(Candidate, Candidate.id == Assessment.candidate_id)
        .where(
            func.lower(Candidate.email) == user.email.strip().lower(),
            Candidate.anonymised_at.is_(None),
        )
    )
    found += [_from_assessment(a, r, user.id) for a, r in assessments]
    _close_due(
        session,
        list(
            session.scalars(
                select(ReviewCycle.id)
                .join(ReviewRatee, ReviewRatee.cycle_id == ReviewCycle.id)
                .where(ReviewRatee.user_id == user.id, ReviewCycle.status != RELEASED)
            )
        ),
    )
    reviews = session.execute(
        select(ReviewRatee, ReviewCycle, ReviewResult)
        .join(ReviewCycle, ReviewCycle.id == ReviewRatee.cycle_id)
        .join(ReviewResult, ReviewResult.ratee_id == ReviewRatee.id)
        .where(
            ReviewRatee.user_id == user.id,
            ReviewCycle.status == RELEASED,
            ReviewCycle.closed_at.is_not(None),
        )
    )
    for ratee, cycle, stored in reviews:
        assert cycle.closed_at is not None  # filtered above
        found.append(_from_review(ratee, cycle, stored, cycle.closed_at))
    return sorted(found, key=lambda e: (e.measured_at, e.kind.value, e.id))


def newer_evidence(session: Session, user: User, after: datetime) -> list[Evidence]:
    """Final evidence of `user` measured strictly after `after`, oldest first."""
    return [e for e in evidence_of(session, user) if e.final and e.measured_at > after]


# ── teams ───────────────────────────────────────────────────────────────────────────────


def leads_of(session: Session, user_id: int) -> set[int]:
    """The leads of every team `user_id` is a member of (never the person themself)."""
    return review_service.leads_of(session, user_id)


def members_led_by(session: Session, lead_id: int) -> set[int]:
    """Everyone in a team `lead_id` leads, except the lead."""
    members = session.scalars(
        select(TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.lead_id == lead_id)
    )
    return {member for member in members if member != lead_id}


def get_team(session: Session, team_id: int) -> Team | None:
    return session.get(Team, team_id)


def teams(session: Session, lead_id: int | None = None) -> list[Team]:
    """All teams by name, or those `lead_id` leads."""
    query = select(Team).order_by(Team.name, Team.id)
    if lead_id is not None:
        query = query.where(Team.lead_id == lead_id)
    return list(session.scalars(query))


def team_members(session: Session, team_id: int) -> list[User]:
    """The team's members (not its lead, unless listed as a member too) by name."""
    return list(
        session.scalars(
            select(User)
            .join(TeamMember, TeamMember.user_id == User.id)
            .where(TeamMember.team_id == team_id)
            .order_by(User.name, User.id)
        )
    )
