"""The scoring model of ARCHITECTURE §3 as pure functions: rubric + responses → result + trace.

Nothing here touches the database, the web or the clock; the same inputs always give the
same result, and every number in the result can be traced to the answers and rubric version.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from app.rubrics.spec import Band, Item, RoleProfile, Rubric

# Fit is compared with band edges after rounding, so 0.8 computed as 0.7999999999 is 0.8.
FIT_EDGE_DECIMALS = 9


class ScoringInputError(ValueError):
    """Responses that do not fit the rubric; `problems` lists every one of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class ChoiceResponse:
    selected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rating:
    rater: str
    criteria: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class WorkSampleResponse:
    ratings: tuple[Rating, ...] = ()
    adjudication: Rating | None = None
    # Raters assigned to the item who have not rated it yet: the item stays pending.
    awaiting: tuple[str, ...] = ()


Response = ChoiceResponse | WorkSampleResponse


class ItemStatus(StrEnum):
    SCORED = "scored"
    UNANSWERED = "unanswered"
    PENDING = "pending"
    NEEDS_ADJUDICATION = "needs_adjudication"
    ADJUDICATED = "adjudicated"


# An item in one of these states leaves its competency's level provisional.
PROVISIONAL = frozenset({ItemStatus.PENDING, ItemStatus.NEEDS_ADJUDICATION})


# The records built per item and per competency are NamedTuples rather than frozen
# dataclasses: as immutable, and a quarter of the cost to build (a frozen dataclass sets
# each field through object.__setattr__), which is a fifth of a scoring run.
class RaterScore(NamedTuple):
    rater: str
    raw: float
    levels: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"rater": self.rater, "raw": self.raw, "levels": dict(self.levels)}


class ItemTrace(NamedTuple):
    item: str
    type: str
    weight: float
    max_points: float
    status: ItemStatus
    raw: float | None
    fraction: float | None
    selected: tuple[str, ...] = ()
    unclipped: float | None = None
    ratings: tuple[RaterScore, ...] = ()
    adjudication: RaterScore | None = None
    disagreements: tuple[str, ...] = ()
    awaiting: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The trace's figures, leaving out those that are empty for this item."""
        data = self._asdict()
        data["ratings"] = [rating.to_dict() for rating in self.ratings]
        if self.adjudication is not None:
            data["adjudication"] = self.adjudication.to_dict()
        return _drop_none(data)


class CompetencyResult(NamedTuple):
    competency: str
    dimension: str
    target: float
    weight: float
    critical: bool
    tolerance: float
    assessed: bool
    provisional: bool
    fraction: float | None
    level: float | None
    gap: float | None
    ratio: float | None
    items: tuple[ItemTrace, ...]

    @property
    def has_level(self) -> bool:
        return self.level is not None


@dataclass(frozen=True, slots=True)
class DimensionResult:
    dimension: str
    level: float | None


