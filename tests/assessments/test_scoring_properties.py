"""Properties the scoring model must keep for any answers (hypothesis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.assessments.scoring import (
    ChoiceResponse,
    Rating,
    Response,
    ScoreResult,
    WorkSampleResponse,
    score,
)
from app.rubrics.loader import load_rubric
from app.rubrics.spec import Item, Rubric

RUBRIC = load_rubric(Path(__file__).with_name("scoring_rubric.yaml"))
SHIPPED = load_rubric(Path(__file__).parents[2] / "rubrics" / "new_media_operator.yaml")
ROLES = {RUBRIC.id: "analyst"}


def response_for(item: Item) -> st.SearchStrategy[Response]:
    if item.is_choice:
        ids = [o.id for o in item.options]
        if item.select == "single":
            return st.sampled_from(ids).map(lambda o: ChoiceResponse((o,)))
        return st.lists(st.sampled_from(ids), unique=True).map(lambda os: ChoiceResponse(tuple(os)))
    rating = st.fixed_dictionaries(
        {c.id: st.sampled_from([level.id for level in c.levels]) for c in item.criteria}
    )
    return st.lists(rating, min_size=0, max_size=3).map(
        lambda rs: WorkSampleResponse(tuple(Rating(f"r{n}", r) for n, r in enumerate(rs)))
    )


@st.composite
def assessments(draw: st.DrawFn, rubric: Rubric) -> tuple[list[str], dict[str, Response]]:
    items = draw(st.lists(st.sampled_from(rubric.items), unique_by=lambda i: i.id, min_size=1))
    answered = draw(st.lists(st.sampled_from(items), unique_by=lambda i: i.id))
    responses = {item.id: draw(response_for(item)) for item in answered}
    return [item.id for item in items], responses


def levels(result: ScoreResult) -> list[float]:
    values = [c.level for c in result.competencies] + [d.level for d in result.dimensions]
    return [v for v in [*values, result.overall_level] if v is not None]


@pytest.mark.parametrize("rubric", [RUBRIC, SHIPPED], ids=lambda r: r.id)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_levels_stay_on_the_scale_and_fit_never_exceeds_one(
    rubric: Rubric, data: st.DataObject
) -> None:
    role = data.draw(st.sampled_from([r.id for r in rubric.roles]))
    drawn, responses = data.draw(assessments(rubric))
    result = score(rubric, "v", role, drawn, responses)

    assert all(rubric.scale.minimum <= v <= rubric.scale.maximum for v in levels(result))
    if result.fit is not None:
        assert 0 <= result.fit <= 1
    for competency in result.competencies:
        if competency.gap is not None:
            assert competency.gap >= 0


@given(assessments(RUBRIC), st.data())
@settings(max_examples=150)
def test_more_points_never_lower_a_level(
    assessment: tuple[list[str], dict[str, Response]], data: st.DataObject
) -> None:
    drawn, responses = assessment
    items = RUBRIC.item_index()
    single = [i for i in drawn if items[i].is_choice and items[i].select == "single"]
    if not single:
        return
    item = items[data.draw(st.sampled_from(single))]
    before = score(RUBRIC, "v", "analyst", drawn, responses)
    current = responses.get(item.id)
    current_points = (
        sum(o.points for o in item.options if o.id in current.selected)
        if isinstance(current, ChoiceResponse)
        else 0
    )
    better = data.draw(st.sampled_from([o for o in item.options if o.points >= current_points]))
    after = score(
        RUBRIC, "v", "analyst", drawn, {**responses, item.id: ChoiceResponse((better.id,))}
    )

    for old, new in zip(before.competencies, after.competencies, strict=True):
        if old.level is not None:
            assert new.level is not None
            assert new.level >= old.level - 1e-12
    if before.overall_level is not None and after.overall_level is not None:
        assert after.overall_level >= before.overall_level - 1e-12
    if before.fit is not None and after.fit is not None:
        assert after.fit >= before.fit - 1e-12


def scaled(rubric: Rubric, factor: float) -> Rubric:
    data: dict[str, Any] = rubric.model_dump(by_alias=True)
    for item in data["items"]:
        item["weight"] *= factor
    for role in data["roles"]:
        for target in role["targets"].values():
            target["weight"] *= factor
    return Rubric.model_validate(data)


@given(assessments(RUBRIC), st.floats(min_value=0.01, max_value=100))
@settings(max_examples=100)
def test_scaling_all_weights_changes_nothing(
    assessment: tuple[list[str], dict[str, Response]], factor: float
) -> None:
    drawn, responses = assessment
    before = score(RUBRIC, "v", "analyst", drawn, responses)
    after = score(scaled(RUBRIC, factor), "v", "analyst", drawn, responses)

    assert levels(after) == pytest.approx(levels(before))
    assert (after.fit is None) == (before.fit is None)
    if before.fit is not None:
        assert after.fit == pytest.approx(before.fit)
    # A band may change only where fit sits on an edge within rounding.
    if (
        before.recommendation is not None
        and after.recommendation is not None
        and after.recommendation.band != before.recommendation.band
    ):
        edges = {b.min for b in RUBRIC.role("analyst").bands}
        assert any(abs(before.fit - e) < 1e-9 for e in edges if before.fit is not None)
