"""The 360 review model of ARCHITECTURE §4 as pure functions: submitted ratings → released result.

Anonymity is applied first: a withheld group's ratings are dropped before any mean, Others,
rollup, comment list or agreement statistic is computed, so no shown number depends on them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from app.rubrics.spec import RoleProfile, Rubric
from app.stats.agreement import AgreementResult, alpha

# Differences are compared with the thresholds after rounding, so 1.0 computed as
# 0.9999999999 still counts as a blind spot.
EDGE_DECIMALS = 9
# A mean over one anonymous rater is that rater's own rating.
ANONYMITY_FLOOR = 2


class Group(StrEnum):
    SELF = "self"
    MANAGER = "manager"
    PEER = "peer"
    REPORT = "report"


GROUPS: tuple[Group, ...] = tuple(Group)
OTHER_GROUPS: tuple[Group, ...] = (Group.MANAGER, Group.PEER, Group.REPORT)
DEFAULT_MIN_RATERS: Mapping[Group, int] = MappingProxyType(
    {Group.SELF: 1, Group.MANAGER: 1, Group.PEER: 3, Group.REPORT: 3}
)
GROUP_NAMES: Mapping[Group, Mapping[str, str]] = MappingProxyType(
    {
        Group.SELF: {"zh": "本人", "en": "the person reviewed"},
        Group.MANAGER: {"zh": "上级", "en": "managers"},
        Group.PEER: {"zh": "同事", "en": "peers"},
        Group.REPORT: {"zh": "下属", "en": "direct reports"},
    }
)

# Why a group is left out of a competency. `too_few_raters`: fewer of its raters submitted
# than the threshold (so it is withheld everywhere); `too_few_ratings`: enough submitted,
# but fewer rated this competency, the others saying "not observed".
Reason = Literal["too_few_raters", "too_few_ratings"]


class ReviewInputError(ValueError):
    """Ratings or a policy that do not fit the rubric; `problems` lists every one of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class GivenRating:
    """One submitted answer: a level on the rubric's scale, or None for "not observed"."""

    rater_key: str
    group: Group
    competency: str
    level: int | None
    comment: str = ""


@dataclass(frozen=True)
class ReviewPolicy:
    """A cycle's rules. Missing groups in `min_raters` / `group_weights` take the defaults."""

    # Keys may be Group members or their names as stored ("peer"); both are read as groups.
    min_raters: Mapping[Group, int] | Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_MIN_RATERS)
    )
    group_weights: Mapping[Group, float] | Mapping[str, float] = field(default_factory=dict)
    blind_spot_threshold: float = 1.0
    hidden_strength_threshold: float = 1.0
    anonymous_groups: frozenset[Group] = frozenset({Group.PEER, Group.REPORT})
    # Key of the hash that orders comments; per cycle, so orders differ between cycles.
    comment_seed: str = ""

    def __post_init__(self) -> None:
        problems: list[str] = []
        min_raters = dict(DEFAULT_MIN_RATERS)
        for key, value in self.min_raters.items():
            group = _group(key, "min_raters", problems)
            if group is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"min_raters[{key!r}] must be a whole number ≥ 1, got {value!r}")
            elif group is Group.SELF and value != 1:
                problems.append(
                    f"min_raters['self'] must be 1: only the ratee rates as self, got {value}"
                )
            else:
                min_raters[group] = value
        weights = dict.fromkeys(OTHER_GROUPS, 1.0)
        for key, weight in self.group_weights.items():
            group = _group(key, "group_weights", problems)
            if group is None:
                continue
            if group is Group.SELF:
                problems.append("group_weights cannot weigh 'self': Others leaves self out")
            elif not _positive(weight):
                problems.append(f"group_weights[{key!r}] must be a positive number, got {weight!r}")
            else:
                weights[group] = float(weight)
        anonymous: set[Group] = set()
        for key in self.anonymous_groups:
            group = _group(key, "anonymous_groups", problems)
            if group is Group.SELF:
                problems.append("anonymous_groups cannot hold 'self': the ratee is named")
            elif group is not None:
                anonymous.add(group)
        for group in sorted(anonymous, key=GROUPS.index):
            if min_raters[group] < ANONYMITY_FLOOR:
                problems.append(
                    f"min_raters[{group.value!r}] must be at least {ANONYMITY_FLOOR} for an "
                    f"anonymous group, got {min_raters[group]}"
                )
        for name in ("blind_spot_threshold", "hidden_strength_threshold"):
            if not _positive(getattr(self, name)):
                problems.append(f"{name} must be a positive number, got {getattr(self, name)!r}")
        if problems:
            raise ReviewInputError(problems)
        object.__setattr__(self, "min_raters", MappingProxyType(min_raters))
        object.__setattr__(self, "group_weights", MappingProxyType(weights))
        object.__setattr__(self, "anonymous_groups", frozenset(anonymous))

    def to_dict(self) -> dict[str, Any]:
        """The rules a result was computed under (the comment seed stays with the cycle)."""
        return {
            "min_raters": {g.value: self.min_raters[g] for g in GROUPS},
            "group_weights": {g.value: self.group_weights[g] for g in OTHER_GROUPS},
            "anonymous_groups": [g.value for g in GROUPS if g in self.anonymous_groups],
            "blind_spot_threshold": self.blind_spot_threshold,
            "hidden_strength_threshold": self.hidden_strength_threshold,
        }


