"""Plans from assessments and reviews: order, budget, who may do what, progress, team, needs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments.models import Candidate
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.plans import catalogue, gaps
from app.plans import progress as plan_progress
from app.plans import service as plan_service
from app.plans.models import DevelopmentPlan, PlanItem
from app.rubrics import service as rubric_service
from tests.assessments.staff_helpers import make_candidate
from tests.conftest import MakeUser
from tests.plans.plan_helpers import (
    ROLE,
    all_at,
    make_review,
    make_scored,
    make_team,
)


@pytest.fixture
def people(make_user: MakeUser, db: Session) -> dict[str, User]:
    found = {
        "hr": make_user(Role.HR),
        "lead": make_user(Role.LEAD),
        "member": make_user(Role.MEMBER, name="周敏 Zhou Min"),
        "peer": make_user(Role.MEMBER),
        "other_lead": make_user(Role.LEAD),
    }
    make_team(db, found["lead"], found["member"], found["peer"])
    make_team(db, found["other_lead"])
    return found


def steps_of(db: Session, viewer: User, plan_id: int) -> list[tuple[str, list[str]]]:
    view = plan_progress.get_plan_view(db, viewer, plan_id)
    return [(s.competency, [i.module.id for i in s.items]) for s in view.steps]


# ── creating ────────────────────────────────────────────────────────────────────────────


def test_a_hired_candidates_assessment_makes_their_onboarding_plan(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    member = people["member"]
    # data_analysis: weight 2.5, gap 2 → 5; communication: weight 1.5, gap 2 → 3.
    assessment = make_scored(
        db, people["hr"], settings, member, weak=("communication", "data_analysis")
    )

    plan = plan_service.create_plan(db, people["lead"], "assessment", assessment.id)

    assert plan.user_id == member.id
    assert plan.source_at == assessment.submitted_at
    rubric = rubric_service.get_version(db, plan.rubric_version)
    expected = gaps.plan(rubric, rubric.role(ROLE), plan_service.baseline_levels(plan))
    found = steps_of(db, member, plan.id)
    assert [c for c, _ in found] == ["data_analysis", "communication"]
    assert found == [(s.gap.competency, [r.module for r in s.rungs]) for s in expected.steps]
    assert all(modules for _, modules in found)


def test_a_released_review_makes_a_plan_ordered_by_weight_times_gap(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    team = make_team(db, people["lead"])
    # Others = the manager's level. content_creation: 3 × (3 − 2) = 3; user_psychology:
    # 1.5 × (3 − 1) = 3 (a tie keeps rubric order); competitor_analysis: 1 × (2.5 − 2) = 0.5.
    review = make_review(
        db,
        settings,
        team,
        people["member"],
        all_at(4, content_creation=2, user_psychology=1, competitor_analysis=2),
    )

    plan = plan_service.create_plan(db, people["lead"], "review", review.ratee.id)

    view = plan_progress.get_plan_view(db, people["lead"], plan.id)
    assert [(s.competency, s.level, s.gap, s.priority) for s in view.steps] == [
        ("content_creation", 2.0, 1.0, 3.0),
        ("user_psychology", 1.0, 2.0, 3.0),
        ("competitor_analysis", 2.0, 0.5, 0.5),
    ]
    assert view.source.kind == "review"
    assert view.source.name == review.cycle.name
    # The self rating (4) never counts: the 360 level is Others.
    assert plan.baseline["content_creation"]["level"] == 2.0


def test_the_hours_budget_keeps_the_first_modules_and_suggests_the_rest(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    team = make_team(db, people["lead"])
    review = make_review(
        db, settings, team, people["member"], all_at(4, content_creation=1, data_analysis=1)
    )
    rubric = rubric_service.get_version(db, review.result.rubric_version)
    full = gaps.plan(rubric, rubric.role(ROLE), {"content_creation": 1.0, "data_analysis": 1.0})
    first = full.steps[0].rungs[0]

    plan = plan_service.create_plan(
        db, people["lead"], "review", review.ratee.id, hours_budget=first.hours
    )

    view = plan_progress.get_plan_view(db, people["member"], plan.id)
    assert [[i.module.id for i in s.items] for s in view.steps] == [[first.module], []]
    assert view.totals.hours == first.hours
    # What did not fit is offered, in the order it would come.
    assert [m.id for m in view.steps[0].suggested] == [r.module for r in full.steps[0].rungs[1:]]
    assert [m.id for m in view.steps[1].suggested] == [r.module for r in full.steps[1].rungs]


@pytest.mark.parametrize("budget", [0, -1, 1001, float("nan")])
def test_a_budget_out_of_range_is_refused_by_field(
    db: Session, settings: Settings, people: dict[str, User], budget: float
) -> None:
    review = make_review(db, settings, make_team(db, people["lead"]), people["member"], all_at(1))
    with pytest.raises(InvalidInput) as refused:
        plan_service.create_plan(db, people["lead"], "review", review.ratee.id, budget)
    assert refused.value.field == "hours_budget"


def test_who_may_create_a_plan(db: Session, settings: Settings, people: dict[str, User]) -> None:
    review = make_review(
        db, settings, make_team(db, people["lead"]), people["member"], all_at(4, data_analysis=1)
    )
    with pytest.raises(Forbidden):
        plan_service.create_plan(db, people["member"], "review", review.ratee.id)
    with pytest.raises(Forbidden):
        plan_service.create_plan(db, people["peer"], "review", review.ratee.id)
    # A lead of another team cannot tell the result exists.
    with pytest.raises(NotFound):
        plan_service.create_plan(db, people["other_lead"], "review", review.ratee.id)
    with pytest.raises(NotFound):
        plan_service.create_plan(db, people["lead"], "review", review.ratee.id + 999)

    plan = plan_service.create_plan(db, people["hr"], "review", review.ratee.id)
    assert plan.created_by_id == people["hr"].id


def test_one_plan_per_result_and_none_from_what_is_not_final(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    hr, member = people["hr"], people["member"]
    provisional = make_scored(db, hr, settings, member, weak=("data_analysis",), rate=False)
    with pytest.raises(Conflict, match="provisional"):
        plan_service.create_plan(db, hr, "assessment", provisional.id)

    unreleased = make_review(
        db, settings, make_team(db, people["lead"]), member, all_at(1), released=False
    )
    with pytest.raises(NotFound):
        plan_service.create_plan(db, hr, "review", unreleased.ratee.id)

    scored = make_scored(db, hr, settings, member, weak=("data_analysis",))
    first = plan_service.create_plan(db, hr, "assessment", scored.id)
    with pytest.raises(Conflict) as again:
        plan_service.create_plan(db, people["lead"], "assessment", scored.id)
    assert f"#{first.id}" in again.value.message
    assert db.scalar(select(func.count()).select_from(DevelopmentPlan)) == 1


def test_nothing_to_plan_when_every_target_is_met(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    review = make_review(db, settings, make_team(db, people["lead"]), people["member"], all_at(4))
    with pytest.raises(Conflict, match="nothing to plan"):
        plan_service.create_plan(db, people["lead"], "review", review.ratee.id)


def test_a_candidate_without_a_staff_account_cannot_get_a_plan(
    db: Session, settings: Settings, people: dict[str, User], make_user: MakeUser
) -> None:
    outsider = User(email="not-staff@example.com", name="Outsider", role="member")
    assessment = make_scored(db, people["hr"], settings, outsider, weak=("data_analysis",))
    with pytest.raises(InvalidInput, match="no staff account"):
        plan_service.create_plan(db, people["hr"], "assessment", assessment.id)


def test_an_anonymised_candidate_is_nobodys_evidence(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    assessment = make_scored(db, people["hr"], settings, people["member"], weak=("data_analysis",))
    candidate = db.get(Candidate, assessment.candidate_id)
    assert candidate is not None
    candidate.anonymised_at = utcnow()
    db.flush()
    with pytest.raises(NotFound):
        plan_service.create_plan(db, people["hr"], "assessment", assessment.id)
    assert plan_progress.planning(db, people["hr"], people["member"].id).sources == ()


def test_planning_lists_whom_a_lead_may_plan_for_and_their_results(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    lead, member = people["lead"], people["member"]
    scored = make_scored(db, people["hr"], settings, member, weak=("data_analysis",))
    make_candidate(db, people["hr"], name="Someone else")

    planning = plan_progress.planning(db, lead, member.id)

    assert {p.id for p in planning.people} == {member.id, people["peer"].id}
    assert [(o.source.kind, o.source.id, o.final, o.plan_id) for o in planning.sources] == [
        ("assessment", scored.id, True, None)
    ]
    with pytest.raises(NotFound):
        plan_progress.planning(db, people["other_lead"], member.id)
    with pytest.raises(Forbidden):
        plan_progress.planning(db, member)


# ── who sees and edits ──────────────────────────────────────────────────────────────────


@pytest.fixture
def plan(db: Session, settings: Settings, people: dict[str, User]) -> DevelopmentPlan:
    review = make_review(
        db,
        settings,
        make_team(db, people["lead"]),
        people["member"],
        all_at(4, content_creation=1, data_analysis=2),
        closed_at=utcnow() - timedelta(days=90),
    )
    return plan_service.create_plan(db, people["lead"], "review", review.ratee.id)


def first_item(db: Session, plan: DevelopmentPlan) -> PlanItem:
    found = db.scalar(
        select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.position)
    )
    assert found is not None
    return found


def test_who_sees_a_plan(db: Session, people: dict[str, User], plan: DevelopmentPlan) -> None:
    for name in ("member", "lead", "hr"):
        assert plan_progress.get_plan_view(db, people[name], plan.id).id == plan.id
    for name in ("peer", "other_lead"):
        with pytest.raises(NotFound):
            plan_progress.get_plan_view(db, people[name], plan.id)

    assert [r.id for r in plan_progress.list_plans(db, people["member"])] == [plan.id]
    assert [r.id for r in plan_progress.list_plans(db, people["lead"])] == [plan.id]
    assert [r.id for r in plan_progress.list_plans(db, people["hr"])] == [plan.id]
    assert plan_progress.list_plans(db, people["peer"]) == []
    assert plan_progress.list_plans(db, people["other_lead"]) == []


def test_the_lead_edits_modules_dates_and_notes(
    db: Session, people: dict[str, User], plan: DevelopmentPlan
) -> None:
    lead = people["lead"]
    item = first_item(db, plan)
    due = date(2026, 12, 31)

    plan_service.update_item(db, lead, plan.id, item.id, due_date=due, owner_note=" 先看案例 ")
    plan_service.remove_item(db, lead, plan.id, item.id)
    added = plan_service.add_item(db, lead, plan.id, item.module_id, due_date=due, note="重来")
    plan_service.update_plan(db, lead, plan.id, "入职三个月计划")

    view = plan_progress.get_plan_view(db, people["member"], plan.id)
    assert view.custom_title == "入职三个月计划"
    readded = next(i for s in view.steps for i in s.items if i.id == added.id)
    assert (readded.module.id, readded.due_date, readded.owner_note) == (
        item.module_id,
        due,
        "重来",
    )
    # Added back under the competency with the largest gap among the module's.
    assert readded.competency == item.competency
    with pytest.raises(Conflict):
        plan_service.add_item(db, lead, plan.id, item.module_id)
    with pytest.raises(InvalidInput) as unknown:
        plan_service.add_item(db, lead, plan.id, "no_such_module")
    assert unknown.value.field == "module_id"


def test_the_member_updates_status_and_evidence_only(
    db: Session, people: dict[str, User], plan: DevelopmentPlan
) -> None:
    member = people["member"]
    item = first_item(db, plan)

    plan_service.set_status(db, member, plan.id, item.id, "in_progress")
    plan_service.add_evidence(db, member, plan.id, item.id, "完成第一课，作业链接见飞书")
    plan_service.set_status(db, member, plan.id, item.id, "done")

    view = plan_progress.get_plan_view(db, member, plan.id)
    shown = next(i for s in view.steps for i in s.items if i.id == item.id)
    assert shown.status == "done"
    assert shown.done_at is not None
    assert [n.text for n in shown.evidence] == ["完成第一课，作业链接见飞书"]
    assert view.totals.done == 1
    assert (view.can_update, view.can_edit) == (True, False)

    with pytest.raises(Forbidden):
        plan_service.update_item(db, member, plan.id, item.id, due_date=date(2027, 1, 1))
    with pytest.raises(Forbidden):
        plan_service.add_item(db, member, plan.id, item.module_id)
    with pytest.raises(Forbidden):
        plan_service.remove_item(db, member, plan.id, item.id)
    with pytest.raises(InvalidInput) as bad:
        plan_service.set_status(db, member, plan.id, item.id, "abandoned")
    assert bad.value.field == "status"
    with pytest.raises(InvalidInput):
        plan_service.add_evidence(db, member, plan.id, item.id, "   ")


def test_nobody_else_edits(db: Session, people: dict[str, User], plan: DevelopmentPlan) -> None:
    item = first_item(db, plan)
    # The lead sees the plan but only the person updates status and evidence.
    with pytest.raises(Forbidden):
        plan_service.set_status(db, people["lead"], plan.id, item.id, "done")
    with pytest.raises(Forbidden):
        plan_service.add_evidence(db, people["lead"], plan.id, item.id, "done")
    # HR sees every plan and edits none.
    with pytest.raises(Forbidden):
        plan_service.update_item(db, people["hr"], plan.id, item.id, owner_note="x")
    with pytest.raises(Forbidden):
        plan_service.set_status(db, people["hr"], plan.id, item.id, "done")
    # Anyone else cannot tell the plan exists.
    for name in ("peer", "other_lead"):
        with pytest.raises(NotFound):
            plan_service.update_item(db, people[name], plan.id, item.id, owner_note="x")
        with pytest.raises(NotFound):
            plan_service.set_status(db, people[name], plan.id, item.id, "done")
    assert first_item(db, plan).status == "planned"


def test_an_item_of_another_plan_is_not_found(
    db: Session, settings: Settings, people: dict[str, User], plan: DevelopmentPlan
) -> None:
    review = make_review(
        db, settings, make_team(db, people["lead"]), people["peer"], all_at(4, data_analysis=1)
    )
    other = plan_service.create_plan(db, people["lead"], "review", review.ratee.id)
    with pytest.raises(NotFound):
        plan_service.update_item(
            db, people["lead"], plan.id, first_item(db, other).id, owner_note="x"
        )


# ── progress ────────────────────────────────────────────────────────────────────────────


def test_before_and_after_appear_once_newer_evidence_exists(
    db: Session, settings: Settings, people: dict[str, User], plan: DevelopmentPlan
) -> None:
    member = people["member"]
    view = plan_progress.get_plan_view(db, member, plan.id)
    assert not view.has_newer
    assert all(row.after is None for row in view.progress)

    # An older result says nothing about progress since the plan's source.
    make_review(
        db,
        settings,
        make_team(db, people["lead"]),
        member,
        all_at(5),
        closed_at=plan.source_at - timedelta(days=30),
    )
    assert not plan_progress.get_plan_view(db, member, plan.id).has_newer

    later = make_review(
        db,
        settings,
        make_team(db, people["lead"]),
        member,
        all_at(4, content_creation=3, data_analysis=2),
    )
    view = plan_progress.get_plan_view(db, member, plan.id)

    assert view.has_newer
    rows = {r.competency: r for r in view.progress}
    assert [r.competency for r in view.progress[:2]] == ["content_creation", "data_analysis"]
    assert (rows["content_creation"].before, rows["content_creation"].after) == (1.0, 3.0)
    assert rows["content_creation"].change == 2.0
    assert rows["data_analysis"].change == 0.0
    assert rows["content_creation"].after_source is not None
    assert rows["content_creation"].after_source.id == later.ratee.id


def test_the_newest_evidence_wins_per_competency(
    db: Session, settings: Settings, people: dict[str, User], plan: DevelopmentPlan
) -> None:
    member = people["member"]
    make_review(
        db,
        settings,
        make_team(db, people["lead"]),
        member,
        all_at(4, content_creation=2),
        closed_at=utcnow() - timedelta(days=30),
    )
    make_scored(
        db, people["hr"], settings, member, weak=("content_creation",), submitted_at=utcnow()
    )

    rows = {r.competency: r for r in plan_progress.get_plan_view(db, member, plan.id).progress}

    assert rows["content_creation"].after_source is not None
    assert rows["content_creation"].after_source.kind == "assessment"
    assert rows["content_creation"].after == 1.0


def test_the_team_view_counts_completion_overdue_and_gaps_left(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    lead, member, peer = people["lead"], people["member"], people["peer"]
    team = make_team(db, lead, member, peer, name="内容组")
    old = utcnow() - timedelta(days=60)
    mine = plan_service.create_plan(
        db,
        lead,
        "review",
        make_review(
            db, settings, team, member, all_at(4, content_creation=1), closed_at=old
        ).ratee.id,
    )
    theirs = plan_service.create_plan(
        db,
        lead,
        "review",
        make_review(
            db, settings, team, peer, all_at(4, content_creation=2, data_analysis=2), closed_at=old
        ).ratee.id,
    )
    items = db.scalars(select(PlanItem).where(PlanItem.plan_id == mine.id)).all()
    plan_service.set_status(db, member, mine.id, items[0].id, "done")
    today = utcnow().date()
    plan_service.update_item(db, lead, mine.id, items[1].id, due_date=today - timedelta(days=1))
    # The peer has since reached the content target; data analysis is still short.
    make_review(db, settings, team, peer, all_at(4, content_creation=3, data_analysis=2))

    view = plan_progress.team_view(db, lead, team.id, on=today)

    by_person = {m.person.id: m.plans for m in view.members}
    (own,) = by_person[member.id]
    assert (own.plan_id, own.totals.done, own.totals.items) == (mine.id, 1, len(items))
    assert [o.item_id for o in own.overdue] == [items[1].id]
    assert [b.competency for b in own.below_target] == ["content_creation"]
    (other,) = by_person[peer.id]
    assert other.plan_id == theirs.id
    assert [b.competency for b in other.below_target] == ["data_analysis"]
    assert [(c.competency, c.count) for c in view.below_target] == [
        ("content_creation", 1),
        ("data_analysis", 1),
    ]
    assert view.totals.done == 1
    assert view.totals.overdue == 1

    with pytest.raises(NotFound):
        plan_progress.team_view(db, people["other_lead"], team.id)
    with pytest.raises(Forbidden):
        plan_progress.team_view(db, member, team.id)
    assert plan_progress.team_view(db, people["hr"], team.id).id == team.id


# ── catalogue ───────────────────────────────────────────────────────────────────────────


def test_the_catalogue_filters_by_competency_and_level(settings: Settings) -> None:
    found = catalogue.catalogue(settings, competency="data_analysis", level=2)

    (group,) = found.groups
    assert group.competency == "data_analysis"
    assert group.modules
    assert all(m.from_level <= 2 < m.to_level for m in group.modules)
    assert all("data_analysis" in m.competencies for m in group.modules)
    assert all(m.title["zh"] and m.title["en"] and m.hours > 0 for m in group.modules)
    with pytest.raises(InvalidInput) as unknown:
        catalogue.catalogue(settings, competency="juggling")
    assert unknown.value.field == "competency"


def test_hr_sees_the_modules_and_gaps_most_needed(
    db: Session, settings: Settings, people: dict[str, User]
) -> None:
    team = make_team(db, people["lead"])
    one = plan_service.create_plan(
        db,
        people["lead"],
        "review",
        make_review(db, settings, team, people["member"], all_at(4, data_analysis=1)).ratee.id,
    )
    two = plan_service.create_plan(
        db,
        people["lead"],
        "review",
        make_review(
            db, settings, team, people["peer"], all_at(4, data_analysis=2, communication=2)
        ).ratee.id,
    )
    done = first_item(db, one)
    plan_service.set_status(db, people["member"], one.id, done.id, "done")

    needs = catalogue.needs(db, people["hr"], settings)

    open_items = db.scalars(
        select(PlanItem.module_id).where(
            PlanItem.plan_id.in_([one.id, two.id]), PlanItem.status != "done"
        )
    ).all()
    assert needs.plans == 2
    assert needs.open_items == len(open_items)
    counts = {n.module.id: n.open_items for n in needs.modules}
    assert counts == {m: open_items.count(m) for m in set(open_items)}
    assert [n.open_items for n in needs.modules] == sorted(counts.values(), reverse=True)
    assert [(c.competency, c.plans, c.mean_gap) for c in needs.competencies] == [
        ("data_analysis", 2, 1.5),
        ("communication", 1, 1.0),
    ]
    with pytest.raises(Forbidden):
        catalogue.needs(db, people["lead"], settings)
