"""The team report for its lead: heat map of members × competencies, team means against the
target, and development-plan completion.

Pure: the review service's heat map and team, the plans service's team progress (or None)
and the cycle's pinned rubric in; a `Document` out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from app.plans.views import TeamView as PlanTeam
from app.reports import charts
from app.reports.documents import Document, check_lang, day, filename, pick
from app.reviews.views import HeatMap
from app.reviews.views import TeamView as ReviewTeam
from app.rubrics.spec import Rubric


@dataclass(frozen=True)
class Average:
    name: str
    mean: float | None
    target: float
    # Members whose Others level could be shown for this competency.
    count: int
    below: int


@dataclass(frozen=True)
class MemberPlans:
    name: str
    plans: int
    items: int
    done: int
    overdue: int
    completion: float | None


def averages(heat: HeatMap, lang: str) -> list[Average]:
    """Per competency, the plain mean of the members' Others levels (members without a shown
    level are left out and counted), and how many members are below target."""
    found = []
    for column, head in enumerate(heat.competencies):
        cells = [row.cells[column] for row in heat.rows]
        levels = [c.others for c in cells if c.others is not None]
        found.append(
            Average(
                name=pick(head.name, lang),
                mean=math.fsum(levels) / len(levels) if levels else None,
                target=head.target,
                count=len(levels),
                below=sum(1 for c in cells if c.state == "below"),
            )
        )
    return found


def member_plans(progress: PlanTeam, lang: str) -> list[MemberPlans]:
    rows = []
    for member in progress.members:
        items = sum(p.totals.items for p in member.plans)
        done = sum(p.totals.done for p in member.plans)
        rows.append(
            MemberPlans(
                name=member.person.name,
                plans=len(member.plans),
                items=items,
                done=done,
                overdue=sum(p.totals.overdue for p in member.plans),
                completion=done / items if items else None,
            )
        )
    return rows


def team_document(
    team: ReviewTeam,
    heat: HeatMap,
    rubric: Rubric | None,
    progress: PlanTeam | None,
    lang: str,
    *,
    on: date,
) -> Document:
    """`rubric` is the released cycle's (None when the team has none yet); `on` is the day
    plan completion and overdue items are counted for."""
    check_lang(lang)
    title = pick({"zh": f"团队能力报告：{team.name}", "en": f"Team report: {team.name}"}, lang)
    cycle = heat.cycle
    heat_svg = bars_svg = ""
    found = averages(heat, lang)
    if cycle is not None and rubric is not None and heat.rows:
        heat_svg = charts.heat_map(
            [row.ratee.name for row in heat.rows],
            [pick(head.name, lang) for head in heat.competencies],
            [
                [charts.HeatCell(cell.others, cell.target) for cell in row.cells]
                for row in heat.rows
            ],
            lang=lang,
        )
        bars_svg = charts.level_bars(
            [charts.BarRow(a.name, a.mean, a.target) for a in found],
            scale_min=rubric.scale.minimum,
            scale_max=rubric.scale.maximum,
            lang=lang,
            title=pick({"zh": "团队平均水平与目标", "en": "Team means and targets"}, lang),
            # The chart's legend would call the bar "level"; the caption says it is the mean.
            legend=False,
        )
    facts = [
        (pick({"zh": "团队", "en": "Team"}, lang), team.name),
        (pick({"zh": "负责人", "en": "Lead"}, lang), team.lead.name),
        (pick({"zh": "成员人数", "en": "Members"}, lang), str(len(team.members))),
        (
            pick({"zh": "评估周期", "en": "Review cycle"}, lang),
            cycle.name
            if cycle
            else pick({"zh": "尚无已发布的周期", "en": "none released yet"}, lang),
        ),
    ]
    if cycle is not None:
        facts.append((pick({"zh": "结果发布于", "en": "Released"}, lang), day(cycle.closed_at)))
    facts.append(
        (pick({"zh": "计划进度统计日", "en": "Plan progress as of"}, lang), on.isoformat())
    )
    plans = member_plans(progress, lang) if progress is not None else []
    totals = progress.totals if progress is not None else None
    context = {
        "lang": lang,
        "title": title,
        "subtitle": pick(cycle.role_name, lang) if cycle else "",
        "facts": facts,
        "has_cycle": cycle is not None and bool(heat.rows),
        "member_count": len(heat.rows),
        "heat_map": heat_svg,
        "average_bars": bars_svg,
        "averages": found,
        "plans": plans,
        "plan_items": totals.items if totals else 0,
        "plan_done": totals.done if totals else 0,
        "plan_overdue": totals.overdue if totals else 0,
        "plan_completion": totals.completion if totals and totals.items else None,
        "has_plans": any(row.plans for row in plans),
        "below_target": [
            (pick(c.name, lang), c.count) for c in (progress.below_target if progress else ())
        ],
    }
    return Document(
        template="reports/team.html",
        context=context,
        title=title,
        lang=lang,
        filename=filename(f"team-report-{team.id}", team.name),
    )