def _group(key: object, where: str, problems: list[str]) -> Group | None:
    try:
        return Group(str(key))
    except ValueError:
        known = ", ".join(g.value for g in GROUPS)
        problems.append(f"{where}: unknown group {key!r} (groups: {known})")
        return None


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


@dataclass(frozen=True, slots=True)
class GroupLevel:
    """A shown group's mean on one competency, over `count` ratings ("not observed" excluded)."""

    group: Group
    level: float
    count: int


@dataclass(frozen=True, slots=True)
class Withheld:
    """A group left out (of one competency, or of the competencies listed) to keep it anonymous.

    Says how many raters were needed, never how many there were.
    """

    group: Group
    reason: Reason
    needed: int
    competencies: tuple[str, ...] = ()

    def message(self) -> dict[str, str]:
        name, needed = GROUP_NAMES[self.group], self.needed
        if self.reason == "too_few_raters":
            return {
                "zh": f"作答的{name['zh']}少于 {needed} 人，为保护匿名，其评分和评语不予显示。",
                "en": f"Fewer than {needed} {name['en']} answered, so their ratings and "
                "comments are withheld to keep them anonymous.",
            }
        which = {"zh": "所列能力", "en": "the competencies listed"}
        if not self.competencies:
            which = {"zh": "该能力", "en": "this competency"}
        return {
            "zh": f"对{which['zh']}给出评分的{name['zh']}少于 {needed} 人（“未观察到”不计入），"
            "为保护匿名，相应的评分和评语不予显示。",
            "en": f"Fewer than {needed} {name['en']} rated {which['en']} (“not observed” "
            "does not count), so those ratings and comments are withheld to keep them "
            "anonymous.",
        }

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"reason": self.reason, "needed": self.needed}
        if self.competencies:
            data["competencies"] = list(self.competencies)
        data["message"] = self.message()
        return data


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment with its group (only ever a shown group's) and no rater."""

    group: Group
    text: str


@dataclass(frozen=True, slots=True)
class CompetencyReview:
    competency: str
    dimension: str
    target: float
    weight: float
    # Shown groups only, in GROUPS order.
    groups: tuple[GroupLevel, ...]
    withheld: tuple[Withheld, ...]
    # Weighted mean of the shown non-self group means; the weights are listed here.
    others: float | None
    others_weights: Mapping[Group, float]
    gap: float | None
    self_minus_others: float | None
    blind_spot: bool
    hidden_strength: bool
    comments: tuple[Comment, ...]

    @property
    def level(self) -> float | None:
        """The 360 level of the competency (for plans and trends): Others."""
        return self.others

    def group(self, group: Group) -> GroupLevel | None:
        for shown in self.groups:
            if shown.group is group:
                return shown
        return None

    def level_of(self, group: Group) -> float | None:
        shown = self.group(group)
        return None if shown is None else shown.level

    def to_dict(self) -> dict[str, Any]:
        groups: dict[str, Any] = {}
        for group in GROUPS:
            shown = self.group(group)
            groups[group.value] = (
                None if shown is None else {"level": shown.level, "count": shown.count}
            )
        return {
            "dimension": self.dimension,
            "target": self.target,
            "weight": self.weight,
            "level": self.level,
            "others": self.others,
            "others_weights": {g.value: w for g, w in self.others_weights.items()},
            "groups": groups,
            "withheld": {w.group.value: w.to_dict() for w in self.withheld},
            "gap": self.gap,
            "self_minus_others": self.self_minus_others,
            "blind_spot": self.blind_spot,
            "hidden_strength": self.hidden_strength,
            "comments": [{"group": c.group.value, "text": c.text} for c in self.comments],
        }


@dataclass(frozen=True, slots=True)
class Rollup:
    """Role-weighted means over a dimension (or the whole role), with the weights used.

    `others` = Σ W_c·Others_c / Σ W_c over `others_weights` (the competencies with an Others
    level); `target` is the same mean of the targets over the same competencies; `self_level`
    likewise over `self_weights`. None when no competency has the level.
    """

    others: float | None
    target: float | None
    self_level: float | None
    others_weights: Mapping[str, float]
    self_weights: Mapping[str, float]

    @property
    def gap(self) -> float | None:
        if self.others is None or self.target is None:
            return None
        return max(0.0, self.target - self.others)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.others,
            "others": self.others,
            "target": self.target,
            "gap": self.gap,
            "self": self.self_level,
            "others_weights": dict(self.others_weights),
            "self_weights": dict(self.self_weights),
        }


