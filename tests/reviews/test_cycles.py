"""Review cycles: opening, who rates whom, nominations, reminders and closing (by hand or due)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.reviews import raters
from app.reviews import service as review_service
from app.reviews.common import FieldErrors
from app.reviews.models import ReviewCycle, ReviewRequest, ReviewResult
from app.rubrics import service as rubric_service
from tests.reviews.review_helpers import (
    MakeUser,
    Team,
    in_days,
    make_due,
    make_team,
    open_cycle,
    rate,
    request_of,
)

Spec = review_service.RateeSpec


@pytest.fixture
def team(db: Session, settings: Settings, make_user: MakeUser) -> Team:
    return make_team(db, settings, make_user, names=["李安娜", "周宁", "陈可", "赵一", "孙二"])


def raters_of(view: Any, user_id: int) -> dict[str, tuple[str, str]]:
    ratee = next(r for r in view.ratees if r.user_id == user_id)
    return {r.rater.name: (r.group, r.status) for r in ratee.requests}


# ── opening ─────────────────────────────────────────────────────────────────────────────


def test_opening_asks_self_manager_and_peers_and_pins_the_rubric(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke, yi = team.members[:4]
    view = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id, ke.id, yi.id))])

    assert raters_of(view, anna.id) == {
        "李安娜": ("self", "approved"),
        "王主管": ("manager", "approved"),
        "周宁": ("peer", "approved"),
        "陈可": ("peer", "approved"),
        "赵一": ("peer", "approved"),
    }
    cycle = db.get(ReviewCycle, view.cycle.id)
    assert cycle is not None
    loaded = rubric_service.current_rubrics(settings.rubrics_dir)["new_media_operator"]
    assert cycle.rubric_version == loaded.version
    assert rubric_service.get_version(db, cycle.rubric_version) == loaded.rubric
    # The role defaults to the ratees' team role; the thresholds to the defaults.
    assert view.cycle.role_id == "specialist"
    assert view.min_raters == {"self": 1, "manager": 1, "peer": 3, "report": 3}
    assert view.cycle.status == "open"
    assert view.can_manage


def test_every_cycle_gets_its_own_random_comment_seed(
    db: Session, settings: Settings, team: Team
) -> None:
    first = open_cycle(db, settings, team, [Spec(team.member(0).id)])
    second = open_cycle(db, settings, team, [Spec(team.member(1).id)])
    seeds = [db.get(ReviewCycle, v.cycle.id).comment_seed for v in (first, second)]  # type: ignore[union-attr]
    assert all(len(seed) == 64 for seed in seeds)
    assert seeds[0] != seeds[1]


def test_hr_opens_cycles_other_leads_and_members_cannot(
    db: Session, settings: Settings, team: Team
) -> None:
    view = open_cycle(db, settings, team, [Spec(team.member(0).id)], actor=team.hr)
    assert view.created_by is not None
    assert view.created_by.user_id == team.hr.id
    with pytest.raises(NotFound):
        open_cycle(db, settings, team, [Spec(team.member(0).id)], actor=team.other_lead)
    with pytest.raises(Forbidden):
        open_cycle(db, settings, team, [Spec(team.member(1).id)], actor=team.member(0))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"due_at": datetime.now(UTC) - timedelta(hours=1)}, "due_at"),
        ({"due_at": datetime(2030, 1, 1)}, "due_at"),
        ({"due_at": datetime.now(UTC) + timedelta(days=400)}, "due_at"),
        ({"name": " "}, "name"),
        ({"role_id": "astronaut"}, "role_id"),
        ({"rubric_id": "nope"}, "rubric_id"),
        ({"min_raters": {"peer": 1}}, "min_raters"),
        ({"min_raters": {"peer": 50}}, "min_raters"),
        ({"min_raters": {"friends": 3}}, "min_raters"),
        ({"group_weights": {"self": 2.0}}, "group_weights"),
        ({"group_weights": {"peer": -1.0}}, "group_weights"),
    ],
)
def test_opening_refuses_bad_input_naming_the_field(
    db: Session, settings: Settings, team: Team, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(FieldErrors) as raised:
        open_cycle(db, settings, team, [Spec(team.member(0).id)], **options)
    assert field in raised.value.errors
    assert db.scalars(select(ReviewCycle)).all() == []


def test_ratees_must_be_team_members_and_share_a_role_unless_one_is_chosen(
    db: Session, settings: Settings, team: Team
) -> None:
    with pytest.raises(FieldErrors) as outside:
        open_cycle(db, settings, team, [Spec(team.outsider.id)])
    assert "ratees" in outside.value.errors
    with pytest.raises(FieldErrors) as empty:
        open_cycle(db, settings, team, [])
    assert "ratees" in empty.value.errors

    newcomer = team.member(4)
    review_service.remove_member(db, team.hr, team.id, newcomer.id, settings)
    review_service.add_member(db, team.hr, team.id, newcomer.id, "assistant", settings)
    mixed = [Spec(team.member(0).id), Spec(newcomer.id)]
    with pytest.raises(FieldErrors) as roles:
        open_cycle(db, settings, team, mixed)
    assert "role_id" in roles.value.errors
    view = open_cycle(db, settings, team, mixed, role_id="assistant")
    assert view.cycle.role_id == "assistant"


def test_nobody_rates_themselves_as_a_peer_or_is_asked_twice(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning = team.member(0), team.member(1)
    cases = [
        (Spec(anna.id, peer_ids=(anna.id,)), "ratees[0].peer_ids"),
        (Spec(anna.id, peer_ids=(ning.id, ning.id)), "ratees[0].peer_ids"),
        (Spec(anna.id, peer_ids=(ning.id,), report_ids=(ning.id,)), "ratees[0].report_ids"),
        # The lead already rates as manager.
        (Spec(anna.id, peer_ids=(team.lead.id,)), "ratees[0].peer_ids"),
    ]
    for spec, field in cases:
        with pytest.raises(FieldErrors) as raised:
            open_cycle(db, settings, team, [spec])
        assert field in raised.value.errors

    view = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id,))])
    with pytest.raises(InvalidInput) as self_rating:
        review_service.add_rater(db, team.lead, view.cycle.id, anna.id, anna.id, "peer")
    assert self_rating.value.field == "rater_id"
    with pytest.raises(Conflict) as twice:
        review_service.add_rater(db, team.lead, view.cycle.id, anna.id, ning.id, "report")
    assert twice.value.field == "rater_id"
    assert "already" in twice.value.message


def test_the_unique_constraint_answers_a_race_with_a_friendly_conflict(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning = team.member(0), team.member(1)
    view = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id,))])
    existing = request_of(db, view.cycle.id, anna, ning)
    duplicate = ReviewRequest(
        ratee_id=existing.ratee_id,
        rater_id=ning.id,
        group="report",
        status="approved",
        created_at=utcnow(),
    )
    with pytest.raises(Conflict) as raised:
        raters._insert(db, duplicate, ning.name)
    assert raised.value.field == "rater_id"
    # The session is still usable: only the savepoint was rolled back.
    assert request_of(db, view.cycle.id, anna, ning).group == "peer"


def test_the_lead_is_not_their_own_manager_and_does_not_choose_their_own_raters(
    db: Session, settings: Settings, team: Team
) -> None:
    review_service.add_member(db, team.hr, team.id, team.lead.id, "specialist", settings)
    view = open_cycle(db, settings, team, [Spec(team.lead.id), Spec(team.member(0).id)])
    assert raters_of(view, team.lead.id) == {"王主管": ("self", "approved")}

    with pytest.raises(Forbidden):
        review_service.add_rater(
            db, team.lead, view.cycle.id, team.lead.id, team.member(1).id, "peer"
        )
    director = team.other_lead
    after = review_service.add_rater(
        db, team.hr, view.cycle.id, team.lead.id, director.id, "manager"
    )
    assert raters_of(after, team.lead.id)[director.name] == ("manager", "approved")


def test_direct_reports_and_peers_are_added_by_the_lead(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke = team.members[:3]
    view = open_cycle(db, settings, team, [Spec(anna.id, report_ids=(ning.id,))])
    view = review_service.add_rater(db, team.lead, view.cycle.id, anna.id, ke.id, "peer")
    assert raters_of(view, anna.id)["周宁"] == ("report", "approved")
    assert raters_of(view, anna.id)["陈可"] == ("peer", "approved")
    with pytest.raises(InvalidInput) as group:
        review_service.add_rater(db, team.lead, view.cycle.id, anna.id, team.member(3).id, "self")
    assert group.value.field == "group"
    with pytest.raises(InvalidInput) as not_reviewed:
        review_service.add_rater(db, team.lead, view.cycle.id, ke.id, anna.id, "peer")
    assert not_reviewed.value.field == "ratee_id"


# ── nominations ─────────────────────────────────────────────────────────────────────────


def test_members_nominate_peers_for_themselves_and_the_lead_decides(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke = team.members[:3]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id)]).cycle.id

    view = review_service.nominate(db, anna, cycle_id, ning.id)
    view = review_service.nominate(db, anna, cycle_id, ke.id)
    assert raters_of(view, anna.id)["周宁"] == ("peer", "nominated")
    # A nominee has nothing to rate until the lead approves.
    assert review_service.list_tasks(db, ning) == []

    nominated = request_of(db, cycle_id, anna, ning)
    with pytest.raises(Forbidden):
        review_service.decide(db, anna, nominated.id, approve=True)
    with pytest.raises(NotFound):
        review_service.decide(db, team.other_lead, nominated.id, approve=True)
    view = review_service.decide(db, team.lead, nominated.id, approve=True)
    view = review_service.decide(db, team.lead, request_of(db, cycle_id, anna, ke).id, False)
    assert raters_of(view, anna.id)["周宁"] == ("peer", "approved")
    assert raters_of(view, anna.id)["陈可"] == ("peer", "declined")
    assert [t.ratee.user_id for t in review_service.list_tasks(db, ning)] == [anna.id]
    assert review_service.list_tasks(db, ke) == []

    with pytest.raises(Conflict):
        review_service.decide(db, team.lead, nominated.id, approve=False)
    with pytest.raises(Conflict) as again:
        review_service.nominate(db, anna, cycle_id, ke.id)
    assert again.value.field == "rater_id"


def test_nominations_are_for_teammates_and_only_by_the_people_reviewed(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning = team.member(0), team.member(1)
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id,))]).cycle.id
    with pytest.raises(InvalidInput) as self_nomination:
        review_service.nominate(db, anna, cycle_id, anna.id)
    assert self_nomination.value.field == "rater_id"
    with pytest.raises(InvalidInput) as stranger:
        review_service.nominate(db, anna, cycle_id, team.outsider.id)
    assert stranger.value.field == "rater_id"
    # Ning rates Anna but is not reviewed here; an outsider cannot see the cycle at all.
    with pytest.raises(Forbidden):
        review_service.nominate(db, ning, cycle_id, team.member(2).id)
    with pytest.raises(NotFound):
        review_service.nominate(db, team.outsider, cycle_id, team.member(2).id)


def test_hr_decides_the_nominations_of_a_lead_reviewed_in_their_own_team(
    db: Session, settings: Settings, team: Team
) -> None:
    review_service.add_member(db, team.hr, team.id, team.lead.id, "specialist", settings)
    cycle_id = open_cycle(db, settings, team, [Spec(team.lead.id)]).cycle.id
    review_service.nominate(db, team.lead, cycle_id, team.member(0).id)
    nominated = request_of(db, cycle_id, team.lead, team.member(0))
    with pytest.raises(Forbidden):
        review_service.decide(db, team.lead, nominated.id, approve=True)
    view = review_service.decide(db, team.hr, nominated.id, approve=True)
    assert raters_of(view, team.lead.id)[team.member(0).name] == ("peer", "approved")


# ── who sees what of a cycle ────────────────────────────────────────────────────────────


def test_a_ratee_sees_who_was_asked_but_not_who_has_answered(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke = team.members[:3]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id, ke.id))]).cycle.id
    rate(db, settings, cycle_id, anna, ning)

    mine = review_service.get_cycle(db, anna, cycle_id)
    submitted = {r.rater.name: r.submitted for r in mine.ratees[0].requests}
    assert submitted == {"李安娜": False, "王主管": None, "周宁": None, "陈可": None}
    assert mine.can_nominate
    assert not mine.can_manage

    # A rater sees the person they rate and only their own request.
    theirs = review_service.get_cycle(db, ning, cycle_id)
    assert [(r.user_id, [q.rater.name for q in r.requests]) for r in theirs.ratees] == [
        (anna.id, ["周宁"])
    ]
    assert theirs.ratees[0].requests[0].submitted is True
    assert not theirs.can_nominate

    lead_view = review_service.get_cycle(db, team.lead, cycle_id)
    assert {r.rater.name: r.submitted for r in lead_view.ratees[0].requests}["周宁"] is True
    for stranger in (team.member(3), team.other_lead, team.outsider):
        with pytest.raises(NotFound):
            review_service.get_cycle(db, stranger, cycle_id)
    assert [c.id for c in review_service.list_cycles(db, team.member(3))] == []
    assert [c.id for c in review_service.list_cycles(db, anna)] == [cycle_id]
    assert [c.id for c in review_service.list_cycles(db, team.hr)] == [cycle_id]


def test_reminders_name_pending_raters_and_count_per_group_without_any_answer(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke = team.members[:3]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id, ke.id))]).cycle.id
    rate(db, settings, cycle_id, anna, ning, 5, comment="周宁的评语")
    review_service.nominate(db, anna, cycle_id, team.member(3).id)

    found = review_service.reminders(db, team.lead, cycle_id)

    (progress,) = found.ratees
    assert [p.rater.name for p in progress.pending] == ["李安娜", "王主管", "陈可"]
    assert [p.rater.name for p in progress.nominations] == [team.member(3).name]
    peers = next(g for g in progress.groups if g.group == "peer")
    assert (peers.asked, peers.submitted, peers.needed, peers.short_of_raters) == (2, 1, 3, True)
    assert found.pending_total == 3
    assert "周宁的评语" not in repr(found)
    with pytest.raises(Forbidden):
        review_service.reminders(db, anna, cycle_id)
    with pytest.raises(NotFound):
        review_service.reminders(db, team.other_lead, cycle_id)
    assert review_service.reminders(db, team.hr, cycle_id).pending_total == 3


# ── closing ─────────────────────────────────────────────────────────────────────────────


def test_the_lead_closes_the_cycle_and_results_are_released(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning = team.member(0), team.member(1)
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id,))]).cycle.id
    with pytest.raises(Forbidden):
        review_service.close_cycle(db, anna, cycle_id)
    with pytest.raises(NotFound):
        review_service.close_cycle(db, team.other_lead, cycle_id)

    view = review_service.close_cycle(db, team.lead, cycle_id)

    assert view.cycle.status == "released"
    assert view.cycle.closed_at is not None
    assert len(db.scalars(select(ReviewResult)).all()) == 1
    with pytest.raises(Conflict):
        review_service.close_cycle(db, team.hr, cycle_id)
    # Nothing changes once closed.
    with pytest.raises(Conflict):
        review_service.nominate(db, anna, cycle_id, team.member(2).id)
    with pytest.raises(Conflict):
        review_service.add_rater(db, team.lead, cycle_id, anna.id, team.member(2).id, "peer")


def test_close_due_cycles_closes_exactly_the_cycles_past_their_due_date(
    db: Session, settings: Settings, team: Team
) -> None:
    due = open_cycle(db, settings, team, [Spec(team.member(0).id)]).cycle.id
    later = open_cycle(db, settings, team, [Spec(team.member(1).id)], due_at=in_days(3)).cycle.id
    make_due(db, due)

    assert review_service.close_due_cycles(db, utcnow()) == [due]
    assert review_service.close_due_cycles(db, utcnow()) == []
    statuses = {c.id: c.status for c in db.scalars(select(ReviewCycle))}
    assert statuses == {due: "released", later: "open"}
    assert review_service.close_due_cycles(db, utcnow() + timedelta(days=4)) == [later]


def test_viewing_a_cycle_past_its_due_date_closes_it(
    db: Session, settings: Settings, team: Team
) -> None:
    anna = team.member(0)
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id)]).cycle.id
    make_due(db, cycle_id)

    assert review_service.get_cycle(db, anna, cycle_id).cycle.status == "released"
    assert db.get(ReviewResult, request_of(db, cycle_id, anna, anna).ratee_id) is not None
