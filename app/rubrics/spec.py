"""The rubric file format as frozen Pydantic models, plus the cross-reference rules.

Structure (types, unknown keys, required fields) is enforced by the models; rules that span
several parts of the document (ids, references, coverage, bands) live in `check_rubric`,
which returns every problem instead of stopping at the first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

SCHEMA_VERSION = 1

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
# A text a person reads, one entry per rubric language: {"zh": "…", "en": "…"}.
Text = dict[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")], str]
Path = tuple[str | int, ...]


class Spec(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False
    )


class ScaleLevel(Spec):
    value: int = Field(ge=0, le=100)
    name: Text
    description: Text


class Scale(Spec):
    levels: tuple[ScaleLevel, ...] = Field(min_length=2)

    @cached_property
    def minimum(self) -> int:
        return min(level.value for level in self.levels)

    @cached_property
    def maximum(self) -> int:
        return max(level.value for level in self.levels)


class Indicator(Spec):
    id: Id
    name: Text
    description: Text


class Competency(Spec):
    id: Id
    name: Text
    description: Text
    indicators: tuple[Indicator, ...] = Field(min_length=1)
    # One behavioural anchor per scale level, keyed by the level's value.
    anchors: dict[int, Text]


class Dimension(Spec):
    id: Id
    name: Text
    description: Text
    competencies: tuple[Competency, ...] = Field(min_length=1)


class Activity(Spec):
    id: Id
    name: Text
    description: Text


class ResponsibilityArea(Spec):
    id: Id
    name: Text
    description: Text
    activities: tuple[Activity, ...] = Field(min_length=1)
    competencies: tuple[Id, ...] = Field(min_length=1)


class Target(Spec):
    target: float
    weight: float
    critical: bool = False
    # A critical competency whose gap exceeds this caps the recommendation.
    tolerance: float = Field(default=0.5, ge=0)


class Band(Spec):
    """Fit in [min, max) earns this label; the top band includes its max."""

    id: Id
    label: Text
    min: float = Field(ge=0, le=1)
    max: float = Field(ge=0, le=1)


class ItemType(StrEnum):
    KNOWLEDGE = "knowledge"
    SITUATIONAL = "situational"
    WORK_SAMPLE = "work_sample"


class BlueprintEntry(Spec):
    competency: Id
    type: ItemType
    count: int = Field(ge=1)


class RoleProfile(Spec):
    id: Id
    name: Text
    description: Text
    targets: dict[Id, Target]
    bands: tuple[Band, ...] = Field(min_length=1)
    critical_cap: Id | None = None
    # Responsibility areas this role leans on most; reports list gaps there first.
    focus_areas: tuple[Id, ...] = ()
    blueprint: tuple[BlueprintEntry, ...] = Field(min_length=1)


class ItemUse(StrEnum):
    HIRING = "hiring"
    PRACTICE = "practice"


class Option(Spec):
    id: Id
    text: Text
    points: float
    rationale: Text | None = None


class CriterionLevel(Spec):
    id: Id
    points: float = Field(ge=0)
    descriptor: Text


class Criterion(Spec):
    id: Id
    name: Text
    # Ordered from weakest to strongest; the position is the distance used for disagreement.
    levels: tuple[CriterionLevel, ...] = Field(min_length=2)


class Item(Spec):
    id: Id
    type: ItemType
    competency: Id
    indicator: Id
    prompt: Text
    explanation: Text
    use: tuple[ItemUse, ...] = Field(min_length=1)
    weight: float = 1.0
    # Choice items only.
    select: Literal["single", "multiple"] = "single"
    options: tuple[Option, ...] = ()
    max_points: float | None = None
    # Work samples only.
    criteria: tuple[Criterion, ...] = ()
    max_disagreement: int = Field(default=1, ge=0)
    max_length: int = Field(default=4000, ge=1, le=50_000)

    @cached_property
    def is_choice(self) -> bool:
        return self.type is not ItemType.WORK_SAMPLE

    @cached_property
    def type_name(self) -> str:
        # Read for every scored item; an enum member's `.value` is a descriptor lookup.
        return self.type.value

    @cached_property
    def option_points(self) -> Mapping[str, float]:
        return {o.id: o.points for o in self.options}

    @cached_property
    def level_points(self) -> Mapping[tuple[str, str], float]:
        """(criterion id, level id) → points."""
        return {(c.id, level.id): level.points for c in self.criteria for level in c.levels}

    @cached_property
    def level_positions(self) -> Mapping[tuple[str, str], int]:
        """(criterion id, level id) → position in the criterion's ordered levels."""
        return {(c.id, level.id): n for c in self.criteria for n, level in enumerate(c.levels)}

    @cached_property
    def reachable_points(self) -> float:
        """The most points any answer can earn before clipping."""
        if not self.is_choice:
            return sum(max(level.points for level in c.levels) for c in self.criteria)
        if self.select == "single":
            return max((o.points for o in self.options), default=0.0)
        return sum(o.points for o in self.options if o.points > 0)

    @cached_property
    def maximum(self) -> float:
        """m_i of the scoring model: declared max_points, else the reachable points."""
        return self.max_points if self.max_points is not None else self.reachable_points


