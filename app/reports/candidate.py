"""The candidate report (for HR) and the candidate feedback report, from a hiring result.

Pure: a `ResultView` and its pinned rubric in, a `Document` out; every text is already in the
report's language, so the templates only lay it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.assessments.views import CompetencyView, ItemTraceView, ResultView
from app.plans import gaps
from app.reports import charts
from app.reports.documents import (
    Document,
    check_lang,
    day,
    decimal,
    filename,
    first_line,
    pick,
    shorten,
)
from app.rubrics.spec import RoleProfile, Rubric, Text

# A radar needs 3–12 spokes; outside that the competencies are drawn as bars.
RADAR_AXES = range(3, 13)
# One line of a work sample's heading: Chinese characters are about twice as wide.
PROMPT_TITLE_MAX = {"zh": 32, "en": 60}
ANSWER_MAX = 320
NOTE_MAX = 400
# Flags the report already shows elsewhere: in the reason, the table or the provisional box.
SHOWN_ELSEWHERE = frozenset({"critical_gap", "pending", "needs_adjudication", "not_assessed"})

ITEM_STATUSES: Mapping[str, Text] = {
    "scored": {"zh": "已评分", "en": "scored"},
    "unanswered": {"zh": "未作答", "en": "unanswered"},
    "pending": {"zh": "待评分", "en": "pending"},
    "needs_adjudication": {"zh": "待仲裁", "en": "awaiting adjudication"},
    "adjudicated": {"zh": "已仲裁", "en": "adjudicated"},
}
PROVISIONAL_STATUSES = frozenset({"pending", "needs_adjudication"})
MODULE_FORMATS: Mapping[str, Text] = {
    "course": {"zh": "课程", "en": "Course"},
    "workshop": {"zh": "工作坊", "en": "Workshop"},
    "practice": {"zh": "实操练习", "en": "Practice"},
    "mentoring": {"zh": "导师辅导", "en": "Mentoring"},
    "reading": {"zh": "阅读", "en": "Reading"},
}


@dataclass(frozen=True)
class Figure:
    value: str
    label: str
    note: str = ""


@dataclass(frozen=True)
class CompetencyRow:
    name: str
    dimension: str
    level: float | None
    target: float
    gap: float | None
    critical: bool
    provisional: bool
    anchor_level: int | None
    anchor_name: str
    anchor: str


@dataclass(frozen=True)
class AreaRow:
    name: str
    focus: bool
    gaps: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class RatingLine:
    rater: str
    adjudication: bool
    points: str
    note: str


@dataclass(frozen=True)
class WorkSample:
    item_id: str
    competency: str
    title: str
    answer: str
    status: str
    provisional: bool
    ratings: tuple[RatingLine, ...]


@dataclass(frozen=True)
class ModuleLine:
    title: str
    format: str
    hours: float
    levels: str


@dataclass(frozen=True)
class PlanStep:
    name: str
    level: float
    target: float
    gap: float
    modules: tuple[ModuleLine, ...]
    # The level from which the catalogue has no module toward the target; None if covered.
    uncovered_from: int | None


@dataclass(frozen=True)
class PlanSection:
    steps: tuple[PlanStep, ...]
    total_hours: float
    not_assessed: tuple[str, ...]


@dataclass(frozen=True)
class TraceItem:
    item_id: str
    weight: float
    points: str
    fraction: str
    status: str
    # Anything but plainly scored is named in the trace.
    flagged: bool
    provisional: bool


@dataclass(frozen=True)
class TraceRow:
    name: str
    weight: float
    fraction: str
    level: float | None
    provisional: bool
    items: tuple[TraceItem, ...]


def _competency_row(c: CompetencyView, rubric: Rubric, lang: str) -> CompetencyRow:
    names = {level.value: level.name for level in rubric.scale.levels}
    return CompetencyRow(
        name=pick(c.name, lang),
        dimension=pick(c.dimension_name, lang),
        level=c.level,
        target=c.target,
        gap=c.gap,
        critical=c.critical,
        provisional=c.provisional,
        anchor_level=c.anchor_level,
        anchor_name=pick(names.get(c.anchor_level or -1), lang),
        anchor=pick(c.anchor, lang),
    )


def _by_dimension(rows: list[CompetencyRow]) -> list[tuple[str, list[CompetencyRow]]]:
    """Rows grouped under their dimension, in rubric order (rows come in that order)."""
    groups: dict[str, list[CompetencyRow]] = {}
    for row in rows:
        groups.setdefault(row.dimension, []).append(row)
    return list(groups.items())


def level_charts(result: ResultView, lang: str) -> tuple[str, str]:
    """The competency chart (radar, or bars outside 3–12 competencies) and the dimension bars,
    without legends: the report's captions say what the shapes are."""
    low, high = result.scale_min, result.scale_max
    rows = [(pick(c.name, lang), c.level, c.target) for c in result.competencies]
    if len(rows) in RADAR_AXES:
        competencies = charts.radar_chart(
            [charts.RadarAxis(*row) for row in rows],
            scale_min=low,
            scale_max=high,
            size=480,
            lang=lang,
            legend=False,
        )
    else:
        competencies = charts.level_bars(
            [charts.BarRow(*row) for row in rows],
            scale_min=low,
            scale_max=high,
            lang=lang,
            legend=False,
        )
    dimensions = charts.level_bars(
        [charts.BarRow(pick(d.name, lang), d.level, d.target) for d in result.dimensions],
        scale_min=low,
        scale_max=high,
        lang=lang,
        legend=False,
    )
    return competencies, dimensions


