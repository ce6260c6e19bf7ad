"""Review cycles: opening one for some team members, reading it as each viewer may, closing.

Each ratee rates themself (`self`) and is rated by the team's lead (`manager`, unless the lead
is the ratee) and by the peers and direct reports the lead or HR assign (see `raters`).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict
from app.privacy import audit
from app.reviews import access, briefs, closing, views
from app.reviews.aggregation import (
    DEFAULT_MIN_RATERS,
    GROUPS,
    Group,
    ReviewInputError,
    ReviewPolicy,
)
from app.reviews.common import (
    NAME_MAX,
    REQUEST_STATUS_LABELS,
    CycleStatus,
    FieldErrors,
    RequestStatus,
    group_label,
    policy_of,
)
from app.reviews.models import ReviewCycle, ReviewRatee, ReviewRequest, Team, TeamMember
from app.rubrics import service as rubric_service
from app.rubrics.service import LoadedRubric

DUE_MAX_DAYS = 365
MIN_RATERS_MAX = 20
ASSIGNABLE_GROUPS = (Group.MANAGER, Group.PEER, Group.REPORT)


@dataclass(frozen=True)
class RateeSpec:
    """A team member to review, with the peers and direct reports who rate them."""

    user_id: int
    peer_ids: tuple[int, ...] = ()
    report_ids: tuple[int, ...] = ()


def require_open(cycle: ReviewCycle, now: datetime) -> None:
    if cycle.status != CycleStatus.OPEN.value or cycle.due_at <= now:
        raise Conflict("this review cycle is closed; its results are released")


# ── opening ─────────────────────────────────────────────────────────────────────────────


def _check_rubric(settings: Settings, rubric_id: str | None) -> tuple[LoadedRubric | None, str]:
    loaded = rubric_service.current_rubrics(settings.rubrics_dir)
    known = ", ".join(sorted(loaded))
    if rubric_id is None:
        if len(loaded) == 1:
            return next(iter(loaded.values())), ""
        return None, f"choose a rubric: {known}"
    if rubric_id not in loaded:
        return None, f"no rubric {rubric_id!r} (rubrics: {known})"
    return loaded[rubric_id], ""


def _check_due(due_at: datetime, now: datetime) -> str:
    if due_at.tzinfo is None:
        return "give the due date with a time zone, e.g. 2026-12-01T18:00:00+08:00"
    if due_at <= now:
        return "the due date must be in the future"
    if due_at > now + timedelta(days=DUE_MAX_DAYS):
        return f"the due date must be within {DUE_MAX_DAYS} days"
    return ""


def _check_ratees(
    team: Team, members: Mapping[int, TeamMember], users: Mapping[int, User], ids: list[int]
) -> str:
    if not ids:
        return "choose at least one team member to review"
    if len(set(ids)) != len(ids):
        return "each person can be reviewed once per cycle"
    if outside := [str(u) for u in ids if u not in members]:
        return f"not members of {team.name}: user ids {', '.join(outside)}"
    if inactive := [users[u].name for u in ids if u in users and not users[u].is_active]:
        return f"inactive accounts cannot be reviewed: {', '.join(inactive)}"
    return ""


def _check_role(
    loaded: LoadedRubric | None, role_id: str | None, team_roles: set[str]
) -> tuple[str | None, str]:
    """The cycle's role: `role_id`, else the ratees' shared team role; or what is wrong."""
    if role_id is None:
        if len(team_roles) != 1:
            listed = ", ".join(sorted(team_roles))
            return None, (
                f"the ratees have different team roles ({listed}); a cycle measures everyone "
                "against one role profile: choose role_id"
            )
        role_id = next(iter(team_roles))
    if loaded is not None:
        known = [r.id for r in loaded.rubric.roles]
        if role_id not in known:
            return None, f"no role {role_id!r} (roles: {', '.join(known)})"
    return role_id, ""


def _check_policy(
    min_raters: Mapping[str, int] | None, group_weights: Mapping[str, float] | None
) -> tuple[dict[str, int], dict[str, float], dict[str, str]]:
    errors: dict[str, str] = {}
    merged = {g.value: n for g, n in DEFAULT_MIN_RATERS.items()}
    for key, value in (min_raters or {}).items():
        if isinstance(value, int) and value > MIN_RATERS_MAX:
            errors["min_raters"] = f"min_raters[{key!r}] may be at most {MIN_RATERS_MAX}"
        merged[key] = value
    weights = dict(group_weights or {})
    try:
        ReviewPolicy(min_raters=merged)
    except ReviewInputError as error:
        errors.setdefault("min_raters", "; ".join(error.problems))
    try:
        ReviewPolicy(group_weights=weights)
    except ReviewInputError as error:
        errors["group_weights"] = "; ".join(error.problems)
    return merged, {k: float(v) for k, v in weights.items()}, errors


def _check_raters(
    ratees: Sequence[RateeSpec], users: Mapping[int, User], manager_id: int
) -> dict[str, str]:
    """Peers and reports: active, not the ratee, and nobody asked twice for one ratee."""
    errors: dict[str, str] = {}
    for index, spec in enumerate(ratees):
        asked = {spec.user_id} | ({manager_id} if spec.user_id != manager_id else set())
        for field, ids in (("peer_ids", spec.peer_ids), ("report_ids", spec.report_ids)):
            for rater_id in ids:
                where = f"ratees[{index}].{field}"
                rater = users.get(rater_id)
                if rater is None or not rater.is_active:
                    errors[where] = f"no active staff user with id {rater_id}"
                elif rater_id == spec.user_id:
                    errors[where] = "nobody rates themselves as a peer or report"
                elif rater_id in asked:
                    errors[where] = f"{rater.name} is already asked to rate this person"
                asked.add(rater_id)
    return errors


def _add_requests(
    session: Session, cycle: ReviewCycle, ratees: Sequence[RateeSpec], manager_id: int
) -> None:
    for spec in ratees:
        ratee = ReviewRatee(cycle_id=cycle.id, user_id=spec.user_id)
        session.add(ratee)
        session.flush()
        raters = [(spec.user_id, Group.SELF)]
        # The lead is nobody's manager in their own review: HR may add one (`add_rater`).
        if spec.user_id != manager_id:
            raters.append((manager_id, Group.MANAGER))
        raters += [(u, Group.PEER) for u in spec.peer_ids]
        raters += [(u, Group.REPORT) for u in spec.report_ids]
        session.add_all(
            ReviewRequest(
                ratee_id=ratee.id,
                rater_id=rater_id,
                group=group.value,
                status=RequestStatus.APPROVED.value,
                created_at=cycle.created_at,
            )
            for rater_id, group in raters
        )
    session.flush()


def open_cycle(
    session: Session,
    actor: User,
    team_id: int,
    settings: Settings,
    *,
    name: str,
    due_at: datetime,
    ratees: Sequence[RateeSpec],
    role_id: str | None = None,
    rubric_id: str | None = None,
    min_raters: Mapping[str, int] | None = None,
    group_weights: Mapping[str, float] | None = None,
) -> views.CycleView:
    """Open a cycle for some members of the team (its lead or HR), pinning the rubric version.

    One role profile per cycle: `role_id` defaults to the ratees' team role when they share
    one; `rubric_id` to the only loaded rubric. `min_raters` overrides the defaults per group
    (peer and report 3, at least 2 for those anonymous groups); `group_weights` weighs Others.
    Raises FieldErrors naming every wrong field.
    """
    team = access.get_managed_team(session, actor, team_id)
    now = utcnow()
    members = {
        m.user_id: m
        for m in session.scalars(select(TeamMember).where(TeamMember.team_id == team.id))
    }
    ratee_ids = [spec.user_id for spec in ratees]
    referenced = set(ratee_ids) | {u for s in ratees for u in (*s.peer_ids, *s.report_ids)}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(referenced)))}

    name = name.strip()
    loaded, rubric_problem = _check_rubric(settings, rubric_id)
    ratee_problem = _check_ratees(team, members, users, ratee_ids)
    merged_min, weights, errors = _check_policy(min_raters, group_weights)
    problems = {
        "name": "" if 1 <= len(name) <= NAME_MAX else f"give a name of 1–{NAME_MAX} characters",
        "due_at": _check_due(due_at, now),
        "rubric_id": rubric_problem,
        "ratees": ratee_problem,
    }
    # Without valid ratees there is no team role to default to; that error says enough.
    if not (ratee_problem and role_id is None):
        team_roles = {members[u].role_id for u in ratee_ids if u in members}
        role_id, problems["role_id"] = _check_role(loaded, role_id, team_roles)
    errors = {k: v for k, v in problems.items() if v} | errors
    errors |= _check_raters(ratees, users, team.lead_id)
    if errors:
        raise FieldErrors(errors)
    assert loaded is not None  # checked above
    assert role_id is not None

    rubric_service.pin(session, loaded)
    cycle = ReviewCycle(
        team_id=team.id,
        name=name,
        rubric_id=loaded.rubric.id,
        rubric_version=loaded.version,
        role_id=role_id,
        status=CycleStatus.OPEN.value,
        due_at=due_at,
        min_raters=merged_min,
        group_weights=weights,
        comment_seed=secrets.token_hex(32),
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(cycle)
    session.flush()
    _add_requests(session, cycle, ratees, team.lead_id)
    audit.record(
        session, actor, "review.cycle_opened", "review_cycle", cycle.id, ratees=len(ratees)
    )
    return cycle_view(session, actor, cycle, team)


# ── reading ─────────────────────────────────────────────────────────────────────────────


def _request_view(request: ReviewRequest, rater: User, show_submitted: bool) -> views.RequestView:
    return views.RequestView(
        id=request.id,
        rater=views.PersonBrief(rater.id, rater.name),
        group=request.group,
        group_label=group_label(request.group),
        status=request.status,
        status_label=dict(REQUEST_STATUS_LABELS[request.status]),
        nominated=request.nominated_by_id is not None,
        submitted=(request.submitted_at is not None) if show_submitted else None,
    )


def request_order(request: ReviewRequest, rater: User) -> tuple[int, str, int]:
    return GROUPS.index(Group(request.group)), rater.name, rater.id


def cycle_view(session: Session, viewer: User, cycle: ReviewCycle, team: Team) -> views.CycleView:
    """The cycle as `viewer` may see it, in a fixed number of queries."""
    manage = access.manages(viewer, team)
    ratees = session.execute(
        select(ReviewRatee, User)
        .join(User, User.id == ReviewRatee.user_id)
        .where(ReviewRatee.cycle_id == cycle.id)
        .order_by(User.name, User.id)
    ).all()
    requests: defaultdict[int, list[tuple[ReviewRequest, User]]] = defaultdict(list)
    for request, rater in session.execute(
        select(ReviewRequest, User)
        .join(User, User.id == ReviewRequest.rater_id)
        .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
        .where(ReviewRatee.cycle_id == cycle.id)
    ):
        requests[request.ratee_id].append((request, rater))

    shown = []
    for ratee, person in ratees:
        own = sorted(requests[ratee.id], key=lambda pair: request_order(*pair))
        if manage or ratee.user_id == viewer.id:
            visible = own
        else:
            # A rater sees the person they rate and their own request, nobody else's.
            visible = [
                (r, u)
                for r, u in own
                if r.rater_id == viewer.id and r.status == RequestStatus.APPROVED.value
            ]
            if not visible:
                continue
        shown.append(
            views.RateeView(
                user_id=person.id,
                name=person.name,
                requests=tuple(
                    _request_view(r, u, manage or r.rater_id == viewer.id) for r, u in visible
                ),
            )
        )
    creator = session.get(User, cycle.created_by_id) if cycle.created_by_id else None
    now = utcnow()
    is_open = cycle.status == CycleStatus.OPEN.value and cycle.due_at > now
    policy = policy_of(cycle).to_dict()
    return views.CycleView(
        cycle=briefs.cycle_brief(session, cycle, team),
        min_raters=dict(policy["min_raters"]),
        group_weights=dict(policy["group_weights"]),
        created_by=views.PersonBrief(creator.id, creator.name) if creator else None,
        can_manage=manage,
        can_nominate=is_open and any(r.user_id == viewer.id for r, _ in ratees),
        ratees=tuple(shown),
    )


def get_cycle(session: Session, viewer: User, cycle_id: int) -> views.CycleView:
    """The cycle for its lead and HR (everything but answers), its ratees and its raters.

    A ratee sees who was asked to rate them (not who has answered); a rater sees only the
    people they rate. Closes the cycle first when it is past due.
    """
    cycle, team = access.get_cycle(session, viewer, cycle_id)
    closing.close_if_due(session, cycle, utcnow())
    return cycle_view(session, viewer, cycle, team)


def list_cycles(
    session: Session, viewer: User, *, team_id: int | None = None
) -> list[views.CycleBrief]:
    """Cycles `viewer` may see, newest first; due ones are closed on the way."""
    query = (
        select(ReviewCycle, Team)
        .join(Team, Team.id == ReviewCycle.team_id)
        .where(access.cycle_visible(viewer))
        .order_by(ReviewCycle.created_at.desc(), ReviewCycle.id.desc())
    )
    if team_id is not None:
        query = query.where(ReviewCycle.team_id == team_id)
    rows = [(cycle, team) for cycle, team in session.execute(query)]
    now = utcnow()
    due = [c.id for c, _ in rows if c.status == CycleStatus.OPEN.value and c.due_at <= now]
    closing.close_due_cycles(session, now, due)
    return briefs.cycle_briefs(session, rows)


# ── closing ─────────────────────────────────────────────────────────────────────────────


def close_cycle(session: Session, actor: User, cycle_id: int) -> views.CycleView:
    """Close the cycle now and release its results (its lead or HR)."""
    cycle, team = access.get_managed_cycle(session, actor, cycle_id, lock=True)
    if cycle.status != CycleStatus.OPEN.value:
        raise Conflict("this review cycle is already closed and its results released")
    closing.release(session, cycle, utcnow())
    audit.record(session, actor, "review.cycle_closed", "review_cycle", cycle.id)
    return cycle_view(session, actor, cycle, team)
