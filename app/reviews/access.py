"""Who may see and run which team and cycle; anyone else gets NotFound, so ids reveal nothing.

HR and admins see everything; a team's lead runs that team's cycles; members see their own
teams, the cycles they are reviewed in and the requests they rate.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.accounts.models import User
from app.errors import Forbidden, NotFound
from app.reviews.common import RequestStatus, is_hr, require_managing_role
from app.reviews.models import ReviewCycle, ReviewRatee, ReviewRequest, Team, TeamMember


def manages(user: User, team: Team) -> bool:
    return is_hr(user) or team.lead_id == user.id


def team_visible(user: User) -> ColumnElement[bool]:
    """SQL condition on Team: HR all; otherwise teams the user leads or belongs to."""
    if is_hr(user):
        return Team.id.is_not(None)
    member = exists().where(TeamMember.team_id == Team.id, TeamMember.user_id == user.id)
    return or_(Team.lead_id == user.id, member)


def cycle_visible(user: User) -> ColumnElement[bool]:
    """SQL condition on ReviewCycle (joined with Team): managed, reviewed in, or rating in it."""
    if is_hr(user):
        return ReviewCycle.id.is_not(None)
    reviewed = exists().where(
        ReviewRatee.cycle_id == ReviewCycle.id, ReviewRatee.user_id == user.id
    )
    rating = exists().where(
        ReviewRatee.cycle_id == ReviewCycle.id,
        ReviewRequest.ratee_id == ReviewRatee.id,
        ReviewRequest.rater_id == user.id,
        ReviewRequest.status == RequestStatus.APPROVED.value,
    )
    return or_(Team.lead_id == user.id, reviewed, rating)


def get_team(session: Session, viewer: User, team_id: int) -> Team:
    team = session.scalar(select(Team).where(Team.id == team_id, team_visible(viewer)))
    if team is None:
        raise NotFound("no such team")
    return team


def get_managed_team(session: Session, actor: User, team_id: int) -> Team:
    """The team if `actor` leads it or is HR; members get 403, other leads 404."""
    require_managing_role(actor)
    team = session.get(Team, team_id)
    if team is None or not manages(actor, team):
        raise NotFound("no such team")
    return team


def get_cycle(
    session: Session, viewer: User, cycle_id: int, *, lock: bool = False
) -> tuple[ReviewCycle, Team]:
    """The cycle and its team if `viewer` may see the cycle at all."""
    query = (
        select(ReviewCycle, Team)
        .join(Team, Team.id == ReviewCycle.team_id)
        .where(ReviewCycle.id == cycle_id, cycle_visible(viewer))
    )
    if lock:
        # Serialises closing and rating of one cycle on PostgreSQL (SQLite has one writer);
        # refresh what the session had cached.
        query = query.with_for_update(of=ReviewCycle).execution_options(populate_existing=True)
    row = session.execute(query).first()
    if row is None:
        raise NotFound("no such review cycle")
    return row[0], row[1]


def get_managed_cycle(
    session: Session, actor: User, cycle_id: int, *, lock: bool = False
) -> tuple[ReviewCycle, Team]:
    """The cycle if `actor` runs it (its team's lead, or HR); members 403, others 404."""
    require_managing_role(actor)
    cycle, team = get_cycle(session, actor, cycle_id, lock=lock)
    if not manages(actor, team):
        raise NotFound("no such review cycle")
    return cycle, team


def require_not_own_review(actor: User, ratee_user_id: int) -> None:
    """Nobody chooses or approves their own raters (a lead reviewed in their own team's
    cycle nominates like anyone else, and HR decides)."""
    if ratee_user_id == actor.id:
        raise Forbidden("someone else (HR) chooses and approves the raters of your own review")
