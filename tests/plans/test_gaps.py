"""Gap-driven plans: which competencies, in which order, with which modules, within budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.plans.gaps import gaps, plan
from app.rubrics.loader import load_rubric
from app.rubrics.spec import RoleProfile, Rubric

SCORING_RUBRIC = Path(__file__).parents[1] / "assessments" / "scoring_rubric.yaml"


def module(
    module_id: str, competencies: list[str], start: int, end: int, hours: float
) -> dict[str, Any]:
    return {
        "id": module_id,
        "title": {"en": module_id},
        "competencies": competencies,
        "levels": {"from": start, "to": end},
        "format": "course",
        "hours": hours,
        "description": {"en": module_id},
    }


@pytest.fixture(scope="module")
def rubric() -> Rubric:
    data = load_rubric(SCORING_RUBRIC).model_dump(by_alias=True)
    data["modules"] = [
        module("a_basics", ["comp_a"], 1, 2, 4),
        module("a_wide", ["comp_a"], 1, 3, 10),
        module("a_core", ["comp_a"], 2, 3, 6),
        module("a_core_short", ["comp_a"], 2, 3, 3),
        module("ab_shared", ["comp_a", "comp_b"], 3, 4, 5),
        module("b_intro", ["comp_b"], 1, 2, 2),
    ]
    return Rubric.model_validate(data)


@pytest.fixture(scope="module")
def role(rubric: Rubric) -> RoleProfile:
    # comp_a: target 3, weight 2; comp_b: target 4, weight 1; comp_c: target 1, weight 1.
    return rubric.role("analyst")


def test_gaps_are_ordered_by_weight_times_gap(role: RoleProfile) -> None:
    found = gaps(role, {"comp_a": 2.5, "comp_b": 2.5, "comp_c": 1})
    # comp_a: 2 × 0.5 = 1.0; comp_b: 1 × 1.5 = 1.5; comp_c has no gap.
    assert [(g.competency, g.size, g.priority) for g in found] == [
        ("comp_b", 1.5, 1.5),
        ("comp_a", 0.5, 1.0),
    ]


def test_equal_priorities_keep_the_rubric_order(role: RoleProfile) -> None:
    found = gaps(role, {"comp_a": 2.5, "comp_b": 3.0})  # 2 × 0.5 = 1 × 1.0
    assert [g.competency for g in found] == ["comp_a", "comp_b"]


@pytest.mark.parametrize(
    ("levels", "budget", "expected", "deferred", "total"),
    [
        # a: 1.5 → 3 climbs 1→2 (a_basics: narrower than a_wide) and 2→3 (a_core_short:
        # as narrow as a_core, fewer hours); b: 3.2 → 4 takes ab_shared. 4 + 3 + 5 hours.
        (
            {"comp_a": 1.5, "comp_b": 3.2, "comp_c": 1},
            None,
            {"comp_a": ["a_basics", "a_core_short"], "comp_b": ["ab_shared"]},
            {},
            12,
        ),
        # Budget 8: both comp_a rungs (7 h) fit, ab_shared (5 h more) is deferred.
        (
            {"comp_a": 1.5, "comp_b": 3.2},
            8,
            {"comp_a": ["a_basics", "a_core_short"], "comp_b": []},
            {"comp_b": ["ab_shared"]},
            7,
        ),
        # Budget 5: the second rung of comp_a would pass it, and nothing above it may come first.
        (
            {"comp_a": 1.5, "comp_b": 3.2},
            5,
            {"comp_a": ["a_basics"], "comp_b": []},
            {"comp_a": ["a_core_short"], "comp_b": ["ab_shared"]},
            4,
        ),
        # A surplus or a gap under 0.05 is no step at all.
        ({"comp_a": 3.4, "comp_b": 3.97}, None, {}, {}, 0),
    ],
)
def test_plans(
    rubric: Rubric,
    role: RoleProfile,
    levels: dict[str, float],
    budget: float | None,
    expected: dict[str, list[str]],
    deferred: dict[str, list[str]],
    total: float,
) -> None:
    result = plan(rubric, role, levels, budget)

    assert {s.gap.competency: [r.module for r in s.rungs] for s in result.steps} == expected
    assert {
        s.gap.competency: [r.module for r in s.deferred] for s in result.steps if s.deferred
    } == deferred
    assert result.total_hours == total


def test_alternatives_are_offered(rubric: Rubric, role: RoleProfile) -> None:
    step = plan(rubric, role, {"comp_a": 2.0}).steps[0]
    assert [(r.module, r.alternatives) for r in step.rungs] == [
        ("a_core_short", ("a_core", "a_wide"))
    ]


def test_catalogue_gap_is_reported(rubric: Rubric, role: RoleProfile) -> None:
    # comp_b from 1.2: b_intro takes it to 2, and no module starts at 2 for comp_b.
    step = plan(rubric, role, {"comp_b": 1.2}).steps[0]
    assert [r.module for r in step.rungs] == ["b_intro"]
    assert step.uncovered_from == 2


def test_a_shared_module_is_counted_once(rubric: Rubric, role: RoleProfile) -> None:
    targets = dict(role.targets)
    targets["comp_a"] = targets["comp_a"].model_copy(update={"target": 4.0})
    stretched = role.model_copy(update={"targets": targets})

    result = plan(rubric, stretched, {"comp_a": 3.0, "comp_b": 3.0}, hours_budget=5)

    assert [[r.module for r in s.rungs] for s in result.steps] == [["ab_shared"], ["ab_shared"]]
    assert result.steps[0].rungs[0].shared_with == ("comp_b",)
    assert result.total_hours == 5
    assert result.module_ids == ("ab_shared",)


def test_not_assessed_competencies_are_listed_not_planned(
    rubric: Rubric, role: RoleProfile
) -> None:
    result = plan(rubric, role, {"comp_a": 1.0, "comp_b": None})
    assert [s.gap.competency for s in result.steps] == ["comp_a"]
    assert result.not_assessed == ("comp_b", "comp_c")


def test_shipped_catalogue_covers_every_step(role: RoleProfile) -> None:
    shipped = load_rubric(Path(__file__).parents[2] / "rubrics" / "new_media_operator.yaml")
    for shipped_role in shipped.roles:
        floor = {c: 1.0 for c in shipped_role.targets}
        result = plan(shipped, shipped_role, floor)
        for step in result.steps:
            assert step.uncovered_from is None, (shipped_role.id, step.gap.competency)
            assert step.rungs