def _points(raw: float | None, maximum: float) -> str:
    """ "6.5/7": points to at most two decimals over the maximum."""
    return f"—/{maximum:g}" if raw is None else f"{round(raw, 2):g}/{maximum:g}"


def _work_samples(result: ResultView, lang: str) -> tuple[WorkSample, ...]:
    """Each work sample with the answer and every rating, notes beside the rating they explain."""
    notes = {(n.item_id, n.rater_name, n.adjudication): n.note for n in result.rater_notes}
    samples = []
    for competency in result.competencies:
        for item in competency.items:
            if item.type != "work_sample":
                continue
            samples.append(
                WorkSample(
                    item_id=item.item_id,
                    competency=pick(competency.name, lang),
                    title=first_line(pick(item.prompt, lang), PROMPT_TITLE_MAX[lang]),
                    answer=shorten(item.answer_text or "", ANSWER_MAX),
                    status=pick(ITEM_STATUSES.get(item.status), lang) or item.status,
                    provisional=item.status in PROVISIONAL_STATUSES,
                    ratings=tuple(
                        RatingLine(
                            rater=rating.rater_name,
                            adjudication=rating.adjudication,
                            points=_points(rating.raw, item.max_points),
                            note=shorten(
                                notes.get((item.item_id, rating.rater_name, rating.adjudication))
                                or "",
                                NOTE_MAX,
                            ),
                        )
                        for rating in item.ratings
                    ),
                )
            )
    return tuple(samples)


def plan_section(
    rubric: Rubric, role: RoleProfile, levels: Mapping[str, float | None], lang: str
) -> PlanSection:
    """The suggested plan of `gaps.plan`: gaps by W_c · g_c, each with its module ladder."""
    plan = gaps.plan(rubric, role, levels)
    modules = {m.id: m for m in rubric.modules}
    names = {c.id: c.name for _, c in rubric.competencies()}
    steps = []
    for step in plan.steps:
        lines = []
        for rung in step.rungs:
            module = modules[rung.module]
            lines.append(
                ModuleLine(
                    title=pick(module.title, lang),
                    format=pick(MODULE_FORMATS.get(module.format.value), lang),
                    hours=module.hours,
                    levels=f"{rung.from_level} → {rung.to_level}",
                )
            )
        steps.append(
            PlanStep(
                name=pick(names.get(step.gap.competency), lang) or step.gap.competency,
                level=step.gap.level,
                target=step.gap.target,
                gap=step.gap.size,
                modules=tuple(lines),
                uncovered_from=step.uncovered_from,
            )
        )
    return PlanSection(
        steps=tuple(steps),
        total_hours=plan.total_hours,
        not_assessed=tuple(pick(names.get(c), lang) or c for c in plan.not_assessed),
    )


