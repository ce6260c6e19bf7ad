"""360 aggregation by hand: group means, Others, anonymity thresholds, flags, comments, rollups.

The rubric is tests/assessments/scoring_rubric.yaml: scale 1–5; role `analyst` has comp_a
(target 3, weight 2) and comp_b (target 4, weight 1) in dimension `craft`, comp_c (target 1,
weight 1) in dimension `insight`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from app.reviews.aggregation import (
    ANONYMITY_FLOOR,
    GivenRating,
    Group,
    ReviewInputError,
    ReviewPolicy,
    ReviewResult,
    aggregate,
    cycle_agreement,
)
from app.rubrics.loader import load_rubric

RUBRIC = load_rubric(Path(__file__).parents[1] / "assessments" / "scoring_rubric.yaml")
SELF, MANAGER, PEER, REPORT = Group.SELF, Group.MANAGER, Group.PEER, Group.REPORT
Level = int | None


def given(
    competency: str = "comp_a",
    *,
    self: Level = None,
    manager: Sequence[Level] = (),
    peer: Sequence[Level] = (),
    report: Sequence[Level] = (),
) -> list[GivenRating]:
    """One competency's ratings; raters are keyed by group and position (peer1, peer2, …)."""
    ratings = [] if self is None else [GivenRating("self1", SELF, competency, self)]
    for group, levels in ((MANAGER, manager), (PEER, peer), (REPORT, report)):
        ratings += [
            GivenRating(f"{group.value}{n}", group, competency, level)
            for n, level in enumerate(levels, start=1)
        ]
    return ratings


def review(ratings: Iterable[GivenRating], policy: ReviewPolicy | None = None) -> ReviewResult:
    return aggregate(RUBRIC, "v1", "analyst", ratings, policy)


def all_numbers(value: Any) -> list[float]:
    """Every number anywhere in a result's JSON form (booleans included, as 0/1)."""
    if isinstance(value, Mapping):
        return [n for v in value.values() for n in all_numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in all_numbers(v)]
    if isinstance(value, bool | int | float):
        return [float(value)]
    return []


# --- group means and Others ------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratings", "expected_groups", "others"),
    [
        # Self 4, manager 3, peers (2+3+4+4)/4 = 3.25; Others = (3 + 3.25) / 2 = 3.125.
        (
            given(self=4, manager=[3], peer=[2, 3, 4, 4]),
            {"self": (4.0, 1), "manager": (3.0, 1), "peer": (3.25, 4), "report": None},
            3.125,
        ),
        # Five peers at 5 do not drown one manager at 1: each group counts once, (1 + 5) / 2.
        (
            given(manager=[1], peer=[5, 5, 5, 5, 5]),
            {"self": None, "manager": (1.0, 1), "peer": (5.0, 5), "report": None},
            3.0,
        ),
        # Three groups: (2 + 4 + 3) / 3 = 3; self never enters Others.
        (
            given(self=1, manager=[2], peer=[4, 4, 4], report=[2, 3, 4]),
            {"self": (1.0, 1), "manager": (2.0, 1), "peer": (4.0, 3), "report": (3.0, 3)},
            3.0,
        ),
        # Two managers are one group: (2+3)/2 = 2.5, then (2.5 + 4) / 2 = 3.25.
        (
            given(manager=[2, 3], peer=[4, 4, 4]),
            {"self": None, "manager": (2.5, 2), "peer": (4.0, 3), "report": None},
            3.25,
        ),
        # Self alone gives no Others (and so no 360 level).
        (given(self=5), {"self": (5.0, 1), "manager": None, "peer": None, "report": None}, None),
    ],
)
def test_group_means_and_others(
    ratings: list[GivenRating],
    expected_groups: dict[str, tuple[float, int] | None],
    others: float | None,
) -> None:
    result = review(ratings).competency("comp_a")

    groups = result.to_dict()["groups"]
    assert {g: None if v is None else (v["level"], v["count"]) for g, v in groups.items()} == (
        expected_groups
    )
    assert result.others == others
    assert result.level == others


