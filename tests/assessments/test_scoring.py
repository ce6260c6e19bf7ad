"""The scoring model of ARCHITECTURE §3, checked against numbers worked out by hand.

The rubric is tests/assessments/scoring_rubric.yaml: scale 1–5; role `analyst` with
comp_a (target 3, weight 2, critical, tolerance 0.5), comp_b (target 4, weight 1) and
comp_c (target 1, weight 1); bands no [0, .5), maybe [.5, .8), yes [.8, 1]; cap at maybe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.assessments import scoring
from app.assessments.scoring import (
    ChoiceResponse,
    ItemStatus,
    RaterScore,
    Rating,
    Response,
    ScoreResult,
    ScoringInputError,
    WorkSampleResponse,
    score,
)
from app.rubrics.loader import load_rubric
from app.rubrics.spec import Rubric

RUBRIC_PATH = Path(__file__).with_name("scoring_rubric.yaml")
ALL_ITEMS = ("k_single", "k_multi", "s1", "w1", "k_c")


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    return load_rubric(RUBRIC_PATH)


def pick(*options: str) -> ChoiceResponse:
    return ChoiceResponse(tuple(options))


def rated(
    *ratings: tuple[str, str, str], adjudication: tuple[str, str] | None = None
) -> WorkSampleResponse:
    """Ratings of w1 as (rater, clarity level, impact level)."""
    return WorkSampleResponse(
        ratings=tuple(Rating(r, {"clarity": c, "impact": i}) for r, c, i in ratings),
        adjudication=(
            Rating("adjudicator", {"clarity": adjudication[0], "impact": adjudication[1]})
            if adjudication
            else None
        ),
    )


def run(
    rubric: Rubric, responses: Mapping[str, Response], drawn: Sequence[str] = ALL_ITEMS
) -> ScoreResult:
    return score(rubric, "v-test", "analyst", drawn, responses)


PERFECT: dict[str, Response] = {
    "k_single": pick("right"),
    "k_multi": pick("a", "b"),
    "s1": pick("best"),
    "w1": rated(("r1", "l3", "l3")),
    "k_c": pick("right"),
}


def without(responses: Mapping[str, Response], item_id: str) -> dict[str, Response]:
    return {key: value for key, value in responses.items() if key != item_id}


@dataclass(frozen=True)
class Case:
    name: str
    responses: Mapping[str, Response]
    drawn: Sequence[str] = ALL_ITEMS
    levels: Mapping[str, float | None] = field(default_factory=dict)
    gaps: Mapping[str, float] = field(default_factory=dict)
    dimensions: Mapping[str, float | None] = field(default_factory=dict)
    overall: float | None = None
    fit: float | None = None
    band: str | None = None
    fit_band: str | None = None
    pending: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    final: bool = True


CASES = [
    Case(
        "every answer right",
        PERFECT,
        levels={"comp_a": 5, "comp_b": 5, "comp_c": 5},
        gaps={"comp_a": 0, "comp_b": 0, "comp_c": 0},
        dimensions={"craft": 5, "insight": 5},
        overall=5,
        fit=1,
        band="yes",
    ),
    Case(
        # Nothing answered: every drawn item counts 0, so every level is the floor.
        # fit = (2·0 + 1·0 + 1·1) / 4 = 0.25 (comp_c's target is the floor: r = 1).
        "empty answers count as zero",
        {},
        levels={"comp_a": 1, "comp_b": 1, "comp_c": 1},
        gaps={"comp_a": 2, "comp_b": 3, "comp_c": 0},
        overall=1,
        fit=0.25,
        band="no",
        flags=("critical_gap",),
    ),
    Case(
        # k_multi: a + b + c = 3 points, clipped to max_points 2 → f = 1.
        "multi-select clipped at the maximum",
        {**PERFECT, "k_multi": pick("a", "b", "c")},
        levels={"comp_a": 5},
    ),
    Case(
        # k_multi: a + trap = 0; k_single right → p_a = (1·1 + 2·0) / 3 = 1/3 → L = 1 + 4/3.
        "a distractor cancels a right option",
        {**PERFECT, "k_multi": pick("a", "trap")},
        levels={"comp_a": 1 + 4 / 3},
        gaps={"comp_a": 3 - (1 + 4 / 3)},
        flags=("critical_gap",),
    ),
    Case(
        # k_multi: trap alone = −1, clipped to 0 (never negative); k_single wrong → L_a = 1.
        "negative points clipped at zero",
        {**PERFECT, "k_single": pick("wrong"), "k_multi": pick("trap")},
        levels={"comp_a": 1},
        flags=("critical_gap",),
    ),
    Case(
        # p_a = (1·1 + 2·0.5) / 3 = 2/3 → L_a = 1 + 4·2/3 = 11/3.
        "item weights in the competency fraction",
        {**PERFECT, "k_multi": pick("a")},
        levels={"comp_a": 11 / 3},
        dimensions={"craft": (2 * 11 / 3 + 1 * 5) / 3},
    ),
    Case(
        # w1: r1 = 3 + 2 = 5, r2 = 2 + 2 = 4 → raw 4.5 of 6 = 0.75; s1 = 1.
        # p_b = (1·1 + 2·0.75) / 3 = 5/6 → L_b = 1 + 4·5/6 = 13/3; gap 0.
        "two raters within tolerance are averaged",
        {**PERFECT, "w1": rated(("r1", "l3", "l2"), ("r2", "l2", "l2"))},
        levels={"comp_b": 13 / 3},
        gaps={"comp_b": 0},
    ),
    Case(
        # clarity l3 vs l1 is two positions apart (> max_disagreement 1): provisional mean.
        # raw = (4 + 2) / 2 = 3 → f = 0.5; p_b = (1 + 1) / 3 → L_b = 1 + 8/3.
        "disagreement flags the item for adjudication",
        {**PERFECT, "w1": rated(("r1", "l3", "l1"), ("r2", "l1", "l1"))},
        levels={"comp_b": 1 + 8 / 3},
        flags=("needs_adjudication",),
        final=False,
    ),
    Case(
        # r1 = 6, r2 = 2, adjudicator = 3 + 2 = 5 → closest is r1 → raw (5 + 6) / 2 = 5.5.
        # p_b = (1 + 2·5.5/6) / 3 = 17/18 → L_b = 1 + 4·17/18.
        "adjudication averages with the closest original rating",
        {**PERFECT, "w1": rated(("r1", "l3", "l3"), ("r2", "l1", "l1"), adjudication=("l3", "l2"))},
        levels={"comp_b": 1 + 4 * 17 / 18},
    ),
    Case(
        # r1 rated w1 (6 of 6), r2 is assigned and has not: the item counts provisionally
        # (L_b = 5) but stays pending, so the result is not final.
        "an assigned rater still to rate keeps the item pending",
        {
            **PERFECT,
            "w1": WorkSampleResponse(
                (Rating("r1", {"clarity": "l3", "impact": "l3"}),), awaiting=("r2",)
            ),
        },
        levels={"comp_b": 5},
        pending=("w1",),
        flags=("pending",),
        final=False,
    ),
    Case(
        # w1 not rated yet: comp_b is provisional on s1 alone (f = 2/3 → L_b = 1 + 8/3).
        "a pending work sample leaves the result provisional",
        {**PERFECT, "s1": pick("good"), "w1": WorkSampleResponse()},
        levels={"comp_b": 1 + 8 / 3},
        pending=("w1",),
        flags=("pending",),
        final=False,
    ),
    Case(
        # comp_b drew only w1 and it awaits a rating: no level yet; overall renormalises
        # over comp_a and comp_c: (2·5 + 1·5) / 3 = 5.
        "all-pending competency has no level",
        {**without(PERFECT, "s1"), "w1": WorkSampleResponse()},
        drawn=("k_single", "k_multi", "w1", "k_c"),
        levels={"comp_b": None},
        dimensions={"craft": 5},
        overall=5,
        fit=1,
        pending=("w1",),
        flags=("pending",),
        final=False,
    ),
    Case(
        # comp_c drew nothing: not assessed, left out of insight, overall and fit.
        # overall = (2·5 + 1·5) / 3 = 5.
        "competency without drawn items is not assessed",
        without(PERFECT, "k_c"),
        drawn=("k_single", "k_multi", "s1", "w1"),
        levels={"comp_c": None},
        dimensions={"insight": None},
        overall=5,
        fit=1,
        flags=("not_assessed",),
    ),
    Case(
        # L_a = 1 + 4/3 (gap 2/3 > tolerance 0.5); r_a = (4/3) / 2 = 2/3.
        # fit = (2·2/3 + 1 + 1) / 4 = 5/6 → band yes, capped at maybe by comp_a.
        "critical gap caps the recommendation",
        {**PERFECT, "k_multi": pick("trap")},
        levels={"comp_a": 1 + 4 / 3},
        fit=5 / 6,
        band="maybe",
        fit_band="yes",
        flags=("critical_gap",),
    ),
    Case(
        # L_a = 1 (r_a = 0), others perfect: fit = (0 + 1 + 1) / 4 = 0.5, exactly the
        # lower edge of maybe, which the band includes.
        "fit on a band's lower edge belongs to that band",
        {**PERFECT, "k_single": pick("wrong"), "k_multi": pick()},
        fit=0.5,
        band="maybe",
        fit_band="maybe",
        flags=("critical_gap",),
    ),
    Case(
        # L_a = 1 + 4·(1 + 2·0.5)/3 = 11/3 ≥ target 3: surplus over target gives r = 1.
        # s1 weak = 1/3, w1 = 0 → p_b = (1·1/3 + 2·0) / 3 = 1/9 → L_b = 13/9 → r_b = 4/27.
        # fit = (2·1 + 4/27 + 1) / 4 = 0.787 → maybe; surplus on comp_a never buys it back.
        "surplus never buys back a deficit",
        {**PERFECT, "k_multi": pick("a"), "s1": pick("weak"), "w1": rated(("r1", "l0", "l0"))},
        fit=(2 + 4 / 27 + 1) / 4,
        band="maybe",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_scoring_by_hand(rubric: Rubric, case: Case) -> None:
    result = run(rubric, case.responses, case.drawn)

    for competency_id, level in case.levels.items():
        assert result.competency(competency_id).level == pytest.approx(level), competency_id
    for competency_id, gap in case.gaps.items():
        assert result.competency(competency_id).gap == pytest.approx(gap), competency_id
    dimensions = {d.dimension: d.level for d in result.dimensions}
    for dimension_id, level in case.dimensions.items():
        assert dimensions[dimension_id] == pytest.approx(level), dimension_id
    if case.overall is not None:
        assert result.overall_level == pytest.approx(case.overall)
    if case.fit is not None:
        assert result.fit == pytest.approx(case.fit)
    if case.band is not None:
        assert result.recommendation is not None
        assert result.recommendation.band == case.band
        assert result.recommendation.fit_band == (case.fit_band or case.band)
    assert result.pending == case.pending
    assert sorted({f.code for f in result.flags}) == sorted(case.flags)
    assert result.final is case.final


def test_unanswered_item_stays_in_the_trace(rubric: Rubric) -> None:
    result = run(rubric, {"k_multi": pick("a", "b")}, drawn=("k_single", "k_multi"))

    traces = {t.item: t for t in result.competency("comp_a").items}
    assert traces["k_single"].status is ItemStatus.UNANSWERED
    assert traces["k_single"].fraction == 0
    # p = (1·0 + 2·1) / 3: the unanswered item is counted, not dropped.
    assert result.competency("comp_a").fraction == pytest.approx(2 / 3)


def test_trace_explains_every_number(rubric: Rubric) -> None:
    result = run(rubric, {**PERFECT, "k_multi": pick("a", "b", "c")})
    data = result.to_dict()

    assert data["rubric_version"] == "v-test"
    comp_a = data["competencies"]["comp_a"]
    multi = next(i for i in comp_a["items"] if i["item"] == "k_multi")
    assert multi == {
        "item": "k_multi",
        "type": "knowledge",
        "weight": 2.0,
        "max_points": 2.0,
        "status": "scored",
        "raw": 2.0,
        "fraction": 1.0,
        "selected": ("a", "b", "c"),
        "unclipped": 3.0,
    }
    assert comp_a["fraction"] == 1.0
    assert comp_a["target"] == 3.0
    assert comp_a["weight"] == 2.0


def test_the_stored_trace_of_an_adjudicated_work_sample_names_every_rater(
    rubric: Rubric,
) -> None:
    # r1 = 6, r2 = 2, adjudicator = 5 → raw (5 + 6) / 2, as in the hand-worked cases.
    responses = {
        **PERFECT,
        "w1": rated(("r1", "l3", "l3"), ("r2", "l1", "l1"), adjudication=("l3", "l2")),
    }
    data = json.loads(json.dumps(run(rubric, responses).to_dict()))

    trace = next(i for i in data["competencies"]["comp_b"]["items"] if i["item"] == "w1")
    assert trace["status"] == "adjudicated"
    assert trace["raw"] == 5.5
    assert trace["ratings"] == [
        {"rater": "r1", "raw": 6.0, "levels": {"clarity": "l3", "impact": "l3"}},
        {"rater": "r2", "raw": 2.0, "levels": {"clarity": "l1", "impact": "l1"}},
    ]
    assert trace["adjudication"] == {
        "rater": "adjudicator",
        "raw": 5.0,
        "levels": {"clarity": "l3", "impact": "l2"},
    }
    assert trace["disagreements"] == ["clarity", "impact"]
    assert {"awaiting", "selected"}.isdisjoint(trace)


def test_a_result_cannot_be_changed_after_scoring(rubric: Rubric) -> None:
    result = run(rubric, PERFECT)
    competency = result.competency("comp_a")

    with pytest.raises(AttributeError):
        competency.level = 5.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        competency.items[0].raw = 0.0  # type: ignore[misc]


def test_no_competency_assessed_gives_no_recommendation(rubric: Rubric) -> None:
    result = run(rubric, {"w1": WorkSampleResponse()}, drawn=("w1",))

    assert result.overall_level is None
    assert result.fit is None
    assert result.recommendation is None
    assert result.pending == ("w1",)


@pytest.mark.parametrize(
    ("role", "drawn", "responses", "message"),
    [
        ("nobody", ALL_ITEMS, {}, "unknown role 'nobody'"),
        ("analyst", ("k_single", "ghost"), {}, "unknown item 'ghost'"),
        ("analyst", ("k_single",), {"k_single": pick("maybe")}, "unknown option 'maybe'"),
        ("analyst", ("k_single",), {"k_single": pick("right", "wrong")}, "single choice"),
        (
            "analyst",
            ("w1",),
            {"w1": WorkSampleResponse((Rating("r1", {"clarity": "l1", "tone": "l1"}),))},
            "unknown criterion 'tone'",
        ),
        (
            "analyst",
            ("w1",),
            {"w1": WorkSampleResponse((Rating("r1", {"clarity": "l9", "impact": "l1"}),))},
            "unknown level 'l9' for criterion 'clarity'",
        ),
        (
            "analyst",
            ("w1",),
            {"w1": WorkSampleResponse((Rating("r1", {"clarity": "l1"}),))},
            "criterion 'impact' not rated",
        ),
        (
            "analyst",
            ("w1",),
            {
                "w1": WorkSampleResponse(
                    (
                        Rating("r1", {"clarity": "l1", "impact": "l1"}),
                        Rating("r1", {"clarity": "l2", "impact": "l2"}),
                    )
                )
            },
            "a rater rated twice",
        ),
        (
            "analyst",
            ("w1",),
            {
                "w1": WorkSampleResponse(
                    adjudication=Rating("lead", {"clarity": "l1", "impact": "l1"})
                )
            },
            "an adjudication needs the original ratings",
        ),
        ("analyst", ("w1",), {"w1": pick("a")}, "is a work sample"),
        ("analyst", ("k_single",), {"k_c": pick("right")}, "answered but not drawn"),
    ],
)
def test_bad_responses_name_what_is_wrong(
    rubric: Rubric, role: str, drawn: Sequence[str], responses: Mapping[str, Response], message: str
) -> None:
    with pytest.raises(ScoringInputError) as raised:
        score(rubric, "v", role, drawn, responses)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def test_every_bad_response_is_reported_at_once(rubric: Rubric) -> None:
    with pytest.raises(ScoringInputError) as raised:
        score(
            rubric, "v", "analyst", ("k_single", "k_c"), {"k_single": pick("x"), "k_c": pick("y")}
        )
    assert len(raised.value.problems) == 2


def test_a_trace_names_each_figure_as_the_item_trace_does(rubric: Rubric) -> None:
    # `_trace` builds ItemTrace positionally (it runs once per item): a field moved in
    # ItemTrace must not silently put one figure under another's name.
    item = rubric.item_index()["w1"]
    one, two = RaterScore("a", 1.0, {}), RaterScore("b", 2.0, {})
    trace = scoring._trace(
        item,
        ItemStatus.ADJUDICATED,
        item.maximum / 2,
        ("opt",),
        7.5,
        ratings=(one,),
        adjudication=two,
        disagreements=("clarity",),
        awaiting=("c",),
    )

    assert (trace.item, trace.type, trace.weight, trace.max_points) == (
        item.id,
        item.type.value,
        item.weight,
        item.maximum,
    )
    assert (trace.status, trace.raw, trace.fraction) == (
        ItemStatus.ADJUDICATED,
        item.maximum / 2,
        0.5,
    )
    assert (trace.selected, trace.unclipped) == (("opt",), 7.5)
    assert (trace.ratings, trace.adjudication) == ((one,), two)
    assert (trace.disagreements, trace.awaiting) == (("clarity",), ("c",))