class LevelRange(Spec):
    # Named for the YAML key; `from` is a Python keyword.
    from_: int = Field(alias="from")
    to: int


class ModuleFormat(StrEnum):
    COURSE = "course"
    WORKSHOP = "workshop"
    PRACTICE = "practice"
    MENTORING = "mentoring"
    READING = "reading"


class TrainingModule(Spec):
    id: Id
    title: Text
    competencies: tuple[Id, ...] = Field(min_length=1)
    levels: LevelRange
    format: ModuleFormat
    hours: float = Field(gt=0, le=500)
    description: Text


class Rubric(Spec):
    schema_version: Literal[1]
    id: Id
    name: Text
    description: Text
    languages: tuple[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")], ...] = Field(
        min_length=1
    )
    scale: Scale
    dimensions: tuple[Dimension, ...] = Field(min_length=1)
    responsibility_areas: tuple[ResponsibilityArea, ...] = ()
    roles: tuple[RoleProfile, ...] = Field(min_length=1)
    items: tuple[Item, ...] = ()
    modules: tuple[TrainingModule, ...] = ()

    def competencies(self) -> Iterator[tuple[Dimension, Competency]]:
        for dimension in self.dimensions:
            for competency in dimension.competencies:
                yield dimension, competency

    def competency(self, competency_id: str) -> Competency:
        return self.competency_index()[competency_id]

    def competency_index(self) -> Mapping[str, Competency]:
        return self._competencies_by_id

    @cached_property
    def _competencies_by_id(self) -> Mapping[str, Competency]:
        return {c.id: c for _, c in self.competencies()}

    def role(self, role_id: str) -> RoleProfile:
        for role in self.roles:
            if role.id == role_id:
                return role
        raise KeyError(role_id)

    def item_index(self) -> Mapping[str, Item]:
        return self._items_by_id

    @cached_property
    def _items_by_id(self) -> Mapping[str, Item]:
        return {item.id: item for item in self.items}


@dataclass(frozen=True)
class Problem:
    """A rule broken at `path` inside the document (keys and list positions)."""

    path: Path
    message: str


def check_rubric(rubric: Rubric) -> list[Problem]:
    """Every cross-reference and coverage rule of ARCHITECTURE §2, all problems at once."""
    problems: list[Problem] = []
    problems += _check_translations(rubric)
    problems += _check_scale(rubric)
    problems += _check_unique_ids(rubric)
    problems += _check_competencies(rubric)
    problems += _check_areas(rubric)
    problems += _check_roles(rubric)
    problems += _check_items(rubric)
    problems += _check_modules(rubric)
    return problems


