"""Closing a cycle: aggregate each ratee's submitted ratings and release the stored results.

A cycle closes when its lead or HR says so, or once it is due: `close_due_cycles` runs from
the command line, and every read of a due cycle closes it first, so nobody sees it open late.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.privacy import audit
from app.reviews.aggregation import GivenRating, Group, aggregate
from app.reviews.common import CycleStatus, RequestStatus, policy_of
from app.reviews.models import ReviewAnswer, ReviewCycle, ReviewRatee, ReviewRequest, ReviewResult
from app.rubrics import service as rubric_service


def rater_key(request_id: int) -> str:
    # Opaque to everyone but this module; aggregation keeps it out of every result it returns.
    return f"request-{request_id}"


def submitted_ratings(session: Session, cycle_ids: Collection[int]) -> dict[int, list[GivenRating]]:
    """ReviewRatee id → the ratings of its approved, submitted requests (one query).

    Nominated and declined requests and unsubmitted drafts are left out.
    """
    if not cycle_ids:
        return {}
    rows = session.execute(
        select(ReviewRequest.ratee_id, ReviewRequest.id, ReviewRequest.group, ReviewAnswer)
        .join(ReviewAnswer, ReviewAnswer.request_id == ReviewRequest.id)
        .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
        .where(
            ReviewRatee.cycle_id.in_(list(cycle_ids)),
            ReviewRequest.status == RequestStatus.APPROVED.value,
            ReviewRequest.submitted_at.is_not(None),
        )
        .order_by(ReviewRequest.id, ReviewAnswer.competency_id)
    )
    found: defaultdict[int, list[GivenRating]] = defaultdict(list)
    for ratee_id, request_id, group, answer in rows:
        if not answer.chosen:
            continue
        found[ratee_id].append(
            GivenRating(
                rater_key=rater_key(request_id),
                group=Group(group),
                competency=answer.competency_id,
                level=answer.level,
                comment=answer.comment,
            )
        )
    return dict(found)


def release(session: Session, cycle: ReviewCycle, now: datetime) -> None:
    """Compute and store every ratee's result with the pinned rubric and the cycle's policy."""
    rubric = rubric_service.get_version(session, cycle.rubric_version)
    policy = policy_of(cycle)
    ratings = submitted_ratings(session, [cycle.id])
    ratees = session.scalars(select(ReviewRatee).where(ReviewRatee.cycle_id == cycle.id)).all()
    stored = {
        r.ratee_id: r
        for r in session.scalars(
            select(ReviewResult).where(ReviewResult.ratee_id.in_([r.id for r in ratees]))
        )
    }
    for ratee in ratees:
        result = aggregate(
            rubric, cycle.rubric_version, cycle.role_id, ratings.get(ratee.id, []), policy
        )
        row = stored.get(ratee.id)
        if row is None:
            row = ReviewResult(ratee_id=ratee.id)
            session.add(row)
        row.rubric_version = cycle.rubric_version
        row.result = result.to_dict()
        row.computed_at = now
    cycle.status = CycleStatus.RELEASED.value
    cycle.closed_at = now
    session.flush()


def _lock(session: Session, cycle_id: int) -> ReviewCycle | None:
    return session.scalar(
        select(ReviewCycle)
        .where(ReviewCycle.id == cycle_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def close_due_cycles(
    session: Session, now: datetime, cycle_ids: Collection[int] | None = None
) -> list[int]:
    """Close and release every open cycle due at or before `now` (only `cycle_ids`, if given).

    Each cycle is locked and re-checked first, so two processes never release one twice.
    Returns the ids closed, in id order.
    """
    query = select(ReviewCycle.id).where(
        ReviewCycle.status == CycleStatus.OPEN.value, ReviewCycle.due_at <= now
    )
    if cycle_ids is not None:
        if not cycle_ids:
            return []
        query = query.where(ReviewCycle.id.in_(list(cycle_ids)))
    closed = []
    for cycle_id in session.scalars(query.order_by(ReviewCycle.id)).all():
        cycle = _lock(session, cycle_id)
        if cycle is not None and cycle.status == CycleStatus.OPEN.value and cycle.due_at <= now:
            release(session, cycle, now)
            audit.record(session, "due date", "review.cycle_closed", "review_cycle", cycle_id)
            closed.append(cycle_id)
    return closed


def close_if_due(session: Session, cycle: ReviewCycle, now: datetime) -> None:
    """Close `cycle` lazily when it is past due and still open (refreshes it in place)."""
    if cycle.status == CycleStatus.OPEN.value and cycle.due_at <= now:
        close_due_cycles(session, now, [cycle.id])
