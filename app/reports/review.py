"""The 360 review report for the person reviewed, from the released (anonymised) result.

Pure: the review service's `ResultView`, the pinned rubric and, when there is one, the saved
development plan in; a `Document` out. Only what the released result holds can be shown, so
a withheld group never appears, neither in numbers nor in comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from app.plans.views import PlanView
from app.reports import charts
from app.reports.candidate import PlanSection, plan_section
from app.reports.documents import Document, check_lang, day, filename, pick
from app.reviews.presenting import agreement_in_words, agreement_method
from app.reviews.views import CompetencyResult, ResultView
from app.rubrics.spec import Rubric

GROUP_ORDER = ("self", "manager", "peer", "report")
GROUP_NAMES = {
    "self": {"zh": "自评", "en": "Self"},
    "manager": {"zh": "上级", "en": "Manager"},
    "peer": {"zh": "同事", "en": "Peers"},
    "report": {"zh": "下属", "en": "Reports"},
}


@dataclass(frozen=True)
class GroupValue:
    level: float | None
    withheld: bool


@dataclass(frozen=True)
class ReviewRow:
    name: str
    dimension: str
    target: float
    groups: tuple[GroupValue, ...]
    others: float | None
    gap: float | None
    blind_spot: bool
    hidden_strength: bool
    explanation: str
    anchor_level: int | None
    anchor_name: str
    anchor: str


@dataclass(frozen=True)
class CommentGroup:
    competency: str
    comments: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Withheld:
    group: str
    message: str
    competencies: tuple[str, ...]


@dataclass(frozen=True)
class SavedItem:
    title: str
    status: str
    done: bool
    due: str


@dataclass(frozen=True)
class SavedStep:
    name: str
    level: float | None
    target: float
    items: tuple[SavedItem, ...]


@dataclass(frozen=True)
class SavedPlan:
    title: str
    steps: tuple[SavedStep, ...]
    done: int
    total: int


def groups_shown(result: ResultView) -> tuple[str, ...]:
    """Self, manager and peers always; direct reports only when the person has any."""
    reports = any(
        cell.group == "report" and (cell.level is not None or cell.withheld is not None)
        for c in result.competencies
        for cell in c.groups
    )
    return GROUP_ORDER if reports else GROUP_ORDER[:3]


def _row(
    c: CompetencyResult, lang: str, shown: tuple[str, ...], level_names: Mapping[int, str]
) -> ReviewRow:
    by_group = {cell.group: cell for cell in c.groups}
    return ReviewRow(
        name=pick(c.name, lang),
        dimension=pick(c.dimension_name, lang),
        target=c.target,
        groups=tuple(
            GroupValue(
                level=by_group[g].level if g in by_group else None,
                withheld=g in by_group and by_group[g].withheld is not None,
            )
            for g in shown
        ),
        others=c.others,
        gap=c.gap,
        blind_spot=c.blind_spot,
        hidden_strength=c.hidden_strength,
        explanation=pick(c.explanation, lang),
        anchor_level=c.anchor_level,
        anchor_name=level_names.get(c.anchor_level or -1, ""),
        anchor=pick(c.anchor, lang),
    )


def saved_plan(plan: PlanView, lang: str) -> SavedPlan:
    steps = tuple(
        SavedStep(
            name=pick(step.name, lang),
            level=step.level,
            target=step.target,
            items=tuple(
                SavedItem(
                    title=pick(item.module.title, lang),
                    status=pick(item.status_label, lang),
                    done=item.status == "done",
                    due=item.due_date.isoformat() if isinstance(item.due_date, date) else "",
                )
                for item in step.items
            ),
        )
        for step in plan.steps
        if step.items
    )
    return SavedPlan(
        title=pick(plan.title, lang),
        steps=steps,
        done=plan.totals.done,
        total=plan.totals.items,
    )


def review_document(
    result: ResultView,
    rubric: Rubric,
    lang: str,
    *,
    ratee_id: int,
    plan: PlanView | None = None,
) -> Document:
    """The ratee's report: self vs Others, what was withheld and why, blind spots and hidden
    strengths, comments as released, and the development plan (saved, else suggested)."""
    check_lang(lang)
    cycle, person = result.cycle, result.ratee
    role_name = pick(cycle.role_name, lang)
    title = pick(
        {"zh": f"360 度评估报告：{person.name}", "en": f"360° review report: {person.name}"}, lang
    )
    others_word = pick({"zh": "他评", "en": "Others"}, lang)
    self_word = pick({"zh": "自评", "en": "Self"}, lang)
    chart = charts.paired_bars(
        [
            charts.PairRow(pick(c.name, lang), c.others, c.self_level, c.target)
            for c in result.competencies
        ],
        scale_min=result.scale_min,
        scale_max=result.scale_max,
        first_label=others_word,
        second_label=self_word,
        lang=lang,
        title=pick({"zh": "各项能力：他评与自评", "en": "Competencies: others and self"}, lang),
    )
    names = {c.id: pick(c.name, lang) for c in result.competencies}
    shown = groups_shown(result)
    level_names = {level.value: pick(level.name, lang) for level in result.scale}
    flagged = [c for c in result.competencies if c.blind_spot or c.hidden_strength]
    suggested: PlanSection | None = None
    if plan is None:
        suggested = plan_section(
            rubric,
            rubric.role(cycle.role_id),
            {c.id: c.others for c in result.competencies},
            lang,
        )
    overall = result.overall
    context = {
        "lang": lang,
        "title": title,
        "subtitle": cycle.name,
        "facts": [
            (pick({"zh": "被评估人", "en": "Person reviewed"}, lang), person.name),
            (pick({"zh": "团队", "en": "Team"}, lang), cycle.team_name),
            (pick({"zh": "岗位画像", "en": "Role profile"}, lang), role_name),
            (pick({"zh": "评估周期", "en": "Review cycle"}, lang), cycle.name),
            (pick({"zh": "结果发布于", "en": "Released"}, lang), day(cycle.closed_at)),
            (
                pick({"zh": "能力模型版本", "en": "Rubric version"}, lang),
                result.rubric_version[:12],
            ),
        ],
        "overall_others": overall.others,
        "overall_self": overall.self_level,
        "overall_target": overall.target,
        "blind_spot_count": len(result.blind_spots),
        "hidden_strength_count": len(result.hidden_strengths),
        "chart": chart,
        "group_names": [GROUP_NAMES[g][lang] for g in shown],
        "rows": [_row(c, lang, shown, level_names) for c in result.competencies],
        "withheld": [
            Withheld(
                group=pick(w.group_label, lang),
                message=pick(w.message, lang),
                competencies=tuple(names.get(c, c) for c in w.competencies),
            )
            for w in result.withheld
        ],
        "blind_spots": [_row(c, lang, shown, level_names) for c in flagged if c.blind_spot],
        "hidden_strengths": [
            _row(c, lang, shown, level_names) for c in flagged if c.hidden_strength
        ],
        "blind_spot_threshold": result.blind_spot_threshold,
        "hidden_strength_threshold": result.hidden_strength_threshold,
        "comments": [
            CommentGroup(
                competency=pick(c.name, lang),
                comments=tuple((pick(k.group_label, lang), k.text) for k in c.comments),
            )
            for c in result.competencies
            if c.comments
        ],
        # The reader is the person reviewed: plain words, the statistic only in a method note.
        "agreement": pick(agreement_in_words(result.agreement), lang),
        "agreement_method": pick(agreement_method(result.agreement), lang),
        "saved_plan": None if plan is None else saved_plan(plan, lang),
        "plan": suggested,
    }
    return Document(
        template="reports/review.html",
        context=context,
        title=title,
        lang=lang,
        filename=filename(f"review-report-{ratee_id}", person.name),
    )