def _texts(value: object, path: Path) -> Iterator[tuple[Path, Text]]:
    if isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            key = info.alias or name
            yield from _texts(getattr(value, name), (*path, key))
    elif isinstance(value, tuple):
        for index, element in enumerate(value):
            yield from _texts(element, (*path, index))
    elif isinstance(value, dict):
        if value and all(isinstance(v, str) for v in value.values()):
            yield path, value
        else:
            for key, element in value.items():
                yield from _texts(element, (*path, key))


def _check_translations(rubric: Rubric) -> Iterator[Problem]:
    wanted = set(rubric.languages)
    if len(wanted) != len(rubric.languages):
        yield Problem(("languages",), "a language is listed twice")
    for path, text in _texts(rubric, ()):
        missing = sorted(wanted - text.keys())
        extra = sorted(text.keys() - wanted)
        if missing:
            yield Problem(path, f"missing translation: {', '.join(missing)}")
        if extra:
            yield Problem(path, f"language not declared in `languages`: {', '.join(extra)}")
        for language, value in text.items():
            if not value.strip():
                yield Problem((*path, language), "text is empty")


def _check_scale(rubric: Rubric) -> Iterator[Problem]:
    values = [level.value for level in rubric.scale.levels]
    expected = list(range(values[0], values[0] + len(values)))
    if values != expected:
        yield Problem(
            ("scale", "levels"),
            f"levels must be consecutive integers in ascending order, got {values}",
        )


def _duplicates(ids: list[tuple[Path, str]], kind: str) -> Iterator[Problem]:
    counts = Counter(value for _, value in ids)
    seen: set[str] = set()
    for path, value in ids:
        if counts[value] > 1:
            if value in seen:
                yield Problem(path, f"duplicate {kind} id {value!r}")
            seen.add(value)


def _check_unique_ids(rubric: Rubric) -> Iterator[Problem]:
    yield from _duplicates(
        [(("dimensions", i, "id"), d.id) for i, d in enumerate(rubric.dimensions)], "dimension"
    )
    competencies: list[tuple[Path, str]] = []
    indicators: list[tuple[Path, str]] = []
    for i, dimension in enumerate(rubric.dimensions):
        for j, competency in enumerate(dimension.competencies):
            path: Path = ("dimensions", i, "competencies", j)
            competencies.append(((*path, "id"), competency.id))
            for k, indicator in enumerate(competency.indicators):
                indicators.append(((*path, "indicators", k, "id"), indicator.id))
    yield from _duplicates(competencies, "competency")
    yield from _duplicates(indicators, "indicator")
    yield from _duplicates(
        [
            (("responsibility_areas", i, "id"), a.id)
            for i, a in enumerate(rubric.responsibility_areas)
        ],
        "responsibility area",
    )
    for i, area in enumerate(rubric.responsibility_areas):
        yield from _duplicates(
            [
                (("responsibility_areas", i, "activities", k, "id"), a.id)
                for k, a in enumerate(area.activities)
            ],
            "activity",
        )
    yield from _duplicates([(("roles", i, "id"), r.id) for i, r in enumerate(rubric.roles)], "role")
    yield from _duplicates(
        [(("items", i, "id"), it.id) for i, it in enumerate(rubric.items)], "item"
    )
    yield from _duplicates(
        [(("modules", i, "id"), m.id) for i, m in enumerate(rubric.modules)], "module"
    )
    for i, item in enumerate(rubric.items):
        yield from _duplicates(
            [(("items", i, "options", k, "id"), o.id) for k, o in enumerate(item.options)],
            "option",
        )
        yield from _duplicates(
            [(("items", i, "criteria", k, "id"), c.id) for k, c in enumerate(item.criteria)],
            "criterion",
        )
        for k, criterion in enumerate(item.criteria):
            yield from _duplicates(
                [
                    (("items", i, "criteria", k, "levels", n, "id"), level.id)
                    for n, level in enumerate(criterion.levels)
                ],
                "criterion level",
            )


