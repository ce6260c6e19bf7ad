"""Released 360 results, the team heat map and a person's trend, with their charts.

Everything here is read from the anonymised aggregates the review service releases: no
page names who gave which rating. Charts are inline SVG; a table beside each carries the
same numbers.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep, SettingsDep, WebStaff
from app.errors import NotFound
from app.privacy import audit
from app.reports import charts
from app.reviews import service as review_service
from app.reviews.presenting import agreement_in_words, agreement_method
from app.reviews.views import PersonTrend, ResultView
from app.rubrics import service as rubric_service
from app.web.reviews_shared import Msg, page, pick
from app.web.reviews_teams import managed_team
from app.web.templating import language

router = APIRouter(include_in_schema=False)

OTHERS: Msg = ("他评", "Others")
SELF: Msg = ("自评", "Self")
CHART_TITLE: Msg = ("各项能力：自评、他评与目标", "Competencies: self, others and target")
WIDE, NARROW = 760, 340


def _on_scale(value: float | None, low: int, high: int) -> float | None:
    return None if value is None else min(max(value, low), high)


def result_charts(request: Request, result: ResultView) -> dict[str, str]:
    """Self vs Others vs target, one row per competency: a wide and a phone-sized drawing."""
    lang = language(request)
    low, high = result.scale_min, result.scale_max
    rows = [
        charts.PairRow(
            label=c.name.get(lang) or c.name.get("en", c.id),
            first=_on_scale(c.others, low, high),
            second=_on_scale(c.self_level, low, high),
            target=_on_scale(c.target, low, high),
        )
        for c in result.competencies
    ]
    drawn = {}
    for key, width in (("wide", WIDE), ("narrow", NARROW)):
        drawn[key] = charts.paired_bars(
            rows,
            scale_min=low,
            scale_max=high,
            first_label=pick(request, OTHERS),
            second_label=pick(request, SELF),
            width=width,
            lang=lang,
            title=pick(request, CHART_TITLE),
        )
    return drawn


def groups_shown(result: ResultView) -> list[str]:
    """Self, manager and peers always; direct reports only when the ratee has any."""
    reports = any(
        cell.group == "report" and (cell.level is not None or cell.withheld is not None)
        for competency in result.competencies
        for cell in competency.groups
    )
    return ["self", "manager", "peer", *(["report"] if reports else [])]


@router.get("/staff/cycles/{cycle_id:rowid}/results/{user_id:rowid}", response_class=HTMLResponse)
def result_page(
    request: Request, cycle_id: int, user_id: int, session: SessionDep, staff: WebStaff
) -> HTMLResponse:
    result = review_service.get_result(session, staff.user, cycle_id, user_id)
    audit.review_event(session, staff.user, "review.result_viewed", cycle_id, user_id, via="page")
    return page(
        request,
        staff,
        "result.html",
        {
            "result": result,
            "own": result.ratee.user_id == staff.id,
            "charts": result_charts(request, result),
            "groups_shown": groups_shown(result),
            # The person reviewed reads plain words; staff see the statistic in the sentence.
            "agreement_words": agreement_in_words(result.agreement),
            "agreement_method": agreement_method(result.agreement),
        },
    )


# ── the team heat map ───────────────────────────────────────────────────────────────────


@router.get("/staff/teams/{team_id:rowid}/heatmap", response_class=HTMLResponse)
def heat_map_page(
    request: Request,
    team_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    cycle_id: str = "",
) -> HTMLResponse:
    team = managed_team(session, staff, team_id, settings)
    chosen = None
    if cycle_id:
        if not (cycle_id.isascii() and cycle_id.isdigit() and len(cycle_id) < 10):
            raise NotFound("no released review cycle of this team with this id")
        chosen = int(cycle_id)
    heat = review_service.team_heat_map(session, staff.user, team.id, chosen)
    released = [
        c
        for c in review_service.list_cycles(session, staff.user, team_id=team.id)
        if c.status == review_service.CycleStatus.RELEASED.value
    ]
    lang = language(request)
    drawing = None
    if heat.rows:
        drawing = charts.heat_map(
            [row.ratee.name for row in heat.rows],
            [c.name.get(lang) or c.id for c in heat.competencies],
            [
                [charts.HeatCell(cell.others, cell.target) for cell in row.cells]
                for row in heat.rows
            ],
            lang=lang,
        )
    return page(
        request,
        staff,
        "heatmap.html",
        {"team": team, "heat": heat, "released": released, "drawing": drawing},
    )


# ── a person's trend ────────────────────────────────────────────────────────────────────


def _bounds(trend: PersonTrend, scales: list[tuple[int, int]]) -> tuple[int, int]:
    """The loaded rubrics' scale, widened to hold every point (a retired rubric's too)."""
    low = min((s[0] for s in scales), default=1)
    high = max((s[1] for s in scales), default=5)
    for competency in trend.competencies:
        for point in competency.points:
            low = min(low, math.floor(point.level))
            high = max(high, math.ceil(point.level))
            if point.target is not None:
                low, high = min(low, math.floor(point.target)), max(high, math.ceil(point.target))
    return low, high


@router.get("/staff/people/{user_id:rowid}/trend", response_class=HTMLResponse)
def trend_page(
    request: Request, user_id: int, session: SessionDep, settings: SettingsDep, staff: WebStaff
) -> HTMLResponse:
    trend = review_service.person_trend(session, staff.user, user_id)
    lang = language(request)
    scales = [
        (loaded.rubric.scale.minimum, loaded.rubric.scale.maximum)
        for loaded in rubric_service.current_rubrics(settings.rubrics_dir).values()
    ]
    low, high = _bounds(trend, scales)
    drawings: dict[str, Any] = {}
    for competency in trend.competencies:
        latest = competency.points[-1] if competency.points else None
        drawings[competency.id] = charts.trend_line(
            [
                charts.TrendPoint(label=p.at.strftime("%Y-%m-%d"), level=p.level)
                for p in competency.points
            ],
            scale_min=low,
            scale_max=high,
            target=latest.target if latest else None,
            width=420,
            height=180,
            lang=lang,
            title=competency.name.get(lang) or competency.id,
        )
    return page(
        request,
        staff,
        "trend.html",
        {"trend": trend, "drawings": drawings, "own": trend.person.user_id == staff.id},
    )
