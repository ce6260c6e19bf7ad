"""The training catalogue of the current rubric, and what the organisation's plans need most.

Anyone signed in may browse the catalogue; the needs summary is for HR and admins.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.config import Settings
from app.errors import Forbidden
from app.plans import gaps, views
from app.plans.models import DevelopmentPlan, ItemStatus, PlanItem
from app.plans.service import PlanInvalid, is_hr
from app.rubrics import service as rubric_service
from app.rubrics.spec import Rubric


def _current(settings: Settings, rubric_id: str | None) -> rubric_service.LoadedRubric:
    rubrics = rubric_service.current_rubrics(settings.rubrics_dir)
    if rubric_id is None:
        return rubrics[sorted(rubrics)[0]]
    if rubric_id not in rubrics:
        known = ", ".join(sorted(rubrics))
        raise PlanInvalid(
            "rubric",
            f"没有框架 {rubric_id!r}（可选：{known}）",
            f"no rubric {rubric_id!r} (rubrics: {known})",
        )
    return rubrics[rubric_id]


def catalogue(
    settings: Settings,
    rubric_id: str | None = None,
    competency: str | None = None,
    level: int | None = None,
) -> views.Catalogue:
    """Modules by competency (rubric order), each group by starting level.

    `level` keeps the modules a person at that level would take next: from ≤ level < to.
    """
    loaded = _current(settings, rubric_id)
    rubric = loaded.rubric
    known = rubric.competency_index()
    if competency is not None and competency not in known:
        raise PlanInvalid(
            "competency",
            f"该框架中没有能力 {competency!r}",
            f"no competency {competency!r} in this rubric",
        )
    scale = [lvl.value for lvl in rubric.scale.levels]
    if level is not None and level not in scale:
        raise PlanInvalid(
            "level",
            f"等级须在 {scale[0]}–{scale[-1]} 之间",
            f"level must be between {scale[0]} and {scale[-1]}",
        )
    groups = []
    for dimension, comp in rubric.competencies():
        if competency is not None and comp.id != competency:
            continue
        modules = sorted(
            (
                m
                for m in rubric.modules
                if comp.id in m.competencies
                and (level is None or m.levels.from_ <= level < m.levels.to)
            ),
            key=lambda m: (m.levels.from_, m.levels.to, m.hours),
        )
        if modules:
            groups.append(
                views.CatalogueGroup(
                    competency=comp.id,
                    name=dict(comp.name),
                    dimension=dict(dimension.name),
                    modules=tuple(views.catalogue_module(rubric, m) for m in modules),
                )
            )
    rubrics = rubric_service.current_rubrics(settings.rubrics_dir)
    return views.Catalogue(
        rubric_id=rubric.id,
        rubric_name=dict(rubric.name),
        rubrics=tuple((r, dict(rubrics[r].rubric.name)) for r in sorted(rubrics)),
        competencies=tuple((c.id, dict(c.name)) for _, c in rubric.competencies()),
        levels=tuple((lvl.value, dict(lvl.name)) for lvl in rubric.scale.levels),
        competency=competency,
        level=level,
        groups=tuple(groups),
    )


def needs(session: Session, actor: User, settings: Settings) -> views.Needs:
    """Across every plan: open (not done) items per module, and how often each competency
    was a gap (g_c > MIN_GAP) in a plan's baseline, with the mean gap. Most needed first."""
    if not is_hr(actor):
        raise Forbidden("only HR and admins see the organisation's needs")
    plans = list(session.scalars(select(DevelopmentPlan)))
    open_items = Counter[str]()
    plans_per_module: dict[str, set[int]] = defaultdict(set)
    for module_id, plan_id in session.execute(
        select(PlanItem.module_id, PlanItem.plan_id).where(PlanItem.status != ItemStatus.DONE.value)
    ):
        open_items[module_id] += 1
        plans_per_module[module_id].add(plan_id)
    gap_sizes: dict[str, list[float]] = defaultdict(list)
    for plan in plans:
        for competency, data in plan.baseline.items():
            level = data.get("level")
            if level is not None and float(data["target"]) - level > gaps.MIN_GAP:
                gap_sizes[competency].append(float(data["target"]) - level)
    # Names come from the current rubrics; a module or competency since dropped keeps its id.
    current = [r.rubric for r in rubric_service.current_rubrics(settings.rubrics_dir).values()]
    modules = sorted(
        (
            views.ModuleNeed(
                views.module_view(_holder(current, module_id), module_id),
                count,
                len(plans_per_module[module_id]),
            )
            for module_id, count in open_items.items()
        ),
        key=lambda n: (-n.open_items, n.module.id),
    )
    competencies = sorted(
        (
            views.CompetencyNeed(
                competency,
                views.competency_name(_owner(current, competency), competency),
                len(sizes),
                sum(sizes) / len(sizes),
            )
            for competency, sizes in gap_sizes.items()
        ),
        key=lambda n: (-n.plans, -n.mean_gap, n.competency),
    )
    return views.Needs(
        plans=len(plans),
        open_items=sum(open_items.values()),
        modules=tuple(modules),
        competencies=tuple(competencies),
    )


def _holder(rubrics: list[Rubric], module_id: str) -> Rubric | None:
    return next((r for r in rubrics if any(m.id == module_id for m in r.modules)), None)


def _owner(rubrics: list[Rubric], competency: str) -> Rubric | None:
    return next((r for r in rubrics if competency in r.competency_index()), None)