def _trace_item(item: ItemTraceView, lang: str) -> TraceItem:
    return TraceItem(
        item_id=item.item_id,
        weight=item.weight,
        points=_points(item.raw, item.max_points),
        fraction=decimal(item.fraction),
        status=pick(ITEM_STATUSES.get(item.status), lang) or item.status,
        flagged=item.status != "scored",
        provisional=item.status in PROVISIONAL_STATUSES,
    )


def _trace(result: ResultView, lang: str) -> tuple[TraceRow, ...]:
    return tuple(
        TraceRow(
            name=pick(c.name, lang),
            weight=c.weight,
            fraction=decimal(c.fraction),
            level=c.level,
            provisional=c.provisional,
            items=tuple(_trace_item(item, lang) for item in c.items),
        )
        for c in result.competencies
    )


def _recommendation_figure(result: ResultView, lang: str) -> Figure:
    label = {"zh": "推荐结论", "en": "Recommendation"}
    if result.recommendation is None:
        return Figure("—", pick(label, lang))
    note = "" if result.final else pick({"zh": "暂定", "en": "provisional"}, lang)
    return Figure(pick(result.recommendation.label, lang), pick(label, lang), note)


def _candidate_name(result: ResultView) -> str:
    candidate = result.assessment.candidate
    return candidate.name if candidate else f"#{result.assessment.id}"


def candidate_document(result: ResultView, rubric: Rubric, lang: str) -> Document:
    """HR's report: summary, charts, competencies with anchors, risks, notes, plan, trace."""
    check_lang(lang)
    view = result.assessment
    name = _candidate_name(result)
    role_name = pick(view.role_name, lang)
    title = pick(
        {"zh": f"候选人测评报告：{name}", "en": f"Candidate assessment report: {name}"}, lang
    )
    radar, dimension_bars = level_charts(result, lang)
    overall_note = ""
    if result.overall_target is not None:
        overall_note = (
            pick({"zh": "目标", "en": "target"}, lang) + " " + decimal(result.overall_target, 1)
        )
    recommendation = result.recommendation
    facts = [
        (pick({"zh": "候选人", "en": "Candidate"}, lang), name),
        (pick({"zh": "应聘岗位", "en": "Role"}, lang), role_name),
        (pick({"zh": "测评日期", "en": "Assessment date"}, lang), day(view.submitted_at)),
        (pick({"zh": "结果计算于", "en": "Result computed"}, lang), day(result.computed_at)),
        (pick({"zh": "能力模型版本", "en": "Rubric version"}, lang), result.rubric_version[:12]),
        (pick({"zh": "测评编号", "en": "Assessment no."}, lang), str(view.id)),
    ]
    context = {
        "lang": lang,
        "title": title,
        "subtitle": role_name,
        "facts": facts,
        "final": result.final,
        "provisional_reasons": [pick(r, lang) for r in result.provisional_reasons],
        "figures": [
            Figure(
                decimal(result.overall_level, 1),
                pick({"zh": "总体水平", "en": "Overall level"}, lang),
                overall_note,
            ),
            Figure(decimal(result.fit), pick({"zh": "岗位匹配度（0–1）", "en": "Fit (0–1)"}, lang)),
            _recommendation_figure(result, lang),
        ],
        "reason": pick(recommendation.reason, lang) if recommendation else "",
        "capped": bool(recommendation and recommendation.capped),
        "radar": radar,
        "radar_drawn": len(result.competencies) in RADAR_AXES,
        "dimension_bars": dimension_bars,
        "competency_groups": _by_dimension(
            [_competency_row(c, rubric, lang) for c in result.competencies]
        ),
        "areas": [
            AreaRow(
                name=pick(area.name, lang),
                focus=area.focus,
                gaps=tuple((pick(g.name, lang), g.gap) for g in area.competencies),
            )
            for area in result.areas_at_risk
        ],
        "work_samples": _work_samples(result, lang),
        "plan": plan_section(
            rubric,
            rubric.role(view.role_id),
            {c.id: c.level for c in result.competencies},
            lang,
        ),
        "trace": _trace(result, lang),
        "rubric_version": result.rubric_version,
        "scale_min": result.scale_min,
        "scale_max": result.scale_max,
        "flags": list(
            dict.fromkeys(
                pick(f.message, lang) for f in result.flags if f.code not in SHOWN_ELSEWHERE
            )
        ),
    }
    return Document(
        template="reports/candidate.html",
        context=context,
        title=title,
        lang=lang,
        filename=filename(f"candidate-report-{view.id}", name),
    )