@dataclass(frozen=True, slots=True)
class Agreement:
    """Krippendorff's alpha over shown non-self ratings; `low` follows the interval alpha."""

    interval: float | None
    ordinal: float | None
    low: bool
    pairable_units: int
    pairable_values: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "ordinal": self.ordinal,
            "low": self.low,
            "pairable_units": self.pairable_units,
            "pairable_values": self.pairable_values,
        }


@dataclass(frozen=True, slots=True)
class ReviewResult:
    rubric_id: str
    rubric_version: str
    role: str
    scale_min: int
    scale_max: int
    policy: ReviewPolicy
    competencies: tuple[CompetencyReview, ...]
    dimensions: Mapping[str, Rollup]
    overall: Rollup
    # Per group, the competencies it was withheld from (all of them for too_few_raters).
    withheld: tuple[Withheld, ...]
    # Units are the competencies; values the shown non-self ratings of each.
    agreement: Agreement

    def competency(self, competency_id: str) -> CompetencyReview:
        for result in self.competencies:
            if result.competency == competency_id:
                return result
        raise KeyError(competency_id)

    def levels(self) -> dict[str, float | None]:
        """Competency → 360 level (Others), the input of development plans and trends."""
        return {c.competency: c.level for c in self.competencies}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with a fixed key order: rubric order, then GROUPS order."""
        return {
            "rubric_id": self.rubric_id,
            "rubric_version": self.rubric_version,
            "role": self.role,
            "scale": {"min": self.scale_min, "max": self.scale_max},
            "policy": self.policy.to_dict(),
            "competencies": {c.competency: c.to_dict() for c in self.competencies},
            "dimensions": {d: rollup.to_dict() for d, rollup in self.dimensions.items()},
            "overall": self.overall.to_dict(),
            "withheld": {w.group.value: w.to_dict() for w in self.withheld},
            "agreement": self.agreement.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class CycleAgreement:
    """Alpha per competency (units = ratees) and overall (units = ratee × competency)."""

    overall: Agreement
    competencies: Mapping[str, Agreement]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "competencies": {c: a.to_dict() for c, a in self.competencies.items()},
        }


@dataclass(frozen=True, slots=True)
class _Shown:
    """One competency after anonymity: the ratings that may be used, and what was withheld."""

    levels: Mapping[Group, tuple[int, ...]]
    withheld: tuple[Withheld, ...]
    comments: tuple[Comment, ...]

    def other_values(self) -> list[int]:
        return [v for g in OTHER_GROUPS for v in self.levels.get(g, ())]


def aggregate(
    rubric: Rubric,
    rubric_version: str,
    role_id: str,
    ratings: Iterable[GivenRating],
    policy: ReviewPolicy | None = None,
) -> ReviewResult:
    """The released 360 result of one ratee from their submitted ratings.

    Per competency c of the role (rubric order):
    - a group is shown on c when at least `min_raters[group]` of its raters gave c a level
      ("not observed" is missing, not zero, and does not count); otherwise an anonymous group
      that submitted at all is withheld on c — from its row, Others, comments, rollups and
      agreement — while a named group with no level on c is simply absent;
    - group level = mean of its levels on c; Others = Σ w_g·mean_g / Σ w_g over the shown
      non-self groups (each group once, w_g = `group_weights`); the 360 level is Others;
    - gap = max(0, T_c − Others), None without Others (self alone never sets a level);
    - blind spot: self − Others ≥ `blind_spot_threshold`; hidden strength: Others − self ≥
      `hidden_strength_threshold`, both only with both levels, compared after rounding to
      EDGE_DECIMALS;
    - comments of shown groups, blank ones dropped, ordered by HMAC-SHA256(comment_seed,
      competency + text), so the order follows neither rater nor submission time.
    Dimensions and overall are role-weighted means of the competency levels (see Rollup).
    Full precision is kept; round for display only.

    Raises ReviewInputError naming every unknown role, group or competency, level off the
    scale, rater rating a competency twice or appearing in two groups, or second self rater.
    """
    policy = policy or ReviewPolicy()
    role = _role(rubric, role_id)
    given = tuple(ratings)
    problems = _problems(rubric, role, given)
    if problems:
        raise ReviewInputError(problems)
    shown = _apply_anonymity(rubric, role, given, policy)

    competencies = tuple(
        _competency(dimension.id, competency.id, role, shown[competency.id], policy)
        for dimension, competency in rubric.competencies()
        if competency.id in role.targets
    )
    dimensions = {
        dimension.id: _rollup([c for c in competencies if c.dimension == dimension.id])
        for dimension in rubric.dimensions
    }
    return ReviewResult(
        rubric_id=rubric.id,
        rubric_version=rubric_version,
        role=role.id,
        scale_min=rubric.scale.minimum,
        scale_max=rubric.scale.maximum,
        policy=policy,
        competencies=competencies,
        dimensions=dimensions,
        overall=_rollup(list(competencies)),
        withheld=_withheld_summary(competencies),
        agreement=_agreement(
            [shown[c.competency].other_values() for c in competencies], _scale(rubric)
        ),
    )


def cycle_agreement(
    rubric: Rubric,
    role_id: str,
    ratings_by_ratee: Mapping[str, Iterable[GivenRating]],
    policy: ReviewPolicy | None = None,
) -> CycleAgreement:
    """Krippendorff's alpha (interval, and ordinal on the rubric's scale) across a cycle.

    Values are the shown non-self ratings only — the same anonymity rules as `aggregate`, per
    ratee — so a withheld group's ratings cannot leak through the statistic; rater keys are
    not used, only each unit's values. Per competency the units are the ratees; overall they
    are the (ratee, competency) pairs. `low` when the interval alpha is below 0.667.
    """
    policy = policy or ReviewPolicy()
    role = _role(rubric, role_id)
    problems: list[str] = []
    shown_by_ratee = {}
    for ratee, ratings in ratings_by_ratee.items():
        given = tuple(ratings)
        found = _problems(rubric, role, given)
        problems += [f"ratee {ratee!r}: {problem}" for problem in found]
        if not found:
            shown_by_ratee[ratee] = _apply_anonymity(rubric, role, given, policy)
    if problems:
        raise ReviewInputError(problems)
    scale = _scale(rubric)
    ids = [c.id for _, c in rubric.competencies() if c.id in role.targets]
    per_competency = {
        c: _agreement([shown[c].other_values() for shown in shown_by_ratee.values()], scale)
        for c in ids
    }
    overall = _agreement(
        [shown[c].other_values() for shown in shown_by_ratee.values() for c in ids], scale
    )
    return CycleAgreement(overall, per_competency)


def _role(rubric: Rubric, role_id: str) -> RoleProfile:
    try:
        return rubric.role(role_id)
    except KeyError:
        known = ", ".join(r.id for r in rubric.roles)
        raise ReviewInputError([f"unknown role {role_id!r} (roles: {known})"]) from None


def _scale(rubric: Rubric) -> tuple[int, ...]:
    return tuple(sorted(level.value for level in rubric.scale.levels))


def _problems(rubric: Rubric, role: RoleProfile, ratings: Sequence[GivenRating]) -> list[str]:
    scale = set(_scale(rubric))
    problems: list[str] = []
    groups: dict[str, set[str]] = defaultdict(set)
    seen: set[tuple[str, str]] = set()
    for rating in ratings:
        who = f"rater {rating.rater_key!r}"
        if rating.group not in GROUPS:
            problems.append(f"{who}: unknown group {rating.group!r}")
        else:
            groups[rating.rater_key].add(Group(rating.group).value)
        if rating.competency not in role.targets:
            problems.append(f"{who}: competency {rating.competency!r} is not in role {role.id!r}")
        level = rating.level
        if level is not None and (
            isinstance(level, bool) or not isinstance(level, int) or level not in scale
        ):
            problems.append(
                f"{who}, {rating.competency!r}: level {level!r} is not on the scale "
                f"{sorted(scale)} (None means not observed)"
            )
        if (rating.rater_key, rating.competency) in seen:
            problems.append(f"{who} rated {rating.competency!r} twice")
        seen.add((rating.rater_key, rating.competency))
    for rater, named in sorted(groups.items()):
        if len(named) > 1:
            problems.append(f"rater {rater!r} appears in several groups: {sorted(named)}")
    selves = sorted(r for r, named in groups.items() if Group.SELF.value in named)
    if len(selves) > 1:
        problems.append(f"only the ratee rates as 'self', got raters {selves}")
    return problems


def _apply_anonymity(
    rubric: Rubric, role: RoleProfile, ratings: Sequence[GivenRating], policy: ReviewPolicy
) -> dict[str, _Shown]:
    """Per competency, keep only what may be shown; every later number is built from this."""
    raters: dict[Group, set[str]] = defaultdict(set)
    by_cell: dict[tuple[str, Group], list[GivenRating]] = defaultdict(list)
    for rating in ratings:
        group = Group(rating.group)
        raters[group].add(rating.rater_key)
        by_cell[rating.competency, group].append(rating)

    shown: dict[str, _Shown] = {}
    for _, competency in rubric.competencies():
        if competency.id not in role.targets:
            continue
        levels: dict[Group, tuple[int, ...]] = {}
        withheld: list[Withheld] = []
        comments: list[Comment] = []
        for group in GROUPS:
            cell = by_cell.get((competency.id, group), [])
            values = tuple(sorted(r.level for r in cell if r.level is not None))
            needed = policy.min_raters[group]
            if len(values) >= needed:
                levels[group] = values
                comments += [Comment(group, r.comment.strip()) for r in cell if r.comment.strip()]
            elif raters[group] and (values or group in policy.anonymous_groups):
                reason: Reason = (
                    "too_few_raters" if len(raters[group]) < needed else "too_few_ratings"
                )
                withheld.append(Withheld(group, reason, needed))
        shown[competency.id] = _Shown(
            levels, tuple(withheld), _ordered(comments, competency.id, policy.comment_seed)
        )
    return shown


def _ordered(comments: list[Comment], competency: str, seed: str) -> tuple[Comment, ...]:
    def key(comment: Comment) -> tuple[str, str, int]:
        message = f"{competency}\x00{comment.text}".encode()
        digest = hmac.new(seed.encode(), message, hashlib.sha256).hexdigest()
        return digest, comment.text, GROUPS.index(comment.group)

    return tuple(sorted(comments, key=key))


def _competency(
    dimension_id: str, competency_id: str, role: RoleProfile, shown: _Shown, policy: ReviewPolicy
) -> CompetencyReview:
    target = role.targets[competency_id]
    groups = tuple(
        GroupLevel(group, math.fsum(values) / len(values), len(values))
        for group, values in shown.levels.items()
    )
    means = {g.group: g.level for g in groups}
    weights = {g: policy.group_weights[g] for g in OTHER_GROUPS if g in means}
    others = _weighted_mean([(weights[g], means[g]) for g in weights])
    self_level = means.get(Group.SELF)
    difference = None if self_level is None or others is None else self_level - others
    edge = None if difference is None else round(difference, EDGE_DECIMALS)
    return CompetencyReview(
        competency=competency_id,
        dimension=dimension_id,
        target=target.target,
        weight=target.weight,
        groups=groups,
        withheld=shown.withheld,
        others=others,
        others_weights=MappingProxyType(weights),
        gap=None if others is None else max(0.0, target.target - others),
        self_minus_others=difference,
        blind_spot=edge is not None and edge >= policy.blind_spot_threshold,
        hidden_strength=edge is not None and -edge >= policy.hidden_strength_threshold,
        comments=shown.comments,
    )


def _weighted_mean(pairs: Sequence[tuple[float, float]]) -> float | None:
    total = math.fsum(weight for weight, _ in pairs)
    if not pairs or total == 0:
        return None
    return math.fsum(weight * value for weight, value in pairs) / total


def _rollup(competencies: Sequence[CompetencyReview]) -> Rollup:
    """Σ W_c·L_c / Σ W_c (ARCHITECTURE §3), over the competencies that have the level."""
    others = [(c, c.others) for c in competencies if c.others is not None]
    selves = [(c, level) for c in competencies if (level := c.level_of(Group.SELF)) is not None]
    return Rollup(
        others=_weighted_mean([(c.weight, level) for c, level in others]),
        target=_weighted_mean([(c.weight, c.target) for c, _ in others]),
        self_level=_weighted_mean([(c.weight, level) for c, level in selves]),
        others_weights=MappingProxyType({c.competency: c.weight for c, _ in others}),
        self_weights=MappingProxyType({c.competency: c.weight for c, _ in selves}),
    )


def _withheld_summary(competencies: Sequence[CompetencyReview]) -> tuple[Withheld, ...]:
    """Per group, the competencies it was withheld from; too_few_raters means from all."""
    found: dict[Group, list[tuple[str, Withheld]]] = defaultdict(list)
    for competency in competencies:
        for withheld in competency.withheld:
            found[withheld.group].append((competency.competency, withheld))
    summary = []
    for group in GROUPS:
        if entries := found.get(group):
            reasons = {w.reason for _, w in entries}
            reason: Reason = "too_few_raters" if "too_few_raters" in reasons else "too_few_ratings"
            ids = tuple(competency for competency, _ in entries)
            summary.append(Withheld(group, reason, entries[0][1].needed, ids))
    return tuple(summary)


def _agreement(units: Sequence[Sequence[int]], scale: Sequence[int]) -> Agreement:
    interval: AgreementResult = alpha(units, "interval")
    ordinal = alpha(units, "ordinal", ordinal_values=scale)
    return Agreement(
        interval=interval.alpha,
        ordinal=ordinal.alpha,
        low=interval.is_low,
        pairable_units=interval.pairable_units,
        pairable_values=interval.pairable_values,
    )
