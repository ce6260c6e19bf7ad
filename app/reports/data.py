"""The reads the reviews service does not offer: a ratee id ↔ its cycle and person.

Reports address a 360 result by its ratee id (`review_ratee.id`, the key of the stored
result); the reviews service addresses it by cycle and person and does the authorization.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.reviews.models import ReviewRatee


def ratee_ref(session: Session, ratee_id: int) -> tuple[int, int] | None:
    """(cycle id, user id) of the ratee, or None; says nothing about who may see it."""
    row = session.execute(
        select(ReviewRatee.cycle_id, ReviewRatee.user_id).where(ReviewRatee.id == ratee_id)
    ).first()
    return None if row is None else (row[0], row[1])


def ratee_id(session: Session, cycle_id: int, user_id: int) -> int | None:
    """The ratee id of `user_id` in `cycle_id`, or None; says nothing about who may see it."""
    return session.scalar(
        select(ReviewRatee.id).where(
            ReviewRatee.cycle_id == cycle_id, ReviewRatee.user_id == user_id
        )
    )