@pytest.mark.parametrize(
    ("weights", "reports", "others", "shown_weights"),
    [
        # Manager 1 weighs 2, peers' 4 weighs 1: (2·1 + 1·4) / 3 = 2.
        ({MANAGER: 2}, [], 2.0, {"manager": 2.0, "peer": 1.0}),
        # Reports' 2 at weight 0.5 as well: (2·1 + 4 + 0.5·2) / 3.5 = 2.
        ({MANAGER: 2, REPORT: 0.5}, [2, 2, 2], 2.0, {"manager": 2.0, "peer": 1.0, "report": 0.5}),
        # Equal weights: (1 + 4 + 2) / 3.
        ({}, [2, 2, 2], 7 / 3, {"manager": 1.0, "peer": 1.0, "report": 1.0}),
        # A weight for a group that is not shown changes nothing: (1 + 4) / 2.
        ({REPORT: 5}, [2, 2], 2.5, {"manager": 1.0, "peer": 1.0}),
    ],
)
def test_group_weights_shape_others_and_are_listed(
    weights: dict[Group, float], reports: list[int], others: float, shown_weights: dict[str, float]
) -> None:
    ratings = given(manager=[1], peer=[4, 4, 4], report=reports)
    result = review(ratings, ReviewPolicy(group_weights=weights)).competency("comp_a")

    assert result.others == pytest.approx(others)
    assert result.to_dict()["others_weights"] == shown_weights


# --- anonymity thresholds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("needed", "peers", "shown"),
    [(2, 1, False), (2, 2, True), (3, 2, False), (3, 3, True), (4, 3, False), (4, 4, True)],
)
def test_peers_are_shown_only_from_their_threshold(needed: int, peers: int, shown: bool) -> None:
    policy = ReviewPolicy(min_raters={"peer": needed})
    result = review(given(manager=[2], peer=[4] * peers), policy)
    comp_a = result.competency("comp_a")

    if shown:
        assert comp_a.level_of(PEER) == 4.0
        assert comp_a.others == 3.0  # (2 + 4) / 2
        assert not comp_a.withheld
    else:
        assert comp_a.level_of(PEER) is None
        assert comp_a.others == 2.0  # the manager alone
        assert comp_a.to_dict()["groups"]["peer"] is None
        assert comp_a.to_dict()["withheld"]["peer"]["needed"] == needed
        assert comp_a.to_dict()["withheld"]["peer"]["reason"] == "too_few_raters"
        summary = result.to_dict()["withheld"]["peer"]
        assert summary["competencies"] == ["comp_a", "comp_b", "comp_c"]
        assert f"Fewer than {needed} peers answered" in summary["message"]["en"]
        assert f"少于 {needed} 人" in summary["message"]["zh"]
        # The notice gives the count needed, never the count there was.
        assert all_numbers(summary) == [needed]


def test_reports_have_their_own_threshold() -> None:
    policy = ReviewPolicy(min_raters={"peer": 3, "report": 4})
    comp_a = review(given(peer=[3, 3, 3], report=[5, 5, 5]), policy).competency("comp_a")

    assert comp_a.level_of(PEER) == 3.0
    assert comp_a.level_of(REPORT) is None
    assert [w.group for w in comp_a.withheld] == [REPORT]
    assert comp_a.others == 3.0


def test_named_groups_are_shown_from_one_rating() -> None:
    comp_a = review(given(self=2, manager=[5])).competency("comp_a")
    assert (comp_a.level_of(SELF), comp_a.level_of(MANAGER)) == (2.0, 5.0)
    assert not comp_a.withheld


def test_a_group_nobody_was_asked_from_is_absent_not_withheld() -> None:
    result = review(given(manager=[3], peer=[3, 4, 5]))
    assert result.competency("comp_a").level_of(REPORT) is None
    assert "report" not in result.to_dict()["withheld"]
    assert "report" not in result.competency("comp_a").to_dict()["withheld"]


# --- "not observed" --------------------------------------------------------------------


def test_not_observed_is_missing_not_zero() -> None:
    comp_a = review(given(manager=[None, 4], peer=[2, 3, 4, None])).competency("comp_a")

    # Peers (2+3+4)/3 = 3 over three ratings, not (2+3+4+0)/4; managers 4 over one.
    assert comp_a.group(PEER) is not None
    assert (comp_a.level_of(PEER), comp_a.to_dict()["groups"]["peer"]["count"]) == (3.0, 3)
    assert comp_a.level_of(MANAGER) == 4.0
    assert comp_a.others == 3.5


