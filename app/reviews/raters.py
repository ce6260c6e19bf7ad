"""Who rates whom once a cycle is open: the lead adds raters, ratees nominate peers for
themselves and the lead (HR, for the lead's own review) decides; reminders of who is pending.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.reviews import access, briefs, closing, views
from app.reviews.aggregation import GROUPS, Group
from app.reviews.common import (
    REQUEST_STATUS_LABELS,
    RequestStatus,
    group_label,
    policy_of,
    require_managing_role,
)
from app.reviews.cycles import ASSIGNABLE_GROUPS, cycle_view, request_order, require_open
from app.reviews.models import ReviewCycle, ReviewRatee, ReviewRequest, TeamMember


def _insert(session: Session, request: ReviewRequest, rater_name: str) -> None:
    # The unique (ratee, rater) constraint settles a race the checks before cannot see.
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"{rater_name} has already been asked to rate this person", field="rater_id"
        ) from None


def _existing(session: Session, ratee_id: int, rater_id: int) -> ReviewRequest | None:
    return session.scalar(
        select(ReviewRequest).where(
            ReviewRequest.ratee_id == ratee_id, ReviewRequest.rater_id == rater_id
        )
    )


def _already_asked(request: ReviewRequest, rater: User) -> Conflict:
    status = REQUEST_STATUS_LABELS[request.status]["en"].lower()
    return Conflict(
        f"{rater.name} is already on this person's list ({request.group}, {status}); "
        "nobody is asked twice for the same person",
        field="rater_id",
    )


def _ratee(session: Session, cycle: ReviewCycle, user_id: int) -> ReviewRatee | None:
    return session.scalar(
        select(ReviewRatee).where(ReviewRatee.cycle_id == cycle.id, ReviewRatee.user_id == user_id)
    )


def add_rater(
    session: Session, actor: User, cycle_id: int, ratee_user_id: int, rater_id: int, group: str
) -> views.CycleView:
    """Ask `rater_id` to rate a ratee as manager, peer or direct report (lead or HR)."""
    cycle, team = access.get_managed_cycle(session, actor, cycle_id, lock=True)
    if group not in {g.value for g in ASSIGNABLE_GROUPS}:
        known = ", ".join(g.value for g in ASSIGNABLE_GROUPS)
        raise InvalidInput(f"group must be one of {known} (self is automatic)", field="group")
    ratee = _ratee(session, cycle, ratee_user_id)
    if ratee is None:
        raise InvalidInput("this person is not reviewed in this cycle", field="ratee_id")
    access.require_not_own_review(actor, ratee_user_id)
    require_open(cycle, utcnow())
    rater = session.get(User, rater_id)
    if rater is None or not rater.is_active:
        raise InvalidInput(f"no active staff user with id {rater_id}", field="rater_id")
    if rater_id == ratee_user_id:
        raise InvalidInput("nobody rates themselves as a peer, report or manager", field="rater_id")
    if (found := _existing(session, ratee.id, rater_id)) is not None:
        raise _already_asked(found, rater)
    request = ReviewRequest(
        ratee_id=ratee.id,
        rater_id=rater_id,
        group=group,
        status=RequestStatus.APPROVED.value,
        created_at=utcnow(),
    )
    _insert(session, request, rater.name)
    return cycle_view(session, actor, cycle, team)


def nominate(session: Session, actor: User, cycle_id: int, rater_id: int) -> views.CycleView:
    """A ratee proposes a teammate as a peer for their own review; the lead then decides."""
    cycle, team = access.get_cycle(session, actor, cycle_id, lock=True)
    ratee = _ratee(session, cycle, actor.id)
    if ratee is None:
        raise Forbidden("only people reviewed in this cycle nominate peers, for themselves")
    require_open(cycle, utcnow())
    if rater_id == actor.id:
        raise InvalidInput(
            "you rate yourself in the self group; nominate colleagues as peers", field="rater_id"
        )
    rater = session.get(User, rater_id)
    member = session.scalar(
        select(TeamMember.id).where(TeamMember.team_id == team.id, TeamMember.user_id == rater_id)
    )
    if rater is None or not rater.is_active or member is None:
        raise InvalidInput(
            f"nominate an active member of {team.name} (no such member: {rater_id})",
            field="rater_id",
        )
    if (found := _existing(session, ratee.id, rater_id)) is not None:
        raise _already_asked(found, rater)
    request = ReviewRequest(
        ratee_id=ratee.id,
        rater_id=rater_id,
        group=Group.PEER.value,
        status=RequestStatus.NOMINATED.value,
        nominated_by_id=actor.id,
        created_at=utcnow(),
    )
    _insert(session, request, rater.name)
    return cycle_view(session, actor, cycle, team)


def decide(session: Session, actor: User, request_id: int, approve: bool) -> views.CycleView:
    """Approve or decline a nomination (the cycle's lead, or HR for the lead's own review)."""
    row = session.execute(
        select(ReviewRequest, ReviewRatee)
        .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
        .where(ReviewRequest.id == request_id)
    ).first()
    if row is None:
        require_managing_role(actor)
        raise NotFound("no such nomination")
    request, ratee = row
    try:
        cycle, team = access.get_managed_cycle(session, actor, ratee.cycle_id, lock=True)
    except NotFound:
        raise NotFound("no such nomination") from None
    access.require_not_own_review(actor, ratee.user_id)
    if request.status != RequestStatus.NOMINATED.value:
        raise Conflict(f"this request is {request.status}, not awaiting a decision")
    require_open(cycle, utcnow())
    request.status = (RequestStatus.APPROVED if approve else RequestStatus.DECLINED).value
    session.flush()
    return cycle_view(session, actor, cycle, team)


# ── reminders ───────────────────────────────────────────────────────────────────────────


def reminders(session: Session, viewer: User, cycle_id: int) -> views.Reminders:
    """Per ratee, who has not submitted yet and which nominations await a decision.

    Participation only (standard in 360 tools): names of the raters still pending, counts
    per group; never an answer, a level or a comment.
    """
    cycle, team = access.get_managed_cycle(session, viewer, cycle_id)
    closing.close_if_due(session, cycle, utcnow())
    policy = policy_of(cycle)
    ratees = session.execute(
        select(ReviewRatee, User)
        .join(User, User.id == ReviewRatee.user_id)
        .where(ReviewRatee.cycle_id == cycle.id)
        .order_by(User.name, User.id)
    ).all()
    by_ratee: defaultdict[int, list[tuple[ReviewRequest, User]]] = defaultdict(list)
    for request, rater in session.execute(
        select(ReviewRequest, User)
        .join(User, User.id == ReviewRequest.rater_id)
        .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
        .where(ReviewRatee.cycle_id == cycle.id)
    ):
        by_ratee[request.ratee_id].append((request, rater))

    def pending(request: ReviewRequest, rater: User) -> views.PendingRater:
        return views.PendingRater(
            request_id=request.id,
            rater=views.PersonBrief(rater.id, rater.name),
            email=rater.email,
            group=request.group,
            group_label=group_label(request.group),
        )

    progress = []
    for ratee, person in ratees:
        own = sorted(by_ratee[ratee.id], key=lambda pair: request_order(*pair))
        approved = [(r, u) for r, u in own if r.status == RequestStatus.APPROVED.value]
        groups = []
        for group in GROUPS:
            asked = [r for r, _ in approved if r.group == group.value]
            needed = policy.min_raters[group]
            groups.append(
                views.GroupProgress(
                    group=group.value,
                    group_label=group_label(group.value),
                    asked=len(asked),
                    submitted=sum(r.submitted_at is not None for r in asked),
                    needed=needed,
                    short_of_raters=group in policy.anonymous_groups and len(asked) < needed,
                )
            )
        progress.append(
            views.RateeProgress(
                user_id=person.id,
                name=person.name,
                groups=tuple(groups),
                pending=tuple(pending(r, u) for r, u in approved if r.submitted_at is None),
                nominations=tuple(
                    pending(r, u) for r, u in own if r.status == RequestStatus.NOMINATED.value
                ),
            )
        )
    return views.Reminders(
        cycle=briefs.cycle_brief(session, cycle, team),
        ratees=tuple(progress),
        pending_total=sum(len(p.pending) for p in progress),
        nominations_total=sum(len(p.nominations) for p in progress),
    )