def _check_competencies(rubric: Rubric) -> Iterator[Problem]:
    levels = [level.value for level in rubric.scale.levels]
    for i, dimension in enumerate(rubric.dimensions):
        for j, competency in enumerate(dimension.competencies):
            path: Path = ("dimensions", i, "competencies", j, "anchors")
            missing = [v for v in levels if v not in competency.anchors]
            extra = sorted(set(competency.anchors) - set(levels))
            if missing:
                yield Problem(
                    path,
                    f"competency {competency.id!r} has no anchor for level "
                    + ", ".join(str(v) for v in missing),
                )
            if extra:
                yield Problem(
                    path,
                    f"competency {competency.id!r} has anchors for levels not on the scale: "
                    + ", ".join(str(v) for v in extra),
                )


def _unknown(
    value: str, known: Mapping[str, object] | set[str], kind: str, path: Path
) -> Iterator[Problem]:
    if value not in known:
        yield Problem(path, f"unknown {kind} {value!r}")


def _check_areas(rubric: Rubric) -> Iterator[Problem]:
    known = rubric.competency_index()
    for i, area in enumerate(rubric.responsibility_areas):
        for k, competency_id in enumerate(area.competencies):
            yield from _unknown(
                competency_id, known, "competency", ("responsibility_areas", i, "competencies", k)
            )


def _check_roles(rubric: Rubric) -> Iterator[Problem]:
    known = rubric.competency_index()
    areas = {a.id for a in rubric.responsibility_areas}
    low, high = rubric.scale.minimum, rubric.scale.maximum
    for i, role in enumerate(rubric.roles):
        path: Path = ("roles", i)
        missing = [c for c in known if c not in role.targets]
        if missing:
            yield Problem(
                (*path, "targets"),
                f"role {role.id!r} has no target for competency " + ", ".join(missing),
            )
        for competency_id, target in role.targets.items():
            target_path: Path = (*path, "targets", competency_id)
            yield from _unknown(competency_id, known, "competency", target_path)
            if not low <= target.target <= high:
                yield Problem(
                    (*target_path, "target"),
                    f"target {target.target:g} is outside the scale {low}–{high}",
                )
            if target.weight <= 0:
                yield Problem(
                    (*target_path, "weight"), f"weight must be positive, got {target.weight:g}"
                )
        yield from _check_bands(role, path)
        for k, area_id in enumerate(role.focus_areas):
            yield from _unknown(area_id, areas, "responsibility area", (*path, "focus_areas", k))
        for k, entry in enumerate(role.blueprint):
            entry_path: Path = (*path, "blueprint", k)
            yield from _unknown(entry.competency, known, "competency", (*entry_path, "competency"))
            available = sum(
                1
                for item in rubric.items
                if item.competency == entry.competency
                and item.type is entry.type
                and ItemUse.HIRING in item.use
            )
            if entry.competency in known and available < entry.count:
                yield Problem(
                    (*entry_path, "count"),
                    f"blueprint draws {entry.count} {entry.type.value} item(s) of "
                    f"{entry.competency!r} but the bank has {available} for hiring",
                )


def _check_bands(role: RoleProfile, path: Path) -> Iterator[Problem]:
    ordered = sorted(enumerate(role.bands), key=lambda pair: pair[1].min)
    for index, band in ordered:
        if band.min >= band.max:
            yield Problem((*path, "bands", index), f"band {band.id!r} has min ≥ max")
    if ordered[0][1].min != 0:
        yield Problem(
            (*path, "bands"), f"bands leave a gap: fit below {ordered[0][1].min:g} has no band"
        )
    if ordered[-1][1].max != 1:
        yield Problem(
            (*path, "bands"), f"bands leave a gap: fit above {ordered[-1][1].max:g} has no band"
        )
    for (_, lower), (index, upper) in pairwise(ordered):
        if upper.min < lower.max:
            yield Problem((*path, "bands", index), f"band {upper.id!r} overlaps band {lower.id!r}")
        elif upper.min > lower.max:
            yield Problem(
                (*path, "bands", index),
                f"bands leave a gap between {lower.max:g} and {upper.min:g}",
            )
    band_ids = {band.id for band in role.bands}
    if role.critical_cap is not None and role.critical_cap not in band_ids:
        yield Problem((*path, "critical_cap"), f"unknown band {role.critical_cap!r}")
    if role.critical_cap is None and any(t.critical for t in role.targets.values()):
        yield Problem(
            (*path, "critical_cap"),
            "role marks competencies critical but names no critical_cap band",
        )


