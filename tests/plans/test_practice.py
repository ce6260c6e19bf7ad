"""Practice: only practice-only items, instant feedback, running scores, no official writes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments.models import Answer, Assessment, AssessmentResult
from app.config import Settings
from app.errors import InvalidInput, NotFound
from app.plans import practice, practice_service
from app.plans import service as plan_service
from app.plans.models import DevelopmentPlan, PlanItem
from app.reviews.models import ReviewAnswer, ReviewResult
from app.rubrics.loader import load_rubric
from app.rubrics.spec import Item, ItemType, ItemUse, Rubric
from tests.conftest import SHIPPED_RUBRIC, MakeUser
from tests.plans.plan_helpers import all_at, make_review, make_team


@pytest.fixture(scope="module")
def shipped() -> Rubric:
    return load_rubric(SHIPPED_RUBRIC)


def choice(item_id: str, options: list[tuple[str, float]], **extra: Any) -> Item:
    data: dict[str, Any] = {
        "id": item_id,
        "type": "knowledge",
        "competency": "c",
        "indicator": "i",
        "prompt": {"en": "?"},
        "explanation": {"en": "because"},
        "use": ["practice"],
        "options": [{"id": o, "text": {"en": o}, "points": p} for o, p in options],
        **extra,
    }
    return Item.model_validate(data)


# ── the pure rules ──────────────────────────────────────────────────────────────────────


def test_practice_never_offers_an_item_used_in_hiring(shipped: Rubric) -> None:
    for _, competency in shipped.competencies():
        offered = practice.practice_items(shipped, competency.id)
        # The shipped bank keeps at least two practice-only items per competency.
        assert len(offered) >= 2, competency.id
        for item in offered:
            assert ItemUse.HIRING not in item.use
            assert ItemUse.PRACTICE in item.use
            assert item.type in (ItemType.KNOWLEDGE, ItemType.SITUATIONAL)
    both = next(i for i in shipped.items if set(i.use) == {ItemUse.HIRING, ItemUse.PRACTICE})
    assert not practice.is_practice_item(both)


@pytest.mark.parametrize(
    ("selected", "points"),
    [
        (["a", "b"], 2.0),
        (["a", "c"], 0.0),  # 1 − 1.5 clips to 0
        (["a"], 1.0),
        (["a", "b", "c"], 0.5),
    ],
)
def test_multiple_choice_scores_as_in_hiring(selected: list[str], points: float) -> None:
    item = choice("m", [("a", 1), ("b", 1), ("c", -1.5)], select="multiple")
    scored = practice.score(item, selected)
    assert (scored.points, scored.maximum, scored.fraction) == (points, 2.0, points / 2)


def test_feedback_marks_the_best_options_and_the_choice() -> None:
    item = choice("m", [("a", 1), ("b", 1), ("c", -1)], select="multiple")
    given = practice.feedback(item, ["a", "c"])
    assert not given.correct
    assert given.points == 0
    assert [(o.id, o.selected, o.best) for o in given.options] == [
        ("a", True, True),
        ("b", False, True),
        ("c", True, False),
    ]
    assert given.explanation == {"en": "because"}


@pytest.mark.parametrize(
    ("selected", "problem"),
    [([], "Choose an option."), (["x"], "No such option: x"), (["a", "b"], "one option only")],
)
def test_a_selection_that_cannot_be_scored_says_why(selected: list[str], problem: str) -> None:
    item = choice("s", [("a", 1), ("b", 0)])
    found = practice.selection_problem(item, selected)
    assert found is not None
    assert problem in found["en"]
    assert found["zh"]


def test_the_running_score_weighs_answers_like_a_competency_fraction() -> None:
    assert practice.running_score([]) is None
    assert practice.running_score([(1.0, 1.0), (3.0, 0.0)]) == 0.25


# ── sessions ────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def member_with_plan(
    db: Session, settings: Settings, make_user: MakeUser
) -> tuple[User, DevelopmentPlan]:
    lead, member = make_user(Role.LEAD), make_user(Role.MEMBER)
    team = make_team(db, lead, member)
    review = make_review(db, settings, team, member, all_at(4, data_analysis=1))
    return member, plan_service.create_plan(db, lead, "review", review.ratee.id)


def official_counts(db: Session) -> list[int]:
    tables = (Assessment, Answer, AssessmentResult, ReviewAnswer, ReviewResult, PlanItem)
    return [db.scalar(select(func.count()).select_from(t)) or 0 for t in tables]


def best(item: Item) -> list[str]:
    return sorted(practice.best_options(item))


def worst(item: Item) -> list[str]:
    return [min(item.options, key=lambda o: o.points).id]


def test_a_session_asks_only_practice_items_and_scores_as_it_goes(
    db: Session, settings: Settings, member_with_plan: tuple[User, DevelopmentPlan], shipped: Rubric
) -> None:
    member, _ = member_with_plan
    before = official_counts(db)

    run = practice_service.start(db, member, settings, "data_analysis")

    offered = {i.id for i in practice.practice_items(shipped, "data_analysis")}
    assert set(run.item_ids) == offered
    index = shipped.item_index()
    first, second = (index[i] for i in run.item_ids[:2])
    view = practice_service.get_session_view(db, member, run.id)
    assert view.next_question is not None
    assert view.next_question.id == first.id
    # Options are asked without their points.
    assert not hasattr(view.next_question.options[0], "points")

    got = practice_service.answer(db, member, run.id, first.id, best(first))
    assert got.correct
    assert got.fraction == 1.0
    assert got.explanation == dict(first.explanation)
    practice_service.answer(db, member, run.id, second.id, worst(second))

    view = practice_service.get_session_view(db, member, run.id)
    assert [a.question.id for a in view.answered] == [first.id, second.id]
    assert view.score == pytest.approx(
        practice.running_score([(first.weight, 1.0), (second.weight, 0.0)])
    )
    if len(run.item_ids) == 2:
        assert view.finished_at is not None
        assert view.next_question is None
    # Nothing official was written: no assessment, answer, result, review or plan change.
    assert official_counts(db) == before


def test_situational_feedback_gives_every_options_rationale(
    db: Session, settings: Settings, member_with_plan: tuple[User, DevelopmentPlan], shipped: Rubric
) -> None:
    member, _ = member_with_plan
    run = practice_service.start(db, member, settings, "data_analysis")
    index = shipped.item_index()
    situational = next(index[i] for i in run.item_ids if index[i].type is ItemType.SITUATIONAL)

    got = practice_service.answer(db, member, run.id, situational.id, worst(situational))

    assert not got.correct
    assert all(o.rationale for o in got.options)
    assert [o.rationale for o in got.options] == [
        dict(o.rationale or {}) for o in situational.options
    ]
    assert [o.id for o in got.options if o.selected] == worst(situational)
    assert {o.id for o in got.options if o.best} == practice.best_options(situational)


def test_the_first_answer_stands(
    db: Session, settings: Settings, member_with_plan: tuple[User, DevelopmentPlan], shipped: Rubric
) -> None:
    member, _ = member_with_plan
    run = practice_service.start(db, member, settings, "data_analysis")
    item = shipped.item_index()[run.item_ids[0]]

    first = practice_service.answer(db, member, run.id, item.id, worst(item))
    again = practice_service.answer(db, member, run.id, item.id, best(item))

    assert again == first
    assert len(practice_service.get_session_view(db, member, run.id).answered) == 1


def test_an_unfinished_session_is_resumed_and_history_kept(
    db: Session, settings: Settings, member_with_plan: tuple[User, DevelopmentPlan], shipped: Rubric
) -> None:
    member, _ = member_with_plan
    run = practice_service.start(db, member, settings, "data_analysis")
    assert practice_service.start(db, member, settings, "data_analysis").id == run.id
    index = shipped.item_index()
    for item_id in run.item_ids:
        practice_service.answer(db, member, run.id, item_id, best(index[item_id]))
    again = practice_service.start(db, member, settings, "data_analysis")
    assert again.id != run.id
    practice_service.answer(
        db, member, again.id, again.item_ids[0], worst(index[again.item_ids[0]])
    )

    overview = practice_service.overview(db, member, settings)

    assert [(s.id, s.answered, s.total) for s in overview.sessions] == [
        (again.id, 1, len(again.item_ids)),
        (run.id, len(run.item_ids), len(run.item_ids)),
    ]
    assert overview.sessions[1].score == 1.0
    assert overview.sessions[1].finished_at is not None
    (topic,) = overview.topics
    assert topic.competency == "data_analysis"
    assert topic.answered == len(run.item_ids) + 1
    assert topic.open_session_id == again.id
    assert topic.score is not None
    assert 0 < topic.score < 1


def test_only_competencies_in_ones_plans_and_ones_own_sessions(
    db: Session,
    settings: Settings,
    member_with_plan: tuple[User, DevelopmentPlan],
    make_user: MakeUser,
) -> None:
    member, _ = member_with_plan
    with pytest.raises(InvalidInput) as refused:
        practice_service.start(db, member, settings, "trend_insight")
    assert refused.value.field == "competency"

    run = practice_service.start(db, member, settings, "data_analysis")
    stranger = make_user(Role.HR)
    with pytest.raises(NotFound):
        practice_service.get_session_view(db, stranger, run.id)
    with pytest.raises(NotFound):
        practice_service.answer(db, stranger, run.id, run.item_ids[0], ["a"])
    with pytest.raises(InvalidInput) as wrong:
        practice_service.answer(db, member, run.id, "da_k1", ["a"])
    assert wrong.value.field == "item_id"
    with pytest.raises(InvalidInput) as empty:
        practice_service.answer(db, member, run.id, run.item_ids[0], [])
    assert empty.value.field == "selected"
