"""From measured levels to a development plan: gaps ranked by weight × gap, matched to modules.

Pure: rubric + role + levels in, plan out (ARCHITECTURE §5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.rubrics.spec import RoleProfile, Rubric, TrainingModule

# Gaps smaller than this are rounding noise, not something to train for.
MIN_GAP = 0.05


@dataclass(frozen=True)
class Gap:
    competency: str
    level: float
    target: float
    weight: float

    @property
    def size(self) -> float:
        """g_c = max(0, T_c − L_c)."""
        return max(0.0, self.target - self.level)

    @property
    def priority(self) -> float:
        """W_c · g_c: the order in which a plan takes the gaps."""
        return self.weight * self.size


@dataclass(frozen=True)
class Rung:
    """One catalogue module on the way from the current level toward the target."""

    module: str
    from_level: int
    to_level: int
    hours: float
    shared_with: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanStep:
    gap: Gap
    rungs: tuple[Rung, ...]
    # Modules that fit but did not fit in the hours budget, in the order they would come.
    deferred: tuple[Rung, ...] = ()
    # The first level no module starts from, when the catalogue cannot reach the target.
    uncovered_from: int | None = None


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]
    hours_budget: float | None
    total_hours: float
    not_assessed: tuple[str, ...] = field(default=())

    @property
    def module_ids(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for step in self.steps:
            for rung in step.rungs:
                seen.setdefault(rung.module)
        return tuple(seen)


def gaps(role: RoleProfile, levels: Mapping[str, float | None]) -> list[Gap]:
    """Competencies with a gap above MIN_GAP, largest W_c · g_c first (ties: rubric order)."""
    found = [
        Gap(competency, level, target.target, target.weight)
        for competency, target in role.targets.items()
        if (level := levels.get(competency)) is not None
    ]
    order = {competency: n for n, competency in enumerate(role.targets)}
    return sorted(
        (g for g in found if g.size > MIN_GAP),
        key=lambda g: (-g.priority, order[g.competency]),
    )


def ladder(
    modules: list[TrainingModule], competency: str, level: float, target: float
) -> tuple[list[tuple[TrainingModule, tuple[TrainingModule, ...]]], int | None]:
    """Modules that climb from `level` to `target`, one per rung, with the alternatives.

    A module fits a rung when it starts at or below the current level and ends above it;
    among those the narrowest range wins, then the fewest hours, then catalogue order.
    Returns the rungs and, if the catalogue runs out before the target, the level it stops at.
    """
    candidates = [m for m in modules if competency in m.competencies]
    cursor = math.floor(level)
    rungs: list[tuple[TrainingModule, tuple[TrainingModule, ...]]] = []
    while cursor < target:
        fitting = [m for m in candidates if m.levels.from_ <= cursor < m.levels.to]
        if not fitting:
            return rungs, cursor
        ranked = sorted(
            fitting,
            key=lambda m: (m.levels.to - m.levels.from_, m.hours, candidates.index(m)),
        )
        rungs.append((ranked[0], tuple(ranked[1:])))
        cursor = ranked[0].levels.to
    return rungs, None


def plan(
    rubric: Rubric,
    role: RoleProfile,
    levels: Mapping[str, float | None],
    hours_budget: float | None = None,
) -> Plan:
    """The development plan for `levels` measured against `role`.

    Gaps are taken in W_c · g_c order; each gets the ladder of modules toward its target.
    With a budget, a module is planned only while the running total of distinct modules'
    hours stays within it; a module shared by two competencies is counted once.
    """
    modules = list(rubric.modules)
    planned: dict[str, float] = {}
    steps = []
    for gap in gaps(role, levels):
        rungs, uncovered = ladder(modules, gap.competency, gap.level, gap.target)
        kept: list[Rung] = []
        deferred: list[Rung] = []
        for module, alternatives in rungs:
            rung = Rung(
                module=module.id,
                from_level=module.levels.from_,
                to_level=module.levels.to,
                hours=module.hours,
                shared_with=tuple(c for c in module.competencies if c != gap.competency),
                alternatives=tuple(m.id for m in alternatives),
            )
            cost = 0.0 if module.id in planned else module.hours
            within = hours_budget is None or sum(planned.values()) + cost <= hours_budget
            # Rungs build on each other: once one is deferred, the ones above it wait too.
            if within and not deferred:
                planned[module.id] = module.hours
                kept.append(rung)
            else:
                deferred.append(rung)
        steps.append(PlanStep(gap, tuple(kept), tuple(deferred), uncovered))
    not_assessed = tuple(c for c in role.targets if levels.get(c) is None)
    return Plan(tuple(steps), hours_budget, sum(planned.values()), not_assessed)
