"""Properties 360 aggregation keeps for any panel of raters (hypothesis)."""

from __future__ import annotations

from pathlib import Path
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reviews.aggregation import (
    GROUPS,
    OTHER_GROUPS,
    GivenRating,
    Group,
    ReviewPolicy,
    ReviewResult,
    aggregate,
    cycle_agreement,
)
from app.rubrics.loader import load_rubric
from app.rubrics.spec import Rubric

RUBRIC = load_rubric(Path(__file__).parents[1] / "assessments" / "scoring_rubric.yaml")
SHIPPED = load_rubric(Path(__file__).parents[2] / "rubrics" / "new_media_operator.yaml")
COMMENTS = ["", "  ", "Clear briefs", "Misses deadlines", "数据复盘很扎实", "Clear briefs"]
MAX_RATERS = {Group.SELF: 1, Group.MANAGER: 2, Group.PEER: 6, Group.REPORT: 5}


def competency_ids(rubric: Rubric, role_id: str) -> list[str]:
    return list(rubric.role(role_id).targets)


def rater(
    rubric: Rubric, role_id: str, group: Group, key: str
) -> st.SearchStrategy[list[GivenRating]]:
    """One rater's submitted answers: every competency of the role, a level or not observed."""
    levels = st.sampled_from([None, *(level.value for level in rubric.scale.levels)])
    return st.tuples(
        *(
            st.builds(
                GivenRating,
                st.just(key),
                st.just(group),
                st.just(c),
                levels,
                st.sampled_from(COMMENTS),
            )
            for c in competency_ids(rubric, role_id)
        )
    ).map(list)


@st.composite
def panels(
    draw: st.DrawFn, rubric: Rubric = RUBRIC, role_id: str = "analyst", prefix: str = ""
) -> list[GivenRating]:
    ratings: list[GivenRating] = []
    for group in GROUPS:
        count = draw(st.integers(0, MAX_RATERS[group]))
        for n in range(count):
            ratings += draw(rater(rubric, role_id, group, f"{prefix}{group.value}{n}"))
    return ratings


policies = st.builds(
    ReviewPolicy,
    min_raters=st.fixed_dictionaries(
        {Group.PEER: st.integers(2, 4), Group.REPORT: st.integers(2, 4)}
    ),
    group_weights=st.fixed_dictionaries(
        {g: st.sampled_from([0.5, 1.0, 2.0, 3.0]) for g in OTHER_GROUPS}
    ),
    comment_seed=st.text(max_size=8),
)


def review(ratings: list[GivenRating], policy: ReviewPolicy) -> ReviewResult:
    return aggregate(RUBRIC, "v1", "analyst", ratings, policy)


@given(panels(), policies, st.randoms(use_true_random=False))
@settings(max_examples=100)
def test_order_of_ratings_and_names_of_raters_change_nothing(
    ratings: list[GivenRating], policy: ReviewPolicy, rnd: Random
) -> None:
    keys = sorted({r.rater_key for r in ratings})
    renamed = dict(zip(keys, rnd.sample(keys, len(keys)), strict=True))
    # Renaming within the panel swaps raters' names, so keep each rater's group with them.
    groups = {r.rater_key: r.group for r in ratings}
    shuffled = rnd.sample(ratings, len(ratings))
    relabelled = [
        GivenRating(
            f"x-{renamed[r.rater_key]}", groups[r.rater_key], r.competency, r.level, r.comment
        )
        for r in shuffled
    ]

    assert review(relabelled, policy).to_dict() == review(ratings, policy).to_dict()


@given(panels(), policies, st.data())
@settings(max_examples=100)
def test_ratings_of_a_withheld_group_change_no_shown_number(
    ratings: list[GivenRating], policy: ReviewPolicy, data: st.DataObject
) -> None:
    group = data.draw(st.sampled_from([Group.PEER, Group.REPORT]))
    needed = policy.min_raters[group]
    others = [r for r in ratings if r.group is not group]
    # One to needed − 1 raters answered: the group is withheld whatever they said.
    first = data.draw(st.integers(1, needed - 1))
    second = data.draw(st.integers(1, needed - 1))
    one = others + [
        rating
        for n in range(first)
        for rating in data.draw(rater(RUBRIC, "analyst", group, f"a{n}"))
    ]
    two = others + [
        rating
        for n in range(second)
        for rating in data.draw(rater(RUBRIC, "analyst", group, f"b{n}"))
    ]

    result = review(one, policy)
    assert result.to_dict() == review(two, policy).to_dict()
    assert all(c.group(group) is None for c in result.competencies)
    assert all(comment.group is not group for c in result.competencies for comment in c.comments)
    assert [w.group for w in result.withheld if w.group is group] == [group]


@pytest.mark.parametrize(
    ("rubric", "role_id"), [(RUBRIC, "analyst"), (SHIPPED, "assistant")], ids=["small", "shipped"]
)
@given(data=st.data())
@settings(max_examples=40)
def test_levels_stay_on_the_scale_and_every_shown_group_met_its_threshold(
    rubric: Rubric, role_id: str, data: st.DataObject
) -> None:
    policy = data.draw(policies)
    ratings = data.draw(panels(rubric, role_id))
    result = aggregate(rubric, "v1", role_id, ratings, policy)
    low, high = rubric.scale.minimum, rubric.scale.maximum

    for competency in result.competencies:
        means = [g.level for g in competency.groups]
        assert all(low <= level <= high for level in means)
        for shown in competency.groups:
            assert shown.count >= policy.min_raters[shown.group]
        other_means = [g.level for g in competency.groups if g.group is not Group.SELF]
        if competency.others is None:
            assert not other_means
            assert competency.gap is None
        else:
            # A weighted mean lies between the group means it is made of.
            assert min(other_means) - 1e-9 <= competency.others <= max(other_means) + 1e-9
            assert competency.gap is not None
            assert competency.gap >= 0
        shown_groups = {g.group for g in competency.groups}
        assert {c.group for c in competency.comments} <= shown_groups
        assert all(c.text.strip() for c in competency.comments)
    rollups = [*result.dimensions.values(), result.overall]
    for rollup in rollups:
        for level in (rollup.others, rollup.self_level, rollup.target):
            assert level is None or low - 1e-9 <= level <= high + 1e-9


@given(st.lists(panels(), min_size=1, max_size=4), policies, st.data())
@settings(max_examples=40)
def test_cycle_agreement_ignores_withheld_groups(
    panel_list: list[list[GivenRating]], policy: ReviewPolicy, data: st.DataObject
) -> None:
    peers_needed = policy.min_raters[Group.PEER]
    cycle = {}
    varied = {}
    for n, ratings in enumerate(panel_list):
        base = [r for r in ratings if r.group is not Group.PEER]
        count = data.draw(st.integers(1, peers_needed - 1))
        cycle[f"ratee{n}"] = base + [
            r
            for k in range(count)
            for r in data.draw(rater(RUBRIC, "analyst", Group.PEER, f"p{k}"))
        ]
        varied[f"ratee{n}"] = base + [
            r
            for k in range(count)
            for r in data.draw(rater(RUBRIC, "analyst", Group.PEER, f"q{k}"))
        ]

    assert (
        cycle_agreement(RUBRIC, "analyst", cycle, policy).to_dict()
        == cycle_agreement(RUBRIC, "analyst", varied, policy).to_dict()
    )
