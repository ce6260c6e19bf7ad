"""HR's result page for one assessment, and rater agreement per hiring campaign."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.assessments import campaigns
from app.assessments import service as assessment_service
from app.assessments.views import ResultView
from app.deps import SessionDep, SettingsDep, WebHr
from app.privacy import audit
from app.reports.charts import BarRow, RadarAxis, level_bars, radar_chart
from app.rubrics import service as rubric_service
from app.web.staff_shared import page
from app.web.templating import language

router = APIRouter(include_in_schema=False)

# A radar needs 3–12 spokes; outside that the competencies are drawn as bars.
RADAR_AXES = range(3, 13)
# Width of the charts shown on phones, where a scaled-down wide chart has unreadable labels.
NARROW = 340


def _text(text: dict[str, str] | None, lang: str) -> str:
    return (text or {}).get(lang, "")


def _charts(result: ResultView, lang: str) -> dict[str, str]:
    """Inline SVG, wide and phone-sized; the chart functions escape every label themselves."""
    low, high = result.scale_min, result.scale_max
    competencies = [(_text(c.name, lang), c.level, c.target) for c in result.competencies]
    dimensions = [BarRow(_text(d.name, lang), d.level, d.target) for d in result.dimensions]
    bars = [BarRow(*c) for c in competencies]
    if len(competencies) in RADAR_AXES:
        axes = [RadarAxis(*c) for c in competencies]
        wide = radar_chart(axes, scale_min=low, scale_max=high, lang=lang)
    else:
        wide = level_bars(bars, scale_min=low, scale_max=high, lang=lang)
    return {
        "competencies": wide,
        "competencies_narrow": level_bars(
            bars, scale_min=low, scale_max=high, lang=lang, width=NARROW
        ),
        "dimensions": level_bars(dimensions, scale_min=low, scale_max=high, lang=lang),
        "dimensions_narrow": level_bars(
            dimensions, scale_min=low, scale_max=high, lang=lang, width=NARROW
        ),
    }


@router.get("/staff/assessments/{assessment_id:int}/result", response_class=HTMLResponse)
def result_page(
    request: Request, assessment_id: int, session: SessionDep, staff: WebHr
) -> HTMLResponse:
    result = assessment_service.get_result_view(session, staff.user, assessment_id)
    audit.assessment_event(
        session, staff.user, "assessment.result_viewed", assessment_id, via="page"
    )
    lang = language(request)
    prompts = {
        item.item_id: item.prompt for competency in result.competencies for item in competency.items
    }
    return page(
        request,
        staff,
        "result.html",
        {"result": result, "charts": _charts(result, lang), "prompts": prompts},
    )


@router.get("/staff/campaigns", response_class=HTMLResponse)
def campaigns_page(
    request: Request, session: SessionDep, settings: SettingsDep, staff: WebHr
) -> HTMLResponse:
    """Every role of the loaded rubrics, and any older campaign that still has assessments."""
    keys = [
        (rubric_id, role.id)
        for rubric_id, loaded in sorted(
            rubric_service.current_rubrics(settings.rubrics_dir).items()
        )
        for role in loaded.rubric.roles
    ]
    older = assessment_service.assessed_roles(session, staff.user)
    keys += [key for key in older if key not in keys]
    found = [
        campaigns.get_agreement(session, staff.user, rubric_id, role_id, settings)
        for rubric_id, role_id in keys
    ]
    return page(request, staff, "campaigns.html", {"campaigns": found})
