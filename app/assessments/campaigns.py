"""Rater agreement per hiring campaign (one role profile of one rubric), for HR.

Units are (assessment, work sample); each non-adjudicating rater contributes the share of
the item's maximum they awarded (Σ criterion points / m_i). Shares rather than raw points
keep items with different maxima on one scale, so no item dominates because it has more
criteria. Adjudications are left out: they exist because raters disagreed, and counting
them would hide exactly that disagreement. Krippendorff's alpha is computed at the interval
level over every unit with at least two ratings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.assessments import service as assessment_service
from app.assessments.models import Assessment, Rating
from app.assessments.views import role_name, t
from app.config import Settings
from app.errors import NotFound
from app.rubrics import service as rubric_service
from app.rubrics.spec import Item, Text
from app.stats.agreement import LOW_AGREEMENT, alpha


@dataclass(frozen=True)
class CampaignAgreement:
    rubric_id: str
    role_id: str
    role_name: Text
    assessments: int
    rated_items: int
    # Work samples rated by two or more raters: the units alpha is computed from.
    doubly_rated_items: int
    ratings: int
    # None when there is not enough data (no doubly-rated item, or no variation at all).
    alpha: float | None
    is_low: bool
    threshold: float
    message: Text


def _share(item: Item, criteria: dict[str, str]) -> float:
    points = {(c.id, level.id): level.points for c in item.criteria for level in c.levels}
    return sum(points[(c, level)] for c, level in criteria.items()) / item.maximum


def get_agreement(
    session: Session, actor: User, rubric_id: str, role_id: str, settings: Settings
) -> CampaignAgreement:
    """Krippendorff's alpha over the campaign's work-sample ratings (HR only)."""
    assessment_service.require_hr(actor)
    assessments = list(
        session.scalars(
            select(Assessment).where(
                Assessment.rubric_id == rubric_id, Assessment.role_id == role_id
            )
        )
    )
    current = rubric_service.current_rubrics(settings.rubrics_dir).get(rubric_id)
    if not assessments and (current is None or role_id not in {r.id for r in current.rubric.roles}):
        raise NotFound("no such campaign: no assessments for this rubric and role")

    versions = {a.id: a.rubric_version for a in assessments}
    rubrics = {v: rubric_service.get_version(session, v) for v in set(versions.values())}
    ratings = (
        session.scalars(
            select(Rating).where(
                Rating.assessment_id.in_(list(versions)), Rating.adjudication.is_(False)
            )
        ).all()
        if assessments
        else []
    )
    units: defaultdict[tuple[int, str], dict[int, float]] = defaultdict(dict)
    for rating in ratings:
        item = rubrics[versions[rating.assessment_id]].item_index().get(rating.item_id)
        if item is None or item.is_choice or item.maximum <= 0:
            continue
        units[(rating.assessment_id, rating.item_id)][rating.rater_id] = _share(
            item, dict(rating.criteria)
        )
    result = alpha(units, "interval")

    name_source = current.rubric if current else next(iter(rubrics.values()), None)
    return CampaignAgreement(
        rubric_id=rubric_id,
        role_id=role_id,
        role_name=role_name(name_source, role_id),
        assessments=len(assessments),
        rated_items=len(units),
        doubly_rated_items=result.pairable_units,
        ratings=sum(len(u) for u in units.values()),
        alpha=result.alpha,
        is_low=result.is_low,
        threshold=LOW_AGREEMENT,
        message=_message(result.alpha, result.is_low, result.pairable_units),
    )


def _message(value: float | None, low: bool, doubly: int) -> Text:
    if value is None:
        return t(
            "数据不足：需要至少一道由两位评分人评分且分数有差异的作品题"
            f"（现有 {doubly} 道双评题目）",
            f"Not enough data: alpha needs work samples rated by two raters with some variation "
            f"in the scores ({doubly} doubly-rated so far)",
        )
    if low:
        return t(
            f"评分一致性偏低（α = {value:.3f} < {LOW_AGREEMENT}）：请校准评分人后再依赖这些分数",
            f"Low agreement (α = {value:.3f} < {LOW_AGREEMENT}): calibrate the raters before "
            "relying on these scores",
        )
    return t(
        f"评分一致性可接受（α = {value:.3f}，基于 {doubly} 道双评题目）",
        f"Acceptable agreement (α = {value:.3f} over {doubly} doubly-rated work samples)",
    )
