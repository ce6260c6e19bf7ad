"""Closing and results: thresholds, "not observed", blind spots, heat map, agreement, trends."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import service as assessment_service
from app.config import Settings
from app.db import utcnow
from app.errors import Forbidden, NotFound
from app.reviews import service as review_service
from app.reviews.models import ReviewAnswer
from app.reviews.views import CompetencyResult, ResultView
from tests.assessments.staff_helpers import levels, make_candidate, make_submitted, work_samples
from tests.reviews.review_helpers import (
    MakeUser,
    Team,
    competencies,
    make_due,
    make_team,
    open_cycle,
    rate,
    request_of,
)

Spec = review_service.RateeSpec
CONTENT = "content_creation"


@pytest.fixture
def team(db: Session, settings: Settings, make_user: MakeUser) -> Team:
    return make_team(
        db, settings, make_user, names=["李安娜", "周宁", "陈可", "赵一", "孙二"], size=5
    )


def open_for_anna(db: Session, settings: Settings, team: Team) -> int:
    anna, ning, ke, yi = team.members[:4]
    spec = Spec(anna.id, peer_ids=(ning.id, ke.id, yi.id))
    return open_cycle(db, settings, team, [spec]).cycle.id


def competency(result: ResultView, competency_id: str = CONTENT) -> CompetencyResult:
    return next(c for c in result.competencies if c.id == competency_id)


def group(result: ResultView, name: str, competency_id: str = CONTENT) -> tuple[object, ...]:
    cell = next(g for g in competency(result, competency_id).groups if g.group == name)
    return cell.level, cell.count, cell.withheld.reason if cell.withheld else None


def test_full_cycle_from_opening_to_the_released_result(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke, yi = team.members[:4]
    cycle_id = open_for_anna(db, settings, team)
    rate(db, settings, cycle_id, anna, anna, 5)
    rate(db, settings, cycle_id, anna, team.lead, 3, comment={CONTENT: "选题扎实"})
    rate(db, settings, cycle_id, anna, ning, 3, comment={CONTENT: "文案有亮点"})
    rate(db, settings, cycle_id, anna, ke, 3)
    rate(db, settings, cycle_id, anna, yi, 4, comment={CONTENT: "  "})

    # Before the cycle closes there is no result, not even for the lead.
    for viewer in (anna, team.lead, team.hr):
        with pytest.raises(NotFound):
            review_service.get_result(db, viewer, cycle_id, anna.id)
    review_service.close_cycle(db, team.lead, cycle_id)
    result = review_service.get_result(db, anna, cycle_id, anna.id)

    assert group(result, "self") == (5.0, 1, None)
    assert group(result, "manager") == (3.0, 1, None)
    peer_level, peer_count, _ = group(result, "peer")
    assert peer_level == pytest.approx(10 / 3)
    assert peer_count == 3
    assert group(result, "report") == (None, None, None)
    content = competency(result)
    # Others: each group once, so three peers don't drown one manager.
    assert content.others == pytest.approx((3 + 10 / 3) / 2)
    assert content.target == 3.0
    assert content.gap == 0.0
    assert content.blind_spot
    # Only the figures: what a blind spot means is said once, where pages list them.
    assert content.explanation == {
        "zh": "自评 5.0，他评 3.2：自评高出 1.8",
        "en": "Self 5.0, others 3.2: self 1.8 higher",
    }
    assert CONTENT in result.blind_spots
    # Blank comments are dropped; the rest carry their group and no name.
    assert sorted(c.text for c in content.comments) == ["文案有亮点", "选题扎实"]
    assert {c.group for c in content.comments} == {"manager", "peer"}
    assert content.anchor_level == 3
    assert result.overall.others == pytest.approx((3 + 10 / 3) / 2)
    assert [d.id for d in result.dimensions] == ["professional", "soft", "industry"]
    assert result.withheld == ()
    assert result.ratee.name == "李安娜"
    assert result.cycle.status == "released"
    # The lead and HR see the same released result; another member does not.
    assert review_service.get_result(db, team.lead, cycle_id, anna.id) == result
    assert review_service.get_result(db, team.hr, cycle_id, anna.id) == result
    for stranger in (ning, team.other_lead, team.outsider):
        with pytest.raises(NotFound):
            review_service.get_result(db, stranger, cycle_id, anna.id)


def test_two_peers_are_withheld_with_the_reason_and_three_are_shown(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke, yi = team.members[:4]
    two = open_for_anna(db, settings, team)
    rate(db, settings, two, anna, team.lead, 2)
    rate(db, settings, two, anna, ning, 5, comment={CONTENT: "不该出现的评语"})
    rate(db, settings, two, anna, ke, 5)
    review_service.close_cycle(db, team.lead, two)
    result = review_service.get_result(db, anna, two, anna.id)

    assert group(result, "peer") == (None, None, "too_few_raters")
    content = competency(result)
    # Withheld everywhere: not in its row, not in Others, not in the comments.
    assert content.others == 2.0
    assert content.comments == ()
    (withheld,) = result.withheld
    assert (withheld.group, withheld.reason, withheld.needed) == ("peer", "too_few_raters", 3)
    assert "Fewer than 3 peers answered" in withheld.message["en"]
    assert "少于 3 人" in withheld.message["zh"]

    three = open_for_anna(db, settings, team)
    for rater, level in ((team.lead, 2), (ning, 5), (ke, 5), (yi, 2)):
        rate(db, settings, three, anna, rater, level)
    review_service.close_cycle(db, team.hr, three)
    shown = review_service.get_result(db, anna, three, anna.id)
    assert group(shown, "peer") == (4.0, 3, None)
    assert competency(shown).others == 3.0


def test_not_observed_is_missing_not_zero_and_can_withhold_one_competency(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke, yi = team.members[:4]
    cycle_id = open_for_anna(db, settings, team)
    other = competencies(settings)[1]
    rate(db, settings, cycle_id, anna, ning, {CONTENT: None, other: 4})
    rate(db, settings, cycle_id, anna, ke, 4)
    rate(db, settings, cycle_id, anna, yi, 4)
    rate(db, settings, cycle_id, anna, team.lead, {CONTENT: None, other: 2})
    review_service.close_cycle(db, team.lead, cycle_id)
    result = review_service.get_result(db, anna, cycle_id, anna.id)

    # Two peers rated content_creation: withheld there only, with its own reason.
    assert group(result, "peer") == (None, None, "too_few_ratings")
    assert group(result, "manager") == (None, None, None)
    assert competency(result).others is None
    assert competency(result).gap is None
    assert group(result, "peer", other) == (4.0, 3, None)
    assert competency(result, other).others == 3.0
    (withheld,) = result.withheld
    assert withheld.competencies == (CONTENT,)


def test_only_approved_submitted_requests_count(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke, yi, er = team.members
    cycle_id = open_for_anna(db, settings, team)
    for rater in (ning, ke, yi):
        rate(db, settings, cycle_id, anna, rater, 2)
    # A draft never submitted, and a nomination never approved that somehow holds answers.
    review_service.save_answers(
        db,
        team.lead,
        request_of(db, cycle_id, anna, team.lead).id,
        {CONTENT: review_service.AnswerInput(level=5)},
    )
    review_service.nominate(db, anna, cycle_id, er.id)
    nominated = request_of(db, cycle_id, anna, er)
    nominated.submitted_at = utcnow()
    db.add_all(
        ReviewAnswer(request_id=nominated.id, competency_id=c, level=5)
        for c in competencies(settings)
    )
    db.flush()
    review_service.close_cycle(db, team.lead, cycle_id)
    result = review_service.get_result(db, anna, cycle_id, anna.id)

    assert group(result, "peer") == (2.0, 3, None)
    assert group(result, "manager") == (None, None, None)
    assert competency(result).others == 2.0


def test_a_cycle_closed_at_its_due_date_releases_the_results(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke, yi = team.members[:4]
    cycle_id = open_for_anna(db, settings, team)
    for rater in (ning, ke, yi, team.lead):
        rate(db, settings, cycle_id, anna, rater, 4)
    make_due(db, cycle_id)
    assert review_service.close_due_cycles(db, utcnow()) == [cycle_id]
    assert competency(review_service.get_result(db, anna, cycle_id, anna.id)).others == 4.0
    assert [c.id for c in review_service.list_my_results(db, anna)] == [cycle_id]


def test_results_list_heat_map_and_agreement_for_the_lead(
    db: Session, settings: Settings, team: Team
) -> None:
    anna, ning, ke, yi, er = team.members
    specs = [Spec(anna.id, peer_ids=(ning.id, ke.id, yi.id)), Spec(er.id)]
    cycle_id = open_cycle(db, settings, team, specs).cycle.id
    low = {CONTENT: 2}
    for rater, given in ((team.lead, low), (ning, low), (ke, low), (yi, {CONTENT: 3})):
        rate(db, settings, cycle_id, anna, rater, given)
    rate(db, settings, cycle_id, er, er, 5)
    with pytest.raises(NotFound):
        review_service.get_cycle_agreement(db, team.lead, cycle_id)
    with pytest.raises(NotFound):
        review_service.list_results(db, team.lead, cycle_id)
    review_service.close_cycle(db, team.lead, cycle_id)

    summary = review_service.list_results(db, team.lead, cycle_id)
    by_name = {s.ratee.name: s for s in summary.results}
    assert set(by_name) == {"李安娜", er.name}
    assert by_name[er.name].overall_others is None
    assert by_name["李安娜"].overall_gap is not None

    heat = review_service.team_heat_map(db, team.lead, team.id)
    assert heat.cycle is not None
    assert heat.cycle.id == cycle_id
    assert [h.id for h in heat.competencies] == competencies(settings)
    rows = {row.ratee.name: {c.competency_id: c for c in row.cells} for row in heat.rows}
    anna_content = rows["李安娜"][CONTENT]
    assert (anna_content.state, anna_content.target) == ("below", 3.0)
    assert anna_content.others == pytest.approx((2 + 7 / 3) / 2)
    assert rows["李安娜"][competencies(settings)[1]].state == "meets"
    # Self ratings alone never set a level.
    assert {c.state for c in rows[er.name].values()} == {"not_assessed"}
    assert {c.others for c in rows[er.name].values()} == {None}

    agreement = review_service.get_cycle_agreement(db, team.lead, cycle_id)
    assert [c.id for c in agreement.competencies] == competencies(settings)
    assert agreement.overall.pairable_units >= 1
    assert agreement.overall.message["en"]

    for forbidden in (anna, ning):
        with pytest.raises(Forbidden):
            review_service.team_heat_map(db, forbidden, team.id)
        with pytest.raises(Forbidden):
            review_service.get_cycle_agreement(db, forbidden, cycle_id)
    with pytest.raises(NotFound):
        review_service.team_heat_map(db, team.other_lead, team.id)
    with pytest.raises(NotFound):
        review_service.list_results(db, team.other_lead, cycle_id)
    assert review_service.team_heat_map(db, team.hr, team.id, cycle_id) == heat


def test_the_heat_map_of_a_team_without_released_cycles_is_empty(
    db: Session, settings: Settings, team: Team
) -> None:
    open_for_anna(db, settings, team)
    heat = review_service.team_heat_map(db, team.lead, team.id)
    assert (heat.cycle, heat.rows) == (None, ())


def _scored_assessment(db: Session, settings: Settings, hr: User, rater: User, email: str) -> int:
    candidate = make_candidate(db, hr, "李安娜", email)
    assessment = make_submitted(db, hr, settings, role="specialist", candidate=candidate)
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    for item in work_samples(db, assessment):
        assessment_service.save_rating(
            db, rater, assessment.id, item, levels(db, assessment, item, -1)
        )
    assert assessment.status == "scored"
    return assessment.id


def test_a_person_trend_joins_reviews_and_hiring_assessments_matched_by_email(
    db: Session, settings: Settings, team: Team, make_user: MakeUser
) -> None:
    anna, ning, ke, yi = team.members[:4]
    assessment_id = _scored_assessment(
        db, settings, team.hr, make_user(Role.MEMBER), anna.email.upper()
    )
    _scored_assessment(db, settings, team.hr, make_user(Role.MEMBER), "someone.else@example.com")
    cycles = []
    for level in (2, 4):
        cycle_id = open_for_anna(db, settings, team)
        for rater in (team.lead, ning, ke, yi):
            rate(db, settings, cycle_id, anna, rater, level)
        review_service.close_cycle(db, team.lead, cycle_id)
        cycles.append(cycle_id)

    trend = review_service.person_trend(db, anna, anna.id)

    assert [(s.kind, s.id) for s in trend.sources] == [
        ("assessment", assessment_id),
        ("review", cycles[0]),
        ("review", cycles[1]),
    ]
    content = next(c for c in trend.competencies if c.id == CONTENT)
    assert [p.kind for p in content.points] == ["assessment", "review", "review"]
    assert [p.level for p in content.points[1:]] == [2.0, 4.0]
    assert all(p.rubric_version == trend.sources[0].rubric_version for p in content.points)
    assert content.name["zh"] == "内容创作能力"
    assert "email" in trend.note["en"]

    assert review_service.person_trend(db, team.lead, anna.id) == trend
    assert review_service.person_trend(db, team.hr, anna.id) == trend
    for stranger in (ning, team.other_lead, team.outsider):
        with pytest.raises(NotFound):
            review_service.person_trend(db, stranger, anna.id)
    with pytest.raises(NotFound):
        review_service.person_trend(db, team.hr, 999_999)
