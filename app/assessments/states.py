"""The assessment life cycle; every status change goes through `transition`.

invited → in_progress → submitted → scored, and expired / revoked as dead ends.
"""

from __future__ import annotations

from enum import StrEnum

from app.errors import Conflict


class Status(StrEnum):
    INVITED = "invited"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    SCORED = "scored"
    EXPIRED = "expired"
    REVOKED = "revoked"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.INVITED: frozenset({Status.IN_PROGRESS, Status.EXPIRED, Status.REVOKED}),
    # A timed-out sitting is submitted with what was saved, so it never "expires".
    Status.IN_PROGRESS: frozenset({Status.SUBMITTED, Status.REVOKED}),
    # Work samples may still be rated (submitted → scored) or rescored (scored → scored);
    # a rater added or a rating changed after scoring reopens the result (scored → submitted).
    Status.SUBMITTED: frozenset({Status.SCORED}),
    Status.SCORED: frozenset({Status.SCORED, Status.SUBMITTED}),
    # HR may re-issue the link of an expired or revoked invitation that was never started.
    Status.EXPIRED: frozenset({Status.INVITED}),
    Status.REVOKED: frozenset({Status.INVITED}),
}

ANSWERS_OPEN = frozenset({Status.IN_PROGRESS})
FINISHED = frozenset({Status.SUBMITTED, Status.SCORED})


def can_transition(current: str, target: Status) -> bool:
    return target in ALLOWED[Status(current)]


def transition(current: str, target: Status) -> Status:
    """Return `target` if the move from `current` is allowed, else raise Conflict."""
    if not can_transition(current, target):
        raise Conflict(f"an assessment that is {current} cannot become {target.value}")
    return target
