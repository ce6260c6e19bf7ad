"""Teams: HR manages them; a lead sees only their teams, a member only their own membership."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.config import Settings
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.reviews import service as review_service
from tests.reviews.review_helpers import MakeUser, make_team


def test_hr_creates_a_team_and_adds_members_with_their_rubric_role(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr, lead = make_user(Role.HR), make_user(Role.LEAD, name="王主管")
    anna = make_user(Role.MEMBER, name="李安娜")

    team = review_service.create_team(db, hr, "  内容运营组 ", lead.id, settings)
    team = review_service.add_member(db, hr, team.id, anna.id, "specialist", settings)

    assert team.name == "内容运营组"
    assert team.lead.name == "王主管"
    assert [(m.name, m.role_id) for m in team.members] == [("李安娜", "specialist")]
    assert team.members[0].role_name["en"] == "New-media operations specialist"
    assert team.can_manage


def test_each_role_sees_only_the_teams_it_belongs_to(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user, size=2)

    def names(user_id: int) -> list[str]:
        user = next(
            u
            for u in [team.hr, team.admin, team.lead, *team.members, team.other_lead, team.outsider]
            if u.id == user_id
        )
        return [t.name for t in review_service.list_teams(db, user, settings)]

    assert names(team.hr.id) == ["内容运营组", "平台运营组"]
    assert names(team.admin.id) == ["内容运营组", "平台运营组"]
    assert names(team.lead.id) == ["内容运营组"]
    assert names(team.member(0).id) == ["内容运营组"]
    assert names(team.outsider.id) == ["平台运营组"]
    # A member sees their teammates (to nominate peers) but may not manage the team.
    mine = review_service.get_team(db, team.member(0), team.id, settings)
    assert {m.user_id for m in mine.members} == {m.id for m in team.members}
    assert not mine.can_manage
    for stranger in (team.outsider, team.other_lead):
        with pytest.raises(NotFound):
            review_service.get_team(db, stranger, team.id, settings)


def test_only_hr_and_admins_manage_teams(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user, size=1)
    newcomer = make_user(Role.MEMBER)
    for user in (team.lead, team.member(0)):
        with pytest.raises(Forbidden):
            review_service.create_team(db, user, "新组", team.lead.id, settings)
        with pytest.raises(Forbidden):
            review_service.add_member(db, user, team.id, newcomer.id, "specialist", settings)
        with pytest.raises(Forbidden):
            review_service.remove_member(db, user, team.id, team.member(0).id, settings)
    added = review_service.add_member(db, team.admin, team.id, newcomer.id, "assistant", settings)
    assert newcomer.id in {m.user_id for m in added.members}


def test_adding_a_member_names_the_wrong_field(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user, size=1)
    newcomer = make_user(Role.MEMBER)
    with pytest.raises(InvalidInput) as role:
        review_service.add_member(db, team.hr, team.id, newcomer.id, "astronaut", settings)
    assert role.value.field == "role_id"
    assert "specialist" in role.value.message  # the message lists the known roles
    with pytest.raises(InvalidInput) as nobody:
        review_service.add_member(db, team.hr, team.id, 999_999, "specialist", settings)
    assert nobody.value.field == "user_id"
    with pytest.raises(Conflict) as twice:
        review_service.add_member(db, team.hr, team.id, team.member(0).id, "lead", settings)
    assert twice.value.field == "user_id"


def test_team_names_are_unique_and_a_lead_needs_the_lead_role(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user, size=1)
    with pytest.raises(Conflict) as raised:
        review_service.create_team(db, team.hr, "内容运营组", team.lead.id, settings)
    assert raised.value.field == "name"
    with pytest.raises(InvalidInput) as invalid:
        review_service.create_team(db, team.hr, "新组", team.member(0).id, settings)
    assert invalid.value.field == "lead_id"
    with pytest.raises(InvalidInput) as blank:
        review_service.create_team(db, team.hr, "   ", team.lead.id, settings)
    assert blank.value.field == "name"


def test_removing_a_member_and_handing_the_team_to_another_lead(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user, size=2)
    after = review_service.remove_member(db, team.hr, team.id, team.member(1).id, settings)
    assert [m.user_id for m in after.members] == [team.member(0).id]
    with pytest.raises(NotFound):
        review_service.remove_member(db, team.hr, team.id, team.member(1).id, settings)

    successor = make_user(Role.LEAD)
    moved = review_service.update_team(db, team.hr, team.id, settings, lead_id=successor.id)
    assert moved.lead.user_id == successor.id
    assert [t.id for t in review_service.list_teams(db, successor, settings)] == [team.id]
    assert review_service.list_teams(db, team.lead, settings) == []
