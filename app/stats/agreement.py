"""Krippendorff's alpha: how far raters agree beyond what chance would give.

Used for the ratings of work samples in hiring assessments and for 360 review ratings. The
computation follows the coincidence-matrix form of Krippendorff (2011), "Computing
Krippendorff's Alpha-Reliability":

    o_ck = Σ_u (number of ordered c–k pairs of values in unit u) / (m_u − 1)
    n_c  = Σ_k o_ck,   n = Σ_c n_c
    D_o  = Σ_c Σ_k o_ck δ²_ck / n
    D_e  = Σ_c Σ_k n_c n_k δ²_ck / (n (n − 1))
    α    = 1 − D_o / D_e

where m_u is the number of values unit u received. Only units with at least two values are
pairable; the others are left out of every sum, as Krippendorff prescribes. The difference
function δ² depends on the level of measurement:

    nominal   0 if c = k, else 1
    ordinal   (Σ_{g=c}^{k} n_g − (n_c + n_k) / 2)², g running over the ranks from c to k
    interval  (c − k)²
    ratio     ((c − k) / (c + k))²

α = 1 is perfect agreement, α = 0 agreement at chance level, α < 0 systematic disagreement.
Krippendorff's thresholds: rely on data with α ≥ 0.800, draw only tentative conclusions from
0.667 ≤ α < 0.800, and none below 0.667 (`LOW_AGREEMENT`).
"""

from __future__ import annotations

import math
import numbers
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, get_args

Level = Literal["interval", "ordinal", "nominal", "ratio"]
# One unit: the values its raters gave, as a sequence or as a mapping rater → value.
# A missing rating is absent, or None.
Unit = Sequence[float | None] | Mapping[Any, float | None]

LOW_AGREEMENT = 0.667
LEVELS: tuple[Level, ...] = get_args(Level)

Difference = Callable[[float, float], float]


@dataclass(frozen=True)
class AgreementResult:
    """Krippendorff's alpha with the quantities it was computed from.

    `alpha` is None when it is undefined: when no unit has two values (n < 2), or when no
    disagreement is expected (D_e = 0, e.g. every pairable value is the same). Both
    disagreements are 0.0 when there are no pairable units.
    """

    alpha: float | None
    pairable_units: int
    pairable_values: int
    observed_disagreement: float
    expected_disagreement: float
    level: Level

    @property
    def is_low(self) -> bool:
        """Alpha is below `LOW_AGREEMENT`; False when alpha is undefined (None)."""
        return self.alpha is not None and self.alpha < LOW_AGREEMENT


def is_low(result: AgreementResult) -> bool:
    """Alpha is below `LOW_AGREEMENT` (0.667); False when alpha is undefined (None).

    An undefined alpha is no evidence of low agreement, nor of any agreement: callers that
    need reliable ratings must check `result.alpha is None` as well.
    """
    return result.is_low


def alpha(
    units: Iterable[Unit] | Mapping[Any, Unit],
    level: Level = "interval",
    *,
    ordinal_values: Sequence[float] | None = None,
) -> AgreementResult:
    """Krippendorff's alpha of `units` at the given level of measurement.

    `units` holds one entry per rated unit (a work sample, a 360 question about one person),
    each the values its raters gave; a mapping of units is read by its values. The result
    does not depend on the order of units or of the raters within a unit.

    `ordinal_values` is the ordinal scale (e.g. 1–5); every value must lie on it. Scale
    points nobody used count as ranks with n_g = 0, which adds nothing to the ordinal
    differences, so the scale only validates the data and does not change alpha.

    Raises ValueError for an unknown level, a value that is not finite, a negative value
    at ratio level, a value off `ordinal_values`, or `ordinal_values` at another level;
    TypeError for a value that is not a real number.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}; expected one of {LEVELS}")
    if ordinal_values is not None and level != "ordinal":
        raise ValueError("ordinal_values only applies to the ordinal level")
    scale = None if ordinal_values is None else _scale(ordinal_values)

    pairable: list[Counter[float]] = []
    for unit in units.values() if isinstance(units, Mapping) else units:
        counts = Counter(_checked(value, level, scale) for value in _ratings(unit))
        if counts.total() >= 2:
            pairable.append(counts)

    totals: Counter[float] = Counter()
    # Exact o_ck (and math.fsum below) make the result independent of the order of units.
    coincidences: defaultdict[tuple[float, float], Fraction] = defaultdict(Fraction)
    for counts in pairable:
        totals.update(counts)
        m = counts.total()
        for c, n_uc in counts.items():
            for k, n_uk in counts.items():
                pairs = n_uc * (n_uk - 1) if c == k else n_uc * n_uk
                if pairs:
                    coincidences[c, k] += Fraction(pairs, m - 1)

    n = totals.total()
    if n < 2:
        return AgreementResult(None, len(pairable), n, 0.0, 0.0, level)

    delta = _difference(level, totals, scale)
    observed = math.fsum(float(o) * delta(c, k) for (c, k), o in coincidences.items()) / n
    expected = math.fsum(
        n_c * n_k * delta(c, k) for c, n_c in totals.items() for k, n_k in totals.items()
    ) / (n * (n - 1))
    value = None if expected == 0 else 1 - observed / expected
    return AgreementResult(value, len(pairable), n, observed, expected, level)


def _ratings(unit: Unit) -> Iterator[float]:
    values = unit.values() if isinstance(unit, Mapping) else unit
    return (value for value in values if value is not None)


def _checked(value: object, level: Level, scale: Sequence[float] | None) -> float:
    if not isinstance(value, numbers.Real):
        raise TypeError(f"rating {value!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"rating {value!r} is not finite")
    if level == "ratio" and number < 0:
        raise ValueError(f"rating {value!r} is negative; the ratio level needs values ≥ 0")
    if scale is not None and number not in scale:
        raise ValueError(f"rating {value!r} is not on the ordinal scale {list(scale)}")
    return number


def _scale(ordinal_values: Sequence[float]) -> tuple[float, ...]:
    points = [_checked(value, "ordinal", None) for value in ordinal_values]
    return tuple(sorted(set(points)))


def _difference(
    level: Level, totals: Mapping[float, int], scale: Sequence[float] | None
) -> Difference:
    if level == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    if level == "interval":
        return lambda c, k: (c - k) ** 2
    if level == "ratio":
        # Values are ≥ 0, so c + k = 0 only when c = k = 0.
        return lambda c, k: 0.0 if c == k else ((c - k) / (c + k)) ** 2
    ranks = scale if scale is not None else sorted(totals)
    position = {value: index for index, value in enumerate(ranks)}
    # cumulative[i] = Σ n_g over the ranks below rank i.
    cumulative = [0]
    for value in ranks:
        cumulative.append(cumulative[-1] + totals.get(value, 0))

    def ordinal(c: float, k: float) -> float:
        low, high = sorted((position[c], position[k]))
        between = cumulative[high + 1] - cumulative[low]
        return (between - (totals[c] + totals[k]) / 2) ** 2

    return ordinal