def test_not_observed_can_push_a_competency_below_the_threshold() -> None:
    # Three peers answered; on comp_a the third said "not observed", so only two rated it.
    ratings = [
        *given("comp_a", manager=[4], peer=[1, 2, None]),
        *given("comp_b", manager=[4], peer=[3, 3, 3]),
    ]
    result = review(ratings)
    comp_a, comp_b = result.competency("comp_a"), result.competency("comp_b")

    assert comp_a.level_of(PEER) is None
    assert comp_a.others == 4.0  # the two peer ratings are not in Others either
    assert comp_a.to_dict()["withheld"]["peer"]["reason"] == "too_few_ratings"
    assert "rated this competency" in comp_a.to_dict()["withheld"]["peer"]["message"]["en"]
    assert comp_b.level_of(PEER) == 3.0
    assert result.to_dict()["withheld"]["peer"]["competencies"] == ["comp_a", "comp_c"]


def test_a_named_rater_who_did_not_observe_leaves_no_level_and_no_notice() -> None:
    comp_a = review(given(self=None, manager=[None], peer=[3, 3, 3])).competency("comp_a")
    assert comp_a.level_of(MANAGER) is None
    assert comp_a.others == 3.0
    assert not comp_a.withheld


# --- gap, blind spots, hidden strengths ------------------------------------------------


@pytest.mark.parametrize(
    ("ratings", "weights", "difference", "blind_spot", "hidden_strength"),
    [
        # Self 4, Others 3: exactly the threshold.
        (given(self=4, manager=[3]), {}, 1.0, True, False),
        # Self 4, Others (9·3 + 4) / 10 = 3.1: 0.9, just below.
        (given(self=4, manager=[3], peer=[4, 4, 4]), {"manager": 9}, 0.9, False, False),
        # Others = (0.1·2 + 0.1·4) / 0.2 computes as 3.0000000000000004: still exactly 1.
        (
            given(self=4, manager=[2], peer=[4, 4, 4]),
            {"manager": 0.1, "peer": 0.1},
            1.0,
            True,
            False,
        ),
        # Self 2, Others 3: hidden strength at exactly the threshold.
        (given(self=2, manager=[3]), {}, -1.0, False, True),
        # Self 2, Others 2.9: just below.
        (given(self=2, manager=[3], peer=[2, 2, 2]), {"manager": 9}, -0.9, False, False),
        # No self rating (not observed): neither flag.
        (given(self=None, manager=[5]), {}, None, False, False),
        # Self but no Others: neither flag.
        (given(self=1), {}, None, False, False),
    ],
)
def test_blind_spots_and_hidden_strengths_at_the_edges(
    ratings: list[GivenRating],
    weights: dict[Group, float],
    difference: float | None,
    blind_spot: bool,
    hidden_strength: bool,
) -> None:
    comp_a = review(ratings, ReviewPolicy(group_weights=weights)).competency("comp_a")

    if difference is None:
        assert comp_a.self_minus_others is None
    else:
        assert comp_a.self_minus_others == pytest.approx(difference)
    assert (comp_a.blind_spot, comp_a.hidden_strength) == (blind_spot, hidden_strength)


def test_thresholds_are_configurable() -> None:
    # comp_a: self 4, Others (3 + 4) / 2 = 3.5; comp_b: self 2, Others 4.
    ratings = [
        *given("comp_a", self=4, manager=[3], peer=[4, 4, 4]),
        *given("comp_b", self=2, manager=[4]),
    ]
    default = review(ratings)
    tuned = review(ratings, ReviewPolicy(blind_spot_threshold=0.5, hidden_strength_threshold=2.5))

    assert not default.competency("comp_a").blind_spot
    assert default.competency("comp_b").hidden_strength
    assert tuned.competency("comp_a").blind_spot
    assert not tuned.competency("comp_b").hidden_strength
    assert tuned.to_dict()["policy"]["blind_spot_threshold"] == 0.5


@pytest.mark.parametrize(
    ("competency", "manager", "peers", "gap"),
    [
        ("comp_a", [2], [1, 2, 3], 1.0),  # target 3, Others 2
        ("comp_a", [4], [], 0.0),  # above target: no gap
        ("comp_b", [3], [2, 2, 2], 1.5),  # target 4, Others 2.5
        ("comp_b", [], [], None),  # no Others: no gap
    ],
)
def test_gap_is_measured_against_others(
    competency: str, manager: list[int], peers: list[int], gap: float | None
) -> None:
    # A self rating of 5 never closes a gap: the 360 level is Others.
    ratings = given(competency, self=5, manager=manager, peer=peers)
    assert review(ratings).competency(competency).gap == gap


