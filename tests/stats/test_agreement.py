"""Krippendorff's alpha against published worked examples, hand computations and properties."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.stats.agreement import (
    LEVELS,
    LOW_AGREEMENT,
    AgreementResult,
    Level,
    Unit,
    alpha,
    is_low,
)


def columns(*observers: str) -> list[tuple[float | None, ...]]:
    """Units from observer rows written as in the papers, '.' or '*' for a missing value."""
    rows = [[None if v in ".*" else float(v) for v in row.split()] for row in observers]
    return list(zip(*rows, strict=True))


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section on
# "Interval, ratio, ordinal ... with missing values": 4 observers, 12 units, values 1–5.
KRIPPENDORFF_2011 = columns(
    "1 2 3 3 2 1 4 1 2 . . .",
    "1 2 3 3 2 2 4 1 2 5 . 3",
    ". 3 3 3 2 3 4 2 2 5 1 .",
    "1 2 3 3 2 4 4 1 2 5 1 .",
)

# Wikipedia, "Krippendorff's alpha", section "A computational example": 3 coders, 15 units.
WIKIPEDIA = columns(
    "* * * * * 3 4 1 2 1 1 3 3 * 3",
    "1 * 2 1 3 3 4 3 * * * * * * *",
    "* * 2 1 3 4 4 * 2 1 1 3 3 * 4",
)

# Two raters, three units; computed by hand below.
TINY = [(1, 1), (2, 3), (3, 3)]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_2011_example(level: Level, published: float) -> None:
    result = alpha(KRIPPENDORFF_2011, level)
    assert result.alpha is not None
    assert round(result.alpha, 3) == published
    # Unit 12 has a single value; the other 11 units hold n = 40 pairable values.
    assert (result.pairable_units, result.pairable_values) == (11, 40)
    assert result.level == level


def test_krippendorff_2011_nominal_by_hand() -> None:
    # Diagonal of the coincidence matrix: o_11 = 3 + 2 + 2 = 7, o_22 = 2 + 4 + 4 = 10,
    # o_33 = 4 + 4 = 8, o_44 = 4, o_55 = 3, so D_o = (40 − 32) / 40 = 0.2.
    # n_1..n_5 = 9, 13, 10, 5, 3, so D_e = (40² − 384) / (40 · 39) = 1216 / 1560.
    # α = 1 − 0.2 · 1560 / 1216 = 113 / 152 = 0.7434.
    result = alpha(KRIPPENDORFF_2011, "nominal")
    assert result.observed_disagreement == pytest.approx(0.2)
    assert result.expected_disagreement == pytest.approx(1216 / 1560)
    assert result.alpha == pytest.approx(113 / 152)


# Wikipedia publishes α_nominal = 0.691 and α_interval = 0.811 for its example. By hand:
# 12 pairable units, n = 26; n_1..n_4 = 7, 4, 10, 5. Off the diagonal only o_13 = o_31 = 1
# (unit 8) and o_34 = o_43 = 1/2 · 2 (unit 6) + 1 (unit 15) = 2.
#   nominal:  D_o = 6/26, D_e = (26² − 190) / 650 = 486/650, α = 1 − 25/81 = 56/81.
#   interval: D_o = (2 · 4 + 4 · 1)/26 = 12/26,
#             D_e = 2 (7·4·1 + 7·10·4 + 7·5·9 + 4·10·1 + 4·5·4 + 10·5·1)/650 = 1586/650,
#             α = 1 − 150/793 = 643/793.
# TINY: n = 6, n_1, n_2, n_3 = 2, 1, 3, and o_23 = o_32 = 1 is the only disagreement.
#   nominal:  D_o = 2/6, D_e = (36 − 14)/30, α = 1 − 10/22 = 6/11.
#   interval: D_o = 2/6, D_e = 2 (2·1·1 + 2·3·4 + 1·3·1)/30 = 58/30, α = 1 − 5/29 = 24/29.
#   ordinal:  δ²_12 = (3 − 1.5)² = 2.25, δ²_13 = (6 − 2.5)² = 12.25, δ²_23 = (4 − 2)² = 4;
#             D_o = 8/6, D_e = 2 (2·2.25 + 6·12.25 + 3·4)/30 = 6, α = 1 − 2/9 = 7/9.
#   ratio:    δ²_12 = 1/9, δ²_13 = 1/4, δ²_23 = 1/25; D_o = (2/25)/6 = 1/75,
#             D_e = 2 (2/9 + 6/4 + 3/25)/30 = 829/6750, α = 1 − 90/829 = 739/829.
@pytest.mark.parametrize(
    ("units", "level", "expected", "published"),
    [
        (WIKIPEDIA, "nominal", 56 / 81, 0.691),
        (WIKIPEDIA, "interval", 643 / 793, 0.811),
        (TINY, "nominal", 6 / 11, None),
        (TINY, "interval", 24 / 29, None),
        (TINY, "ordinal", 7 / 9, None),
        (TINY, "ratio", 739 / 829, None),
    ],
    ids=[
        "wikipedia-nominal",
        "wikipedia-interval",
        "tiny-nominal",
        "tiny-interval",
        "tiny-ordinal",
        "tiny-ratio",
    ],
)
def test_hand_computed_examples(
    units: list[Unit], level: Level, expected: float, published: float | None
) -> None:
    result = alpha(units, level)
    assert result.alpha == pytest.approx(expected, rel=1e-12)
    if published is not None:
        assert result.alpha is not None
        assert round(result.alpha, 3) == published


def test_wikipedia_disagreements() -> None:
    result = alpha(WIKIPEDIA, "interval")
    assert (result.pairable_units, result.pairable_values) == (12, 26)
    assert result.observed_disagreement == pytest.approx(12 / 26)
    assert result.expected_disagreement == pytest.approx(1586 / 650)


@pytest.mark.parametrize("level", LEVELS)
def test_perfect_agreement_with_variation_is_one(level: Level) -> None:
    result = alpha([[1, 1], [2, 2, 2], [3, 3], [5, 5]], level)
    assert result.alpha == 1.0
    assert result.observed_disagreement == 0.0
    assert result.expected_disagreement > 0


@pytest.mark.parametrize(
    ("units", "pairable_units", "pairable_values"),
    [
        ([], 0, 0),
        ([[1], [2], []], 0, 0),
        ([[None, 3], {"ana": 4, "ben": None}], 0, 0),
        ([[3, 3], [3, 3, 3], [4]], 2, 5),
    ],
    ids=["no-units", "single-values", "missing-marked-none", "all-identical"],
)
@pytest.mark.parametrize("level", LEVELS)
def test_alpha_undefined(
    units: list[Unit], pairable_units: int, pairable_values: int, level: Level
) -> None:
    result = alpha(units, level)
    assert result == AgreementResult(
        alpha=None,
        pairable_units=pairable_units,
        pairable_values=pairable_values,
        observed_disagreement=0.0,
        expected_disagreement=0.0,
        level=level,
    )
    assert not result.is_low
    assert not is_low(result)


@pytest.mark.parametrize("level", LEVELS)
def test_units_with_one_value_are_ignored(level: Level) -> None:
    padded: list[Unit] = [*TINY, [5], [], [None, 1], {"ana": 4}]
    assert alpha(padded, level) == alpha(TINY, level)


@pytest.mark.parametrize("level", LEVELS)
def test_order_of_raters_within_a_unit_does_not_matter(level: Level) -> None:
    reversed_units = [tuple(reversed(unit)) for unit in KRIPPENDORFF_2011]
    assert alpha(reversed_units, level) == alpha(KRIPPENDORFF_2011, level)


def test_mapping_input_matches_sequence_input() -> None:
    raters = "ABCD"
    by_unit = {
        f"unit-{number}": {rater: value for rater, value in zip(raters, unit, strict=True)}
        for number, unit in enumerate(KRIPPENDORFF_2011, start=1)
    }
    assert alpha(by_unit, "ordinal") == alpha(KRIPPENDORFF_2011, "ordinal")


def test_systematic_disagreement_is_low() -> None:
    # Rater B scores every work sample two points above rater A: D_o = 24/6 = 4 and
    # D_e = 2 · 6 · Σ(x − 3)² / 30 = 2 · 6 · 10 / 30 = 4, so α = 0.
    result = alpha([(1, 3), (2, 4), (3, 5)], "interval")
    assert result.alpha == 0.0
    assert result.alpha < LOW_AGREEMENT
    assert result.is_low
    assert is_low(result)


def test_krippendorff_2011_is_not_low() -> None:
    assert not is_low(alpha(KRIPPENDORFF_2011, "interval"))


def test_unused_scale_points_leave_ordinal_alpha_unchanged() -> None:
    # Unused ranks have n_g = 0 and add nothing to Σ n_g.
    on_scale = alpha(TINY, "ordinal", ordinal_values=[0, 1, 2, 3, 4, 5])
    assert on_scale.alpha == pytest.approx(7 / 9)
    assert on_scale == alpha(TINY, "ordinal")


@pytest.mark.parametrize(
    ("units", "level", "kwargs", "error", "match"),
    [
        ([[1, 2]], "cardinal", {}, ValueError, "unknown level"),
        ([[1, math.nan]], "interval", {}, ValueError, "not finite"),
        ([[1, math.inf]], "nominal", {}, ValueError, "not finite"),
        ([[1, -2]], "ratio", {}, ValueError, "negative"),
        ([[1, 6]], "ordinal", {"ordinal_values": [1, 2, 3, 4, 5]}, ValueError, "ordinal scale"),
        ([[1, 2]], "interval", {"ordinal_values": [1, 2]}, ValueError, "ordinal level"),
        ([[1, "2"]], "interval", {}, TypeError, "not a number"),
    ],
)
def test_invalid_input(
    units: list[Unit], level: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        alpha(units, level, **kwargs)


def pairwise_alpha(units: Sequence[Sequence[float]], level: Level) -> float | None:
    """Reference: alpha from pairs of values, without a coincidence matrix."""
    pairable = [list(unit) for unit in units if len(unit) >= 2]
    values = [v for unit in pairable for v in unit]
    n = len(values)
    if n < 2:
        return None

    def delta(c: float, k: float) -> float:
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return 0.0 if c == k else ((c - k) / (c + k)) ** 2
        low, high = min(c, k), max(c, k)
        between = sum(low <= v <= high for v in values)
        return (between - (values.count(c) + values.count(k)) / 2) ** 2

    observed = sum(
        sum(delta(c, k) for c, k in itertools.permutations(unit, 2)) / (len(unit) - 1)
        for unit in pairable
    )
    expected = sum(delta(c, k) for c, k in itertools.permutations(values, 2))
    if expected == 0:
        return None
    return 1 - (observed / n) / (expected / (n * (n - 1)))


ratings = st.lists(st.integers(min_value=0, max_value=5), max_size=5)
unit_lists = st.lists(ratings, max_size=12)


@given(units=unit_lists, level=st.sampled_from(LEVELS))
def test_alpha_matches_pairwise_definition_and_is_at_most_one(
    units: list[list[int]], level: Level
) -> None:
    result = alpha(units, level)
    reference = pairwise_alpha(units, level)
    if reference is None:
        assert result.alpha is None
    else:
        assert result.alpha == pytest.approx(reference, rel=1e-9, abs=1e-12)
    if result.alpha is not None:
        assert result.alpha <= 1


@given(
    units=st.lists(st.lists(st.floats(min_value=0, max_value=100), max_size=5), max_size=12),
    level=st.sampled_from(LEVELS),
    data=st.data(),
)
def test_permuting_units_and_raters_leaves_alpha_unchanged(
    units: list[list[float]], level: Level, data: st.DataObject
) -> None:
    result = alpha(units, level)
    if result.alpha is not None:
        assert result.alpha <= 1
    shuffled = [data.draw(st.permutations(unit)) for unit in data.draw(st.permutations(units))]
    assert alpha(shuffled, level) == result
