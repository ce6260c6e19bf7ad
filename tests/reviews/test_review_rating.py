"""The rater's side: tasks, the anchored form, autosave, "not observed" and the one-time submit."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Conflict, NotFound
from app.reviews import service as review_service
from app.reviews.common import FieldErrors
from tests.reviews.review_helpers import (
    MakeUser,
    Team,
    answers,
    competencies,
    make_due,
    make_team,
    open_cycle,
    rate,
    request_of,
)

Answer = review_service.AnswerInput
Spec = review_service.RateeSpec


@pytest.fixture
def team(db: Session, settings: Settings, make_user: MakeUser) -> Team:
    return make_team(db, settings, make_user, names=["李安娜", "周宁", "陈可", "赵一", "孙二"])


@pytest.fixture
def cycle_id(db: Session, settings: Settings, team: Team) -> int:
    anna, ning, ke = team.members[:3]
    return open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id, ke.id))]).cycle.id


def test_a_rater_sees_their_tasks_to_do_and_done(
    db: Session, settings: Settings, team: Team, cycle_id: int
) -> None:
    anna, ning = team.member(0), team.member(1)
    other = open_cycle(db, settings, team, [Spec(team.member(3).id, peer_ids=(ning.id,))])
    rate(db, settings, cycle_id, anna, ning)

    tasks = review_service.list_tasks(db, ning)

    assert [(t.ratee.name, t.state, t.group) for t in tasks] == [
        (team.member(3).name, "to_do", "peer"),
        ("李安娜", "done", "peer"),
    ]
    assert tasks[0].cycle_id == other.cycle.id
    assert (tasks[1].answered, tasks[1].total) == (9, 9)
    assert [t.group for t in review_service.list_tasks(db, anna)] == ["self"]
    assert [t.group for t in review_service.list_tasks(db, team.lead)] == ["manager", "manager"]
    assert review_service.list_tasks(db, team.outsider) == []


def test_the_form_offers_the_five_anchors_of_each_competency_in_both_languages(
    db: Session, settings: Settings, team: Team, cycle_id: int
) -> None:
    anna, ning = team.member(0), team.member(1)
    form = review_service.get_form(db, ning, request_of(db, cycle_id, anna, ning).id)

    assert form.ratee.name == "李安娜"
    assert (form.group, form.state, form.editable) == ("peer", "to_do", True)
    listed = [c for d in form.dimensions for c in d.competencies]
    assert [c.id for c in listed] == competencies(settings)
    for competency in listed:
        assert [a.level for a in competency.anchors] == [1, 2, 3, 4, 5]
        assert all(a.text["zh"] and a.text["en"] for a in competency.anchors)
        assert competency.answer is None
    assert [level.name["en"] for level in form.scale[:1]] == ["Novice"]
    assert (form.answered, form.total, form.comment_max) == (0, 9, 2000)


def test_autosave_keeps_partial_answers_drafts_and_not_observed(
    db: Session, settings: Settings, team: Team, cycle_id: int
) -> None:
    anna, ning = team.member(0), team.member(1)
    request_id = request_of(db, cycle_id, anna, ning).id
    first, second, third = competencies(settings)[:3]

    review_service.save_answers(db, ning, request_id, {first: Answer(level=4, comment="稳定")})
    form = review_service.save_answers(
        db,
        ning,
        request_id,
        {second: Answer(not_observed=True), third: Answer(comment="还没想好等级")},
    )

    given = {c.id: c.answer for d in form.dimensions for c in d.competencies if c.answer}
    assert (given[first].level, given[first].comment) == (4, "稳定")
    assert (given[second].level, given[second].not_observed) == (None, True)
    # A comment typed before choosing is kept, and is not mistaken for "not observed".
    assert (given[third].level, given[third].not_observed, given[third].chosen) == (
        None,
        False,
        False,
    )
    assert form.answered == 2
    # Saving without a choice or comment clears the answer; others stay as they were.
    form = review_service.save_answers(db, ning, request_id, {first: Answer()})
    given = {c.id: c.answer for d in form.dimensions for c in d.competencies if c.answer}
    assert set(given) == {second, third}


@pytest.mark.parametrize(
    ("answer", "field_suffix"),
    [
        (Answer(level=7), ".level"),
        (Answer(level=0), ".level"),
        (Answer(level=3, not_observed=True), ".level"),
        (Answer(level=3, comment="长" * 2001), ".comment"),
    ],
)
def test_autosave_names_each_wrong_answer(
    db: Session,
    settings: Settings,
    team: Team,
    cycle_id: int,
    answer: review_service.AnswerInput,
    field_suffix: str,
) -> None:
    anna, ning = team.member(0), team.member(1)
    request_id = request_of(db, cycle_id, anna, ning).id
    competency = competencies(settings)[0]
    with pytest.raises(FieldErrors) as raised:
        review_service.save_answers(db, ning, request_id, {competency: answer})
    assert f"answers.{competency}{field_suffix}" in raised.value.errors
    with pytest.raises(FieldErrors) as unknown:
        review_service.save_answers(db, ning, request_id, {"juggling": Answer(level=3)})
    assert "answers.juggling" in unknown.value.errors


def test_submit_needs_every_competency_then_is_read_only_and_answered_once(
    db: Session, settings: Settings, team: Team, cycle_id: int
) -> None:
    anna, ning = team.member(0), team.member(1)
    request_id = request_of(db, cycle_id, anna, ning).id
    ids = competencies(settings)
    review_service.save_answers(db, ning, request_id, {ids[0]: Answer(level=2)})

    with pytest.raises(FieldErrors) as incomplete:
        review_service.submit(db, ning, request_id)
    assert set(incomplete.value.errors) == {f"answers.{c}" for c in ids[1:]}

    levels = dict.fromkeys(ids, 4) | {ids[-1]: None}
    form = review_service.submit(db, ning, request_id, answers(settings, levels))
    assert (form.state, form.editable, form.answered) == ("done", False, 9)
    assert form.submitted_at is not None

    with pytest.raises(Conflict):
        review_service.save_answers(db, ning, request_id, {ids[0]: Answer(level=1)})
    again = review_service.submit(db, ning, request_id, answers(settings, 1))
    assert again == form


def test_ratings_stop_when_the_cycle_is_due_or_closed(
    db: Session, settings: Settings, team: Team, cycle_id: int
) -> None:
    anna, ning, ke = team.members[:3]
    ning_request = request_of(db, cycle_id, anna, ning).id
    ke_request = request_of(db, cycle_id, anna, ke).id
    review_service.save_answers(db, ning, ning_request, {competencies(settings)[0]: Answer(2)})
    make_due(db, cycle_id)

    with pytest.raises(Conflict):
        review_service.save_answers(db, ning, ning_request, answers(settings, 3))
    with pytest.raises(Conflict):
        review_service.submit(db, ke, ke_request, answers(settings, 3))
    # Reading the form closes the due cycle; the draft stays visible to its rater, read-only.
    form = review_service.get_form(db, ning, ning_request)
    assert (form.state, form.editable, form.answered) == ("closed", False, 1)
    assert form.cycle.status == "released"


def test_nobody_but_the_rater_opens_a_form(
    db: Session, settings: Settings, team: Team, cycle_id: int
) -> None:
    anna, ning, ke = team.members[:3]
    rate(db, settings, cycle_id, anna, ning, 5, comment="周宁写的")
    request_id = request_of(db, cycle_id, anna, ning).id
    for someone in (ke, anna, team.lead, team.hr, team.admin, team.other_lead):
        with pytest.raises(NotFound):
            review_service.get_form(db, someone, request_id)
        with pytest.raises(NotFound):
            review_service.save_answers(db, someone, request_id, answers(settings, 1))
        with pytest.raises(NotFound):
            review_service.submit(db, someone, request_id, answers(settings, 1))
    with pytest.raises(NotFound):
        review_service.get_form(db, ning, 999_999)


def test_a_nominee_rates_only_after_approval(
    db: Session, settings: Settings, team: Team, cycle_id: int
) -> None:
    anna, yi = team.member(0), team.member(3)
    review_service.nominate(db, anna, cycle_id, yi.id)
    request_id = request_of(db, cycle_id, anna, yi).id
    with pytest.raises(NotFound):
        review_service.get_form(db, yi, request_id)
    review_service.decide(db, team.lead, request_id, approve=True)
    assert review_service.get_form(db, yi, request_id).state == "to_do"