# --- comments --------------------------------------------------------------------------


def commented(group: Group, key: str, level: Level, comment: str) -> GivenRating:
    return GivenRating(key, group, "comp_a", level, comment)


COMMENTED = [
    commented(SELF, "self1", 4, "I lead the weekly calendar"),
    commented(MANAGER, "manager1", 3, "Solid headlines"),
    commented(PEER, "peer1", 3, "Always shares drafts early"),
    commented(PEER, "peer2", 4, "  "),
    commented(PEER, "peer3", 2, "Could test more titles"),
    commented(PEER, "peer4", None, "Have not worked on content together"),
    commented(REPORT, "report1", 5, "Great mentor"),
    commented(REPORT, "report2", 5, "Explains the why"),
]


def test_comments_of_withheld_groups_are_withheld_and_blank_ones_dropped() -> None:
    comp_a = review(COMMENTED, ReviewPolicy(comment_seed="s")).competency("comp_a")

    texts = {(c.group.value, c.text) for c in comp_a.comments}
    assert texts == {
        ("self", "I lead the weekly calendar"),
        ("manager", "Solid headlines"),
        ("peer", "Always shares drafts early"),
        ("peer", "Could test more titles"),
        # A peer who did not observe may still comment once the peer group is shown.
        ("peer", "Have not worked on content together"),
    }
    # Two reports are below the threshold: their comments are not in the result at all.
    assert "mentor" not in json.dumps(review(COMMENTED).to_dict(), ensure_ascii=False)


def order_key(seed: str, text: str) -> str:
    message = f"comp_a\x00{text}".encode()
    return hmac.new(seed.encode(), message, hashlib.sha256).hexdigest()


def test_comments_follow_a_keyed_hash_not_input_order_nor_rater() -> None:
    texts = [f"comment number {n}" for n in range(8)]
    # Input, rater and submission order all agree here: peer1 first, peer8 last.
    ratings = [commented(PEER, f"peer{n + 1}", 3, text) for n, text in enumerate(texts)]
    policy = ReviewPolicy(comment_seed="cycle-7")

    shown = [c.text for c in review(ratings, policy).competency("comp_a").comments]

    assert shown == sorted(texts, key=lambda text: order_key("cycle-7", text))
    assert shown != texts
    shuffler = random.Random(7)
    for _ in range(5):
        shuffled = shuffler.sample(ratings, len(ratings))
        # Give the same comments to other raters, in another order: nothing moves.
        swapped = [
            GivenRating(f"peer{n}", r.group, r.competency, r.level, r.comment)
            for n, r in enumerate(shuffled)
        ]
        again = review(swapped, policy).competency("comp_a").comments
        assert [c.text for c in again] == shown


def test_the_comment_seed_changes_the_order() -> None:
    ratings = [commented(PEER, f"peer{n}", 3, f"note {n}") for n in range(8)]
    orders = {
        tuple(
            c.text
            for c in review(ratings, ReviewPolicy(comment_seed=seed)).competency("comp_a").comments
        )
        for seed in ("a", "b", "c")
    }
    assert len(orders) > 1


# --- dimensions and overall ------------------------------------------------------------


def test_dimension_and_overall_levels_are_role_weighted_means_of_others() -> None:
    ratings = [
        *given("comp_a", self=4, manager=[2], peer=[3, 3, 3]),  # Others 2.5, weight 2
        *given("comp_b", self=3, manager=[4]),  # Others 4, weight 1
        *given("comp_c", self=None, manager=[None]),  # no Others, weight 1
    ]
    result = review(ratings)
    craft, insight = result.dimensions["craft"], result.dimensions["insight"]

    assert craft.others == 3.0  # (2·2.5 + 1·4) / 3
    assert craft.target == pytest.approx(10 / 3)  # (2·3 + 1·4) / 3
    assert craft.self_level == pytest.approx(11 / 3)  # (2·4 + 1·3) / 3
    assert craft.gap == pytest.approx(1 / 3)
    assert insight.others is None
    assert insight.gap is None
    # comp_c has no Others, so the overall level is over comp_a and comp_b only.
    assert result.overall.others == 3.0
    assert dict(result.overall.others_weights) == {"comp_a": 2.0, "comp_b": 1.0}
    assert result.levels() == {"comp_a": 2.5, "comp_b": 4.0, "comp_c": None}
    assert result.to_dict()["dimensions"]["craft"]["level"] == 3.0