def _check_items(rubric: Rubric) -> Iterator[Problem]:
    competencies = rubric.competency_index()
    for i, item in enumerate(rubric.items):
        path: Path = ("items", i)
        yield from _unknown(item.competency, competencies, "competency", (*path, "competency"))
        competency = competencies.get(item.competency)
        if competency is not None:
            indicators = {ind.id for ind in competency.indicators}
            if item.indicator not in indicators:
                yield Problem(
                    (*path, "indicator"),
                    f"unknown indicator {item.indicator!r} for competency {item.competency!r}",
                )
        if item.weight <= 0:
            yield Problem((*path, "weight"), f"weight must be positive, got {item.weight:g}")
        if item.is_choice:
            yield from _check_choice_item(item, path)
        else:
            yield from _check_work_sample(item, path)


def _check_choice_item(item: Item, path: Path) -> Iterator[Problem]:
    if len(item.options) < 2:
        yield Problem((*path, "options"), f"{item.type.value} item needs at least 2 options")
    if item.criteria:
        yield Problem((*path, "criteria"), "only work samples have criteria")
    if item.type is ItemType.SITUATIONAL:
        if item.select != "single":
            yield Problem((*path, "select"), "situational items are single choice")
        for k, option in enumerate(item.options):
            if option.points not in (0, 1, 2, 3):
                yield Problem(
                    (*path, "options", k, "points"),
                    f"situational options score 0–3, got {option.points:g}",
                )
            if option.rationale is None:
                yield Problem((*path, "options", k), "situational option needs a rationale")
    if item.max_points is not None and item.max_points <= 0:
        yield Problem((*path, "max_points"), "max_points must be positive")
    elif item.maximum <= 0:
        yield Problem((*path, "options"), "no option earns points: the item has no maximum")
    elif item.reachable_points < item.maximum:
        yield Problem(
            (*path, "options"),
            f"options reach at most {item.reachable_points:g} of max_points {item.maximum:g}",
        )


def _check_work_sample(item: Item, path: Path) -> Iterator[Problem]:
    if not item.criteria:
        yield Problem((*path, "criteria"), "a work sample needs at least one criterion")
    if item.options:
        yield Problem((*path, "options"), "work samples are rated on criteria, not options")
    if item.max_points is not None:
        yield Problem((*path, "max_points"), "a work sample's maximum comes from its criteria")
    for k, criterion in enumerate(item.criteria):
        points = [level.points for level in criterion.levels]
        if any(b <= a for a, b in pairwise(points)):
            yield Problem(
                (*path, "criteria", k, "levels"),
                f"criterion {criterion.id!r}: level points must rise from weakest to strongest",
            )
    if item.criteria and item.maximum <= 0:
        yield Problem((*path, "criteria"), "no criterion level earns points")


def _check_modules(rubric: Rubric) -> Iterator[Problem]:
    known = rubric.competency_index()
    low, high = rubric.scale.minimum, rubric.scale.maximum
    for i, module in enumerate(rubric.modules):
        path: Path = ("modules", i)
        for k, competency_id in enumerate(module.competencies):
            yield from _unknown(competency_id, known, "competency", (*path, "competencies", k))
        levels = module.levels
        if not (low <= levels.from_ < levels.to <= high):
            yield Problem(
                (*path, "levels"),
                f"level range {levels.from_}→{levels.to} must rise within the scale {low}–{high}",
            )