@dataclass(frozen=True, slots=True)
class Recommendation:
    band: str
    fit_band: str
    capped_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    item: str | None = None
    competency: str | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ScoreResult:
    rubric_id: str
    rubric_version: str
    role: str
    scale_min: int
    scale_max: int
    competencies: tuple[CompetencyResult, ...]
    dimensions: tuple[DimensionResult, ...]
    overall_level: float | None
    fit: float | None
    recommendation: Recommendation | None
    pending: tuple[str, ...]
    flags: tuple[Flag, ...] = field(default=())

    @property
    def final(self) -> bool:
        """No item is waiting for a rating or an adjudicator."""
        return not self.pending and not any(f.code == "needs_adjudication" for f in self.flags)

    def competency(self, competency_id: str) -> CompetencyResult:
        for result in self.competencies:
            if result.competency == competency_id:
                return result
        raise KeyError(competency_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ARCHITECTURE §3 (`yardstick score` prints this)."""
        return {
            "rubric_id": self.rubric_id,
            "rubric_version": self.rubric_version,
            "role": self.role,
            "final": self.final,
            "overall_level": self.overall_level,
            "fit": self.fit,
            "recommendation": asdict(self.recommendation) if self.recommendation else None,
            "competencies": {c.competency: _competency_dict(c) for c in self.competencies},
            "dimensions": {d.dimension: {"level": d.level} for d in self.dimensions},
            "pending": list(self.pending),
            "flags": [_drop_none(asdict(flag)) for flag in self.flags],
        }


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "", (), [])}


def _competency_dict(result: CompetencyResult) -> dict[str, Any]:
    data = result._asdict()
    data.pop("competency")
    data["items"] = [trace.to_dict() for trace in result.items]
    return data


def score(
    rubric: Rubric,
    rubric_version: str,
    role_id: str,
    drawn_items: Sequence[str],
    responses: Mapping[str, Response],
) -> ScoreResult:
    """Score one assessment of `role_id`.

    Raises ScoringInputError naming every unknown role, item, option, criterion or level.
    """
    role = _role(rubric, role_id)
    items = rubric.item_index()
    _validate(items, drawn_items, responses)
    traces: dict[str, ItemTrace] = {}
    by_competency: dict[str, list[ItemTrace]] = {}
    for item_id in drawn_items:
        item = items[item_id]
        trace = traces[item_id] = _score_item(item, responses.get(item_id))
        by_competency.setdefault(item.competency, []).append(trace)

    low, high = rubric.scale.minimum, rubric.scale.maximum
    competencies = tuple(
        _score_competency(
            dimension.id,
            competency.id,
            role,
            by_competency.get(competency.id, []),
            low,
            high,
        )
        for dimension, competency in rubric.competencies()
    )
    leveled = [c for c in competencies if c.level is not None]
    dimensions = tuple(
        DimensionResult(
            dimension.id,
            _weighted_mean([(c.weight, c.level) for c in leveled if c.dimension == dimension.id]),
        )
        for dimension in rubric.dimensions
    )
    overall = _weighted_mean([(c.weight, c.level) for c in leveled])
    fit = _weighted_mean([(c.weight, c.ratio) for c in leveled])
    pending = tuple(t.item for t in traces.values() if t.status is ItemStatus.PENDING)
    recommendation = _recommend(role, fit, leveled) if fit is not None else None
    return ScoreResult(
        rubric_id=rubric.id,
        rubric_version=rubric_version,
        role=role.id,
        scale_min=low,
        scale_max=high,
        competencies=competencies,
        dimensions=dimensions,
        overall_level=overall,
        fit=fit,
        recommendation=recommendation,
        pending=pending,
        flags=tuple(_flags(traces.values(), competencies, recommendation)),
    )


def _role(rubric: Rubric, role_id: str) -> RoleProfile:
    try:
        return rubric.role(role_id)
    except KeyError:
        known = ", ".join(r.id for r in rubric.roles)
        raise ScoringInputError([f"unknown role {role_id!r} (roles: {known})"]) from None


def _validate(
    items: Mapping[str, Item], drawn: Sequence[str], responses: Mapping[str, Response]
) -> None:
    problems: list[str] = []
    problems += [f"unknown item {item_id!r}" for item_id in drawn if item_id not in items]
    drawn_ids = set(drawn)
    if len(drawn_ids) != len(drawn):
        problems.append("an item is listed twice in the drawn items")
    for item_id, response in responses.items():
        if item_id not in items:
            if item_id in drawn_ids:
                continue
            problems.append(f"unknown item {item_id!r}")
        elif item_id not in drawn_ids:
            problems.append(f"item {item_id!r} was answered but not drawn")
        elif not _plainly_valid(items[item_id], response):
            problems += _response_problems(items[item_id], response)
    if problems:
        raise ScoringInputError(problems)


def _plainly_valid(item: Item, response: Response) -> bool:
    """The common case, checked without building any message."""
    if isinstance(response, ChoiceResponse):
        selected = response.selected
        if len(selected) == 1:  # most answers
            return item.is_choice and selected[0] in item.option_points
        chosen = set(selected)
        return (
            item.is_choice
            and len(chosen) == len(selected)
            and chosen <= item.option_points.keys()
            and (item.select == "multiple" or len(selected) <= 1)
        )
    if item.is_choice:
        return False
    ratings = response.ratings
    if len({r.rater for r in ratings}) != len(ratings):
        return False
    if response.adjudication is not None:
        if not ratings:
            return False
        ratings = (*ratings, response.adjudication)
    # Every pair a known (criterion, level) and as many as there are criteria: all rated.
    points, count = item.level_points, len(item.criteria)
    return all(len(r.criteria) == count and r.criteria.items() <= points.keys() for r in ratings)


def _response_problems(item: Item, response: Response) -> list[str]:
    where = f"item {item.id!r}"
    if isinstance(response, ChoiceResponse):
        if not item.is_choice:
            return [f"{where} is a work sample: give ratings, not selected options"]
        options = item.option_points
        problems = [f"{where}: unknown option {o!r}" for o in response.selected if o not in options]
        if len(set(response.selected)) != len(response.selected):
            problems.append(f"{where}: an option is selected twice")
        if item.select == "single" and len(response.selected) > 1:
            problems.append(
                f"{where} is single choice but {len(response.selected)} options are selected"
            )
        return problems
    if item.is_choice:
        return [f"{where} is a choice item: give selected options, not ratings"]
    ratings = list(response.ratings)
    if response.adjudication is not None:
        ratings.append(response.adjudication)
    problems = []
    criteria = [c.id for c in item.criteria]
    for rating in ratings:
        who = f"{where}, rater {rating.rater!r}"
        for criterion_id, level_id in rating.criteria.items():
            if criterion_id not in criteria:
                problems.append(f"{who}: unknown criterion {criterion_id!r}")
            elif (criterion_id, level_id) not in item.level_points:
                problems.append(f"{who}: unknown level {level_id!r} for criterion {criterion_id!r}")
        problems += [
            f"{who}: criterion {c!r} not rated" for c in criteria if c not in rating.criteria
        ]
    raters = [r.rater for r in response.ratings]
    if len(set(raters)) != len(raters):
        problems.append(f"{where}: a rater rated twice")
    if response.adjudication is not None and not response.ratings:
        problems.append(f"{where}: an adjudication needs the original ratings")
    return problems


def _score_item(item: Item, response: Response | None) -> ItemTrace:
    if response is None:
        return _trace(item, ItemStatus.UNANSWERED, 0.0)
    if isinstance(response, ChoiceResponse):
        return _score_choice(item, response)
    return _score_work_sample(item, response)


def _trace(
    item: Item,
    status: ItemStatus,
    raw: float | None,
    selected: tuple[str, ...] = (),
    unclipped: float | None = None,
    *,
    ratings: tuple[RaterScore, ...] = (),
    adjudication: RaterScore | None = None,
    disagreements: tuple[str, ...] = (),
    awaiting: tuple[str, ...] = (),
) -> ItemTrace:
    # Named parameters rather than **details, and ItemTrace built positionally (in its field
    # order; a test checks each name): one call per item, the busiest of a scoring run.
    maximum = item.maximum
    fraction = None if raw is None else raw / maximum
    return ItemTrace(
        item.id,
        item.type_name,
        item.weight,
        maximum,
        status,
        raw,
        fraction,
        selected,
        unclipped,
        ratings,
        adjudication,
        disagreements,
        awaiting,
    )


def _score_choice(item: Item, response: ChoiceResponse) -> ItemTrace:
    """Raw = Σ points of the selected options, clipped to [0, m_i]."""
    points = item.option_points
    unclipped = sum(map(points.__getitem__, response.selected))
    maximum = item.maximum
    raw = 0.0 if unclipped < 0 else maximum if unclipped > maximum else unclipped
    status = ItemStatus.SCORED if response.selected else ItemStatus.UNANSWERED
    return _trace(
        item,
        status,
        raw,
        selected=response.selected,
        unclipped=None if unclipped == raw else unclipped,
    )


def _score_work_sample(item: Item, response: WorkSampleResponse) -> ItemTrace:
    """Raw = mean of raters' sums; after adjudication, mean of adjudicator and closest rater."""
    if not response.ratings:
        return _trace(item, ItemStatus.PENDING, None)
    scores = tuple([_rater_score(item, rating) for rating in response.ratings])
    disagreements = _disagreements(item, response.ratings)
    if response.adjudication is not None:
        adjudicator = _rater_score(item, response.adjudication)
        # Ties go to the earlier rating, so the result never depends on anything but order.
        closest = min(scores, key=lambda s: abs(s.raw - adjudicator.raw))
        raw = (adjudicator.raw + closest.raw) / 2
        status = ItemStatus.ADJUDICATED
    else:
        adjudicator = None
        raw = sum([s.raw for s in scores]) / len(scores)
        if disagreements:
            status = ItemStatus.NEEDS_ADJUDICATION
        elif response.awaiting:
            # Provisional on the ratings so far; final once every assigned rater has rated.
            status = ItemStatus.PENDING
        else:
            status = ItemStatus.SCORED
    return _trace(
        item,
        status,
        raw,
        ratings=scores,
        adjudication=adjudicator,
        disagreements=disagreements,
        awaiting=response.awaiting if status is ItemStatus.PENDING else (),
    )


def _rater_score(item: Item, rating: Rating) -> RaterScore:
    points = item.level_points
    raw = sum(map(points.__getitem__, rating.criteria.items()))
    return RaterScore(rater=rating.rater, raw=raw, levels=dict(rating.criteria))


def _disagreements(item: Item, ratings: Sequence[Rating]) -> tuple[str, ...]:
    """Criteria on which two raters are more than `max_disagreement` level positions apart."""
    if len(ratings) < 2:
        return ()
    found: list[str] = []
    position, allowed = item.level_positions, item.max_disagreement
    for criterion in item.criteria:
        c = criterion.id
        positions = [position[(c, r.criteria[c])] for r in ratings]
        if max(positions) - min(positions) > allowed:
            found.append(c)
    return tuple(found)


def _score_competency(
    dimension_id: str,
    competency_id: str,
    role: RoleProfile,
    traces: Sequence[ItemTrace],
    low: int,
    high: int,
) -> CompetencyResult:
    """p_c = Σ w_i f_i / Σ w_i over drawn items; L_c = L_min + (L_max − L_min)·p_c."""
    target = role.targets[competency_id]
    fraction = _weighted_mean([(t.weight, t.fraction) for t in traces])
    level = None if fraction is None else low + (high - low) * fraction
    gap = None if level is None else max(0.0, target.target - level)
    return CompetencyResult(
        competency=competency_id,
        dimension=dimension_id,
        target=target.target,
        weight=target.weight,
        critical=target.critical,
        tolerance=target.tolerance,
        assessed=bool(traces),
        provisional=any(t.status in PROVISIONAL for t in traces),
        fraction=fraction,
        level=level,
        gap=gap,
        ratio=None if level is None else _ratio(level, target.target, low),
        items=tuple(traces),
    )


def _ratio(level: float, target: float, low: int) -> float:
    """r_c = min((L_c − L_min) / (T_c − L_min), 1); 1 when the target is the floor."""
    if target <= low:
        return 1.0
    return min((level - low) / (target - low), 1.0)


def _weighted_mean(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    """Σ w·v / Σ w over the pairs whose value is present; None when none is."""
    total = weighted = 0.0
    for weight, value in pairs:
        if value is not None:
            total += weight
            weighted += weight * value
    return weighted / total if total > 0 else None


def _band_for(bands: Sequence[Band], fit: float) -> Band:
    ordered = sorted(bands, key=lambda b: b.min)
    edge = round(fit, FIT_EDGE_DECIMALS)
    for band in ordered:
        if band.min <= edge < band.max:
            return band
    return ordered[-1]


def _recommend(
    role: RoleProfile, fit: float, leveled: Sequence[CompetencyResult]
) -> Recommendation:
    """The band holding fit; a critical gap above its tolerance caps it at `critical_cap`."""
    fit_band = _band_for(role.bands, fit)
    capped_by = tuple(
        c.competency for c in leveled if c.critical and c.gap is not None and c.gap > c.tolerance
    )
    band = fit_band
    if capped_by and role.critical_cap is not None:
        rank = {b.id: b.min for b in role.bands}
        if rank[fit_band.id] > rank[role.critical_cap]:
            band = next(b for b in role.bands if b.id == role.critical_cap)
    return Recommendation(band=band.id, fit_band=fit_band.id, capped_by=capped_by)


def _flags(
    traces: Iterable[ItemTrace],
    competencies: Sequence[CompetencyResult],
    recommendation: Recommendation | None,
) -> list[Flag]:
    flags: list[Flag] = []
    for trace in traces:
        if trace.status is ItemStatus.NEEDS_ADJUDICATION:
            flags.append(
                Flag(
                    "needs_adjudication",
                    item=trace.item,
                    detail="raters differ by more than the item allows on "
                    + ", ".join(trace.disagreements),
                )
            )
        elif trace.status is ItemStatus.PENDING:
            detail = (
                f"awaiting {len(trace.awaiting)} more rating(s)"
                if trace.awaiting
                else "awaiting a rating"
            )
            flags.append(Flag("pending", item=trace.item, detail=detail))
    for result in competencies:
        if not result.assessed:
            flags.append(Flag("not_assessed", competency=result.competency))
        elif result.level is None:
            flags.append(
                Flag("pending", competency=result.competency, detail="every item awaits a rating")
            )
        if result.critical and result.level is None:
            flags.append(
                Flag(
                    "critical_without_level",
                    competency=result.competency,
                    detail="a critical competency has no level yet; the cap cannot be checked",
                )
            )
    if recommendation is not None:
        changed = recommendation.band != recommendation.fit_band
        flags += [
            Flag(
                "critical_gap",
                competency=competency_id,
                detail=f"gap above tolerance caps the recommendation at {recommendation.band}"
                if changed
                else "gap above tolerance (the fit band is already at or below the cap)",
            )
            for competency_id in recommendation.capped_by
        ]
    return flags