# --- the differencing case -------------------------------------------------------------


def test_withheld_peers_cannot_be_recovered_from_any_shown_number() -> None:
    """Manager shown alone, two peers withheld: every shown number must ignore the peers."""
    base = [
        *given("comp_a", self=3, manager=[4]),
        *given("comp_b", self=3, manager=[2], report=[3, 4, 5]),
        *given("comp_c", self=2, manager=[1]),
    ]

    def with_peers(
        a: tuple[Level, Level], b: tuple[Level, Level], c: tuple[Level, Level]
    ) -> ReviewResult:
        peers = [
            GivenRating(f"peer{n}", PEER, competency, levels[n])
            for competency, levels in (("comp_a", a), ("comp_b", b), ("comp_c", c))
            for n in (0, 1)
        ]
        return review([*base, *peers])

    result = with_peers((1, 2), (5, 5), (1, 1))
    comp_a, comp_b = result.competency("comp_a"), result.competency("comp_b")

    # Had the peers entered Others, peers = 2·Others − manager would give them away.
    assert comp_a.others == comp_a.level_of(MANAGER) == 4.0
    assert 2 * comp_a.others - 4.0 != 1.5
    # With reports shown: peers = 3·Others − manager − reports would, likewise.
    assert comp_b.others == 3.0  # (2 + 4) / 2, peers left out
    assert 3 * comp_b.others - 2.0 - 4.0 != 5.0

    # The decisive check: whatever the two peers gave ("not observed" included), no shown
    # number moves, so no function of the shown numbers can recover their ratings.
    shown = result.to_dict()
    levels: list[Level] = [None, 1, 2, 3, 4, 5]
    for pair in itertools.product(levels, repeat=2):
        for a, b, c in ((pair, (5, 5), (1, 1)), ((1, 2), pair, (1, 1)), ((1, 2), (5, 5), pair)):
            assert with_peers(a, b, c).to_dict() == shown

    # And apart from the notice that they were withheld, it is as if no peer had answered.
    peer_free = review(base).to_dict()
    assert "peer" not in peer_free["withheld"]
    assert shown["withheld"].pop("peer")["competencies"] == ["comp_a", "comp_b", "comp_c"]
    for competency in ("comp_a", "comp_b", "comp_c"):
        assert shown["competencies"][competency]["withheld"].pop("peer")
    assert shown == peer_free


def test_withheld_ratings_stay_out_of_agreement() -> None:
    """Alpha, per ratee and per cycle, is computed without withheld ratings."""
    ratings = {
        "ann": given(manager=[4], peer=[4, 4, 4]),
        "bo": given(manager=[2], peer=[2, 2, 2]),
        # Two peers far from the manager: with them alpha would fall.
        "cy": given(manager=[5], peer=[1, 1]),
    }
    agreement = cycle_agreement(RUBRIC, "analyst", ratings)
    assert agreement.competencies["comp_a"].interval == 1.0
    assert agreement.competencies["comp_a"].pairable_units == 2  # cy has one shown value
    assert not agreement.competencies["comp_a"].low

    lowered = cycle_agreement(RUBRIC, "analyst", ratings, ReviewPolicy(min_raters={"peer": 2}))
    interval = lowered.competencies["comp_a"].interval
    assert interval is not None
    assert interval < 0.667
    assert lowered.competencies["comp_a"].low

    assert review(given(manager=[5], peer=[1, 1])).agreement.pairable_values == 0


# --- agreement -------------------------------------------------------------------------


def test_a_ratees_agreement_takes_competencies_as_units_and_leaves_self_out() -> None:
    # Units comp_a {1, 2}, comp_b {3, 3}: D_o = 2/4, D_e = 22/12, alpha = 1 − 6/22 = 8/11.
    policy = ReviewPolicy(min_raters={"peer": 2})
    ratings = [*given("comp_a", self=5, peer=[1, 2]), *given("comp_b", self=1, peer=[3, 3])]
    agreement = review(ratings, policy).agreement

    assert agreement.interval == pytest.approx(8 / 11)
    assert agreement.ordinal is not None
    assert not agreement.low
    assert (agreement.pairable_units, agreement.pairable_values) == (2, 4)