# ── the feedback report the candidate receives ──────────────────────────────────────────


@dataclass(frozen=True)
class FeedbackArea:
    name: str
    description: str
    # What the candidate showed, in the rubric's own behavioural words.
    observed: str
    # For a development area: what the next step up looks like.
    next_step: str
    modules: tuple[str, ...]


def _strengths_and_areas(
    result: ResultView, rubric: Rubric, lang: str
) -> tuple[list[FeedbackArea], list[FeedbackArea]]:
    """Strengths: assessed competencies at or above target, strongest margin first (at most
    four). Development areas: gaps of the suggested plan, in its W_c · g_c order."""
    index = rubric.competency_index()
    role = rubric.role(result.assessment.role_id)
    high = result.scale_max
    plan = gaps.plan(rubric, role, {c.id: c.level for c in result.competencies})
    modules = {m.id: m for m in rubric.modules}
    by_id = {c.id: c for c in result.competencies}

    leveled = [c for c in result.competencies if c.level is not None and (c.gap or 0) <= 0]
    leveled.sort(key=lambda c: -((c.level or 0) - c.target))
    strengths = [
        FeedbackArea(
            name=pick(c.name, lang),
            description=pick(index[c.id].description, lang),
            observed=pick(c.anchor, lang),
            next_step="",
            modules=(),
        )
        for c in leveled[:4]
    ]
    areas = []
    for step in plan.steps:
        c = by_id[step.gap.competency]
        next_level = min((c.anchor_level or 0) + 1, high)
        anchors = index[c.id].anchors
        areas.append(
            FeedbackArea(
                name=pick(c.name, lang),
                description=pick(index[c.id].description, lang),
                observed=pick(c.anchor, lang),
                next_step=pick(anchors.get(next_level), lang),
                modules=tuple(pick(modules[r.module].title, lang) for r in step.rungs),
            )
        )
    return strengths, areas


def feedback_document(result: ResultView, rubric: Rubric, lang: str) -> Document:
    """For the candidate: strengths and development areas in words; no scores of anyone, no
    rater, no fit and no recommendation."""
    check_lang(lang)
    view = result.assessment
    name = _candidate_name(result)
    role_name = pick(view.role_name, lang)
    title = pick({"zh": f"测评反馈：{name}", "en": f"Assessment feedback for {name}"}, lang)
    strengths, areas = _strengths_and_areas(result, rubric, lang)
    context = {
        "lang": lang,
        "title": title,
        "subtitle": role_name,
        "facts": [
            (pick({"zh": "姓名", "en": "Name"}, lang), name),
            (pick({"zh": "应聘岗位", "en": "Role"}, lang), role_name),
            (pick({"zh": "测评日期", "en": "Assessment date"}, lang), day(view.submitted_at)),
        ],
        "name": name,
        "note": pick({"zh": "仅供收件人本人阅读", "en": "For the addressee only"}, lang),
        "strengths": strengths,
        "areas": areas,
        "not_assessed": [pick(c.name, lang) for c in result.competencies if c.level is None],
    }
    return Document(
        template="reports/feedback.html",
        context=context,
        title=title,
        lang=lang,
        filename=filename(f"assessment-feedback-{view.id}", name),
    )
