"""Teams: HR and admins create them and manage members; leads and members read their own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.reviews import access, views
from app.reviews.common import NAME_MAX, is_hr
from app.reviews.models import Team, TeamMember
from app.rubrics import service as rubric_service
from app.rubrics.spec import Text


def _require_hr(user: User) -> None:
    if not is_hr(user):
        raise Forbidden("only HR and admins manage teams")


def role_names(settings: Settings) -> dict[str, Text]:
    """Every role id of the loaded rubrics with its name (the first rubric that has it)."""
    names: dict[str, Text] = {}
    for loaded in rubric_service.current_rubrics(settings.rubrics_dir).values():
        for role in loaded.rubric.roles:
            names.setdefault(role.id, dict(role.name))
    return names


def _check_name(session: Session, name: str, team_id: int | None = None) -> str:
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise InvalidInput(f"give a team name of 1–{NAME_MAX} characters", field="name")
    clash = select(Team.id).where(func.lower(Team.name) == name.lower())
    if team_id is not None:
        clash = clash.where(Team.id != team_id)
    if session.scalar(clash) is not None:
        raise Conflict(f"a team called {name!r} already exists", field="name")
    return name


def _check_lead(session: Session, lead_id: int) -> User:
    lead = session.get(User, lead_id)
    if lead is None or not lead.is_active:
        raise InvalidInput(f"no active staff user with id {lead_id}", field="lead_id")
    if lead.role != Role.LEAD.value:
        raise InvalidInput(
            f"{lead.name} has the role {lead.role!r}; a team's lead needs the role 'lead'",
            field="lead_id",
        )
    return lead


def _views(
    session: Session, viewer: User, teams: Sequence[Team], settings: Settings
) -> list[views.TeamView]:
    """Views of `teams` in three queries, whatever their number and size."""
    if not teams:
        return []
    ids = [team.id for team in teams]
    leads = {
        user.id: user
        for user in session.scalars(select(User).where(User.id.in_({t.lead_id for t in teams})))
    }
    members: defaultdict[int, list[views.TeamMemberView]] = defaultdict(list)
    names = role_names(settings)
    rows = session.execute(
        select(TeamMember, User)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(ids))
        .order_by(User.name, User.id)
    )
    for member, user in rows:
        members[member.team_id].append(
            views.TeamMemberView(
                user_id=user.id,
                name=user.name,
                email=user.email,
                role_id=member.role_id,
                role_name=names.get(member.role_id, {"zh": member.role_id, "en": member.role_id}),
                joined_at=member.joined_at,
            )
        )
    return [
        views.TeamView(
            id=team.id,
            name=team.name,
            lead=views.PersonBrief(team.lead_id, leads[team.lead_id].name),
            members=tuple(members[team.id]),
            created_at=team.created_at,
            can_manage=access.manages(viewer, team),
        )
        for team in teams
    ]


def list_teams(session: Session, viewer: User, settings: Settings) -> list[views.TeamView]:
    """HR: every team; a lead: the teams they lead or belong to; a member: their own teams."""
    teams = session.scalars(
        select(Team).where(access.team_visible(viewer)).order_by(Team.name, Team.id)
    ).all()
    return _views(session, viewer, teams, settings)


def get_team(session: Session, viewer: User, team_id: int, settings: Settings) -> views.TeamView:
    team = access.get_team(session, viewer, team_id)
    return _views(session, viewer, [team], settings)[0]


def create_team(
    session: Session, actor: User, name: str, lead_id: int, settings: Settings
) -> views.TeamView:
    _require_hr(actor)
    checked_name = _check_name(session, name)
    _check_lead(session, lead_id)
    team = Team(name=checked_name, lead_id=lead_id, created_at=utcnow())
    session.add(team)
    session.flush()
    return get_team(session, actor, team.id, settings)


def update_team(
    session: Session,
    actor: User,
    team_id: int,
    settings: Settings,
    *,
    name: str | None = None,
    lead_id: int | None = None,
) -> views.TeamView:
    """Rename the team or hand it to another lead; open cycles then belong to the new lead."""
    _require_hr(actor)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("no such team")
    if name is not None:
        team.name = _check_name(session, name, team.id)
    if lead_id is not None:
        team.lead_id = _check_lead(session, lead_id).id
    session.flush()
    return get_team(session, actor, team.id, settings)


def add_member(
    session: Session, actor: User, team_id: int, user_id: int, role_id: str, settings: Settings
) -> views.TeamView:
    """Add a staff user measured against the rubric role `role_id` (any loaded rubric's)."""
    _require_hr(actor)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("no such team")
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidInput(f"no active staff user with id {user_id}", field="user_id")
    known = role_names(settings)
    if role_id not in known:
        raise InvalidInput(
            f"no role {role_id!r} in the rubrics (roles: {', '.join(sorted(known))})",
            field="role_id",
        )
    exists = session.scalar(
        select(TeamMember.id).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
    )
    if exists is not None:
        raise Conflict(f"{user.name} is already a member of {team.name}", field="user_id")
    session.add(TeamMember(team_id=team_id, user_id=user_id, role_id=role_id, joined_at=utcnow()))
    session.flush()
    return get_team(session, actor, team.id, settings)


def remove_member(
    session: Session, actor: User, team_id: int, user_id: int, settings: Settings
) -> views.TeamView:
    """Remove a member; cycles they are already part of keep them."""
    _require_hr(actor)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("no such team")
    member = session.scalar(
        select(TeamMember).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
    )
    if member is None:
        raise NotFound("this user is not a member of this team")
    session.delete(member)
    session.flush()
    return get_team(session, actor, team.id, settings)