def test_cycle_agreement_overall_uses_ratee_competency_units() -> None:
    ratings = {
        "ann": [*given("comp_a", manager=[1], peer=[5, 5, 5]), *given("comp_b", manager=[3])],
        "bo": [*given("comp_a", manager=[5], peer=[1, 1, 1]), *given("comp_b", manager=[3])],
    }
    agreement = cycle_agreement(RUBRIC, "analyst", ratings)

    # Units (ann, comp_a) = {1, 5, 5, 5} and (bo, comp_a) = {5, 1, 1, 1}; comp_b units have one
    # value each. D_o = 4·16 / 8 = 8, D_e = 2·4·4·16 / (8·7) = 64/7, alpha = 1 − 7/8.
    assert agreement.overall.pairable_units == 2
    assert agreement.overall.interval == pytest.approx(0.125)
    assert agreement.overall.low
    assert agreement.competencies["comp_b"].interval is None  # one value per unit
    assert agreement.to_dict()["overall"]["low"] is True


# --- storage form ----------------------------------------------------------------------


def test_to_dict_is_json_and_does_not_depend_on_input_order() -> None:
    ratings = [
        *COMMENTED,
        *given("comp_b", self=3, manager=[4], peer=[4, 3, 5], report=[2, 2, 2]),
        *given("comp_c", manager=[2]),
    ]
    first = json.dumps(review(ratings).to_dict(), ensure_ascii=False)
    again = json.dumps(review(list(reversed(ratings))).to_dict(), ensure_ascii=False)

    assert first == again
    data = json.loads(first)
    assert list(data["competencies"]) == ["comp_a", "comp_b", "comp_c"]
    assert list(data["competencies"]["comp_a"]["groups"]) == ["self", "manager", "peer", "report"]
    assert data["rubric_version"] == "v1"
    # No rater key leaves the aggregate.
    assert not any(f"{g}1" in first for g in ("self", "manager", "peer", "report"))


# --- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratings", "message"),
    [
        (given("comp_z", manager=[3]), "competency 'comp_z' is not in role 'analyst'"),
        (given(manager=[6]), "level 6 is not on the scale [1, 2, 3, 4, 5]"),
        (given(manager=[0]), "level 0 is not on the scale"),
        (given(manager=[3]) * 2, "rater 'manager1' rated 'comp_a' twice"),
        (
            [GivenRating("x", PEER, "comp_a", 3), GivenRating("x", MANAGER, "comp_b", 3)],
            "rater 'x' appears in several groups: ['manager', 'peer']",
        ),
        (
            [GivenRating("a", SELF, "comp_a", 3), GivenRating("b", SELF, "comp_b", 3)],
            "only the ratee rates as 'self'",
        ),
    ],
)
def test_ratings_that_do_not_fit_are_refused(ratings: list[GivenRating], message: str) -> None:
    with pytest.raises(ReviewInputError) as caught:
        review(ratings)
    assert any(message in problem for problem in caught.value.problems)


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ReviewInputError, match="unknown role 'chef'"):
        aggregate(RUBRIC, "v1", "chef", [])


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"min_raters": {"peer": 1}}, f"must be at least {ANONYMITY_FLOOR} for an anonymous"),
        ({"min_raters": {"boss": 2}}, "min_raters: unknown group 'boss'"),
        ({"min_raters": {"manager": 0}}, "min_raters['manager'] must be a whole number ≥ 1"),
        ({"min_raters": {"self": 2}}, "min_raters['self'] must be 1"),
        ({"group_weights": {"peer": 0}}, "group_weights['peer'] must be a positive number"),
        ({"group_weights": {"self": 1}}, "cannot weigh 'self'"),
        ({"blind_spot_threshold": 0}, "blind_spot_threshold must be a positive number"),
        ({"anonymous_groups": frozenset({"self"})}, "anonymous_groups cannot hold 'self'"),
    ],
)
def test_policies_that_would_break_the_rules_are_refused(
    policy: dict[str, Any], message: str
) -> None:
    with pytest.raises(ReviewInputError) as caught:
        ReviewPolicy(**policy)
    assert any(message in problem for problem in caught.value.problems)


def test_a_policy_fills_in_the_defaults() -> None:
    policy = ReviewPolicy(min_raters={"peer": 4}, group_weights={"manager": 2})
    assert policy.to_dict() == {
        "min_raters": {"self": 1, "manager": 1, "peer": 4, "report": 3},
        "group_weights": {"manager": 2.0, "peer": 1.0, "report": 1.0},
        "anonymous_groups": ["peer", "report"],
        "blind_spot_threshold": 1.0,
        "hidden_strength_threshold": 1.0,
    }
