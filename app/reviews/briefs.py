"""Read helpers the review services share: cycle briefs and pinned rubrics, in batched queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.reviews import views
from app.reviews.common import CYCLE_STATUS_LABELS, role_name, t
from app.reviews.models import ReviewCycle, ReviewRatee, Team
from app.rubrics import service as rubric_service
from app.rubrics.spec import Rubric


def rubrics(session: Session, versions: Iterable[str]) -> dict[str, Rubric]:
    """The pinned rubric of each version: one lookup per distinct version, not per row."""
    return {v: rubric_service.get_version(session, v) for v in set(versions)}


def cycle_briefs(
    session: Session, pairs: Sequence[tuple[ReviewCycle, Team]]
) -> list[views.CycleBrief]:
    """Briefs of (cycle, team) pairs, in their order: one query for the ratee counts."""
    if not pairs:
        return []
    counts: dict[int, int] = {
        cycle_id: count
        for cycle_id, count in session.execute(
            select(ReviewRatee.cycle_id, func.count(ReviewRatee.id))
            .where(ReviewRatee.cycle_id.in_([c.id for c, _ in pairs]))
            .group_by(ReviewRatee.cycle_id)
        )
    }
    pinned = rubrics(session, (c.rubric_version for c, _ in pairs))
    return [
        views.CycleBrief(
            id=cycle.id,
            team_id=team.id,
            team_name=team.name,
            name=cycle.name,
            rubric_id=cycle.rubric_id,
            rubric_version=cycle.rubric_version,
            role_id=cycle.role_id,
            role_name=role_name(pinned[cycle.rubric_version], cycle.role_id),
            status=cycle.status,
            status_label=dict(CYCLE_STATUS_LABELS.get(cycle.status, t(cycle.status, cycle.status))),
            due_at=cycle.due_at,
            created_at=cycle.created_at,
            closed_at=cycle.closed_at,
            ratee_count=counts.get(cycle.id, 0),
        )
        for cycle, team in pairs
    ]


def cycle_brief(session: Session, cycle: ReviewCycle, team: Team) -> views.CycleBrief:
    return cycle_briefs(session, [(cycle, team)])[0]
