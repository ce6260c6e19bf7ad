"""Read models for the staff pages and API: frozen dataclasses a template renders as they are.

The service fills them with a fixed number of queries; the `build_*` functions here only
reshape rubric data and a stored result, so they never touch the database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Re-exported: callers of this module name roles and bands through it.
from app.rubrics.labels import band_label as band_label
from app.rubrics.labels import role_name as role_name
from app.rubrics.labels import t as t
from app.rubrics.spec import Item, RoleProfile, Rubric, Text

STATUS_LABELS: Mapping[str, Text] = {
    "invited": {"zh": "已邀请", "en": "Invited"},
    "in_progress": {"zh": "作答中", "en": "In progress"},
    "submitted": {"zh": "已提交", "en": "Submitted"},
    "scored": {"zh": "已评分", "en": "Scored"},
    "expired": {"zh": "已过期", "en": "Expired"},
    "revoked": {"zh": "已撤回", "en": "Revoked"},
}


# ── candidates and assessments ──────────────────────────────────────────────────────────


@dataclass(frozen=True)
class CandidateView:
    id: int
    name: str
    email: str
    note: str
    created_at: datetime
    anonymised: bool


@dataclass(frozen=True)
class AssessmentBrief:
    """One assessment of a candidate, as the candidate page lists it (no scores)."""

    id: int
    rubric_id: str
    role_id: str
    role_name: Text
    status: str
    created_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True)
class CandidateDetail:
    candidate: CandidateView
    assessments: tuple[AssessmentBrief, ...]


@dataclass(frozen=True)
class RaterView:
    user_id: int
    name: str
    email: str
    role: str
    active: bool
    adjudicator: bool
    assigned_at: datetime
    # How many of this assessment's work samples the rater has rated so far.
    ratings_given: int


@dataclass(frozen=True)
class ResultSummary:
    final: bool
    overall_level: float | None
    fit: float | None
    recommendation: str | None
    recommendation_label: Text | None
    computed_at: datetime


@dataclass(frozen=True)
class AssessmentView:
    """One assessment. Raters get it blind: no candidate, no other raters, no result."""

    id: int
    rubric_id: str
    rubric_version: str
    role_id: str
    role_name: Text
    status: str
    item_count: int
    time_limit_minutes: int | None
    link_expires_at: datetime | None
    # Whether the current invite link would still open the assessment.
    link_active: bool
    # Whether HR may send the candidate the feedback report.
    candidate_feedback: bool
    token_issued_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    deadline_at: datetime | None
    submitted_at: datetime | None
    scored_at: datetime | None
    revoked_at: datetime | None
    candidate: CandidateView | None
    raters: tuple[RaterView, ...]
    result: ResultSummary | None


@dataclass(frozen=True)
class AssessmentRow:
    """One line of HR's candidate list (and of its CSV/XLSX export)."""

    id: int
    candidate_id: int
    candidate_name: str
    candidate_email: str
    rubric_id: str
    role_id: str
    role_name: Text
    status: str
    overall_level: float | None
    fit: float | None
    recommendation: str | None
    recommendation_label: Text | None
    # None while there is no result yet; False while it is provisional.
    final: bool | None
    created_at: datetime
    submitted_at: datetime | None


@dataclass(frozen=True)
class AssessmentPage:
    """One page of HR's candidate list; `total` counts the rows of every page."""

    rows: tuple[AssessmentRow, ...]
    total: int
    page: int  # 1-based
    size: int

    @property
    def pages(self) -> int:
        """How many pages the list has (one, empty, when nothing matches)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def first_number(self) -> int:
        """The position in the whole list of this page's first row (1-based)."""
        return (self.page - 1) * self.size + 1


@dataclass(frozen=True)
class StatusCounts:
    """The staff home's figures: assessments by status, and results still provisional."""

    by_status: Mapping[str, int]
    provisional: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


# ── rating ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class QueueEntry:
    """A work sample waiting for this rater; blind, so it names no candidate."""

    assessment_id: int
    item_id: str
    role_name: Text
    competency_id: str
    competency_name: Text
    prompt: Text
    submitted_at: datetime | None
    adjudication: bool


@dataclass(frozen=True)
class LevelChoice:
    id: str
    descriptor: Text


@dataclass(frozen=True)
class CriterionView:
    id: str
    name: Text
    # Weakest first, as the rubric orders them.
    levels: tuple[LevelChoice, ...]


@dataclass(frozen=True)
class AnchorView:
    level: int
    level_name: Text
    text: Text


@dataclass(frozen=True)
class OwnRating:
    criteria: Mapping[str, str]
    note: str
    adjudication: bool
    rated_at: datetime


@dataclass(frozen=True)
class RatingTask:
    """What a rater sees: the task, the scale and the answer; never a score or other raters."""

    assessment_id: int
    item_id: str
    role_name: Text
    competency_id: str
    competency_name: Text
    anchors: tuple[AnchorView, ...]
    prompt: Text
    criteria: tuple[CriterionView, ...]
    answer_text: str
    adjudication: bool
    own_rating: OwnRating | None


def criteria_of(item: Item) -> tuple[CriterionView, ...]:
    return tuple(
        CriterionView(
            id=c.id,
            name=dict(c.name),
            levels=tuple(LevelChoice(level.id, dict(level.descriptor)) for level in c.levels),
        )
        for c in item.criteria
    )


def anchors_of(rubric: Rubric, competency_id: str) -> tuple[AnchorView, ...]:
    competency = rubric.competency_index()[competency_id]
    return tuple(
        AnchorView(level.value, dict(level.name), dict(competency.anchors[level.value]))
        for level in sorted(rubric.scale.levels, key=lambda lv: lv.value)
    )


# ── results ─────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class CriterionLevelView:
    criterion_id: str
    criterion_name: Text
    level_id: str
    descriptor: Text


@dataclass(frozen=True)
class RatingTrace:
    rater_id: int | None
    rater_name: str
    raw: float
    adjudication: bool
    levels: tuple[CriterionLevelView, ...]


@dataclass(frozen=True)
class ItemTraceView:
    item_id: str
    prompt: Text
    type: str
    weight: float
    raw: float | None
    max_points: float
    fraction: float | None
    status: str
    selected: tuple[Text, ...]
    answer_text: str | None
    ratings: tuple[RatingTrace, ...]
    disagreements: tuple[str, ...]


@dataclass(frozen=True)
class CompetencyView:
    id: str
    name: Text
    dimension_id: str
    dimension_name: Text
    assessed: bool
    level: float | None
    target: float
    gap: float | None
    weight: float
    critical: bool
    tolerance: float
    provisional: bool
    fraction: float | None
    # The scale level nearest the observed level, and its behavioural anchor.
    anchor_level: int | None
    anchor: Text | None
    items: tuple[ItemTraceView, ...]


@dataclass(frozen=True)
class DimensionView:
    id: str
    name: Text
    level: float | None
    target: float | None


@dataclass(frozen=True)
class CriticalCap:
    competency_id: str
    name: Text
    gap: float
    tolerance: float


@dataclass(frozen=True)
class RecommendationView:
    band: str
    label: Text
    fit_band: str
    fit_band_label: Text
    fit_band_min: float
    fit_band_max: float
    # True when a critical gap pulled the label below the fit band.
    capped: bool
    caps: tuple[CriticalCap, ...]
    reason: Text


@dataclass(frozen=True)
class AreaGap:
    competency_id: str
    name: Text
    gap: float


@dataclass(frozen=True)
class AreaRisk:
    id: str
    name: Text
    focus: bool
    competencies: tuple[AreaGap, ...]


@dataclass(frozen=True)
class RaterNote:
    item_id: str
    prompt: Text
    rater_name: str
    adjudication: bool
    note: str
    rated_at: datetime


@dataclass(frozen=True)
class FlagView:
    code: str
    item_id: str | None
    competency_id: str | None
    detail: str
    message: Text


@dataclass(frozen=True)
class ResultView:
    assessment: AssessmentView
    rubric_version: str
    scale_min: int
    scale_max: int
    final: bool
    # Why the result is not final yet; empty when it is.
    provisional_reasons: tuple[Text, ...]
    overall_level: float | None
    overall_target: float | None
    fit: float | None
    recommendation: RecommendationView | None
    competencies: tuple[CompetencyView, ...]
    dimensions: tuple[DimensionView, ...]
    areas_at_risk: tuple[AreaRisk, ...]
    rater_notes: tuple[RaterNote, ...]
    flags: tuple[FlagView, ...]
    pending: tuple[str, ...]
    computed_at: datetime


@dataclass(frozen=True)
class StoredRating:
    """A Rating row reduced to what the result page needs."""

    item_id: str
    rater_id: int
    rater_name: str
    adjudication: bool
    note: str
    rated_at: datetime


@dataclass(frozen=True)
class ResultInputs:
    rubric: Rubric
    role_id: str
    data: Mapping[str, Any]
    answers: Mapping[str, str]
    ratings: Sequence[StoredRating]
    computed_at: datetime


def nearest_level(level: float, low: int, high: int) -> int:
    """Round half up (3.5 → 4) and keep it on the scale."""
    return min(max(math.floor(level + 0.5), low), high)


def _weighted(pairs: Sequence[tuple[float, float]]) -> float | None:
    total = sum(w for w, _ in pairs)
    return sum(w * v for w, v in pairs) / total if pairs and total > 0 else None


def build_result(inputs: ResultInputs, assessment: AssessmentView) -> ResultView:
    """Reshape a stored ScoreResult dict into the result page, with names and anchors."""
    rubric, data = inputs.rubric, inputs.data
    role = rubric.role(inputs.role_id)
    items = rubric.item_index()
    low, high = rubric.scale.minimum, rubric.scale.maximum
    names = {r.rater_id: r.rater_name for r in inputs.ratings}
    stored: Mapping[str, Mapping[str, Any]] = data.get("competencies", {})

    competencies: list[CompetencyView] = []
    for dimension, competency in rubric.competencies():
        entry = stored.get(competency.id, {})
        level = entry.get("level")
        anchor_level = None if level is None else nearest_level(level, low, high)
        target = role.targets[competency.id]
        competencies.append(
            CompetencyView(
                id=competency.id,
                name=dict(competency.name),
                dimension_id=dimension.id,
                dimension_name=dict(dimension.name),
                assessed=bool(entry.get("assessed", False)),
                level=level,
                target=entry.get("target", target.target),
                gap=entry.get("gap"),
                weight=entry.get("weight", target.weight),
                critical=bool(entry.get("critical", target.critical)),
                tolerance=entry.get("tolerance", target.tolerance),
                provisional=bool(entry.get("provisional", False)),
                fraction=entry.get("fraction"),
                anchor_level=anchor_level,
                anchor=None if anchor_level is None else dict(competency.anchors[anchor_level]),
                items=tuple(
                    _item_trace(trace, items[trace["item"]], inputs.answers, names)
                    for trace in entry.get("items", [])
                ),
            )
        )

    leveled = [c for c in competencies if c.level is not None]
    dimensions = tuple(
        _dimension(dimension.id, dict(dimension.name), competencies, data)
        for dimension in rubric.dimensions
    )
    recommendation = _recommendation(role, data, competencies)
    flags = tuple(_flag(f, rubric) for f in data.get("flags", []))
    final = bool(data.get("final", False))
    return ResultView(
        assessment=assessment,
        rubric_version=str(data.get("rubric_version", assessment.rubric_version)),
        scale_min=low,
        scale_max=high,
        final=final,
        provisional_reasons=() if final else _provisional_reasons(data),
        overall_level=data.get("overall_level"),
        overall_target=_weighted([(c.weight, c.target) for c in leveled]),
        fit=data.get("fit"),
        recommendation=recommendation,
        competencies=tuple(competencies),
        dimensions=dimensions,
        areas_at_risk=_areas_at_risk(rubric, role, competencies),
        rater_notes=tuple(
            RaterNote(
                item_id=r.item_id,
                prompt=dict(items[r.item_id].prompt) if r.item_id in items else {},
                rater_name=r.rater_name,
                adjudication=r.adjudication,
                note=r.note,
                rated_at=r.rated_at,
            )
            for r in inputs.ratings
            if r.note.strip()
        ),
        flags=flags,
        pending=tuple(data.get("pending", [])),
        computed_at=inputs.computed_at,
    )


def _rater_id(label: str) -> int | None:
    prefix, _, number = label.rpartition("-")
    return int(number) if prefix == "rater" and number.isdigit() else None


def _rating_trace(
    raw: Mapping[str, Any], item: Item, names: Mapping[int, str], adjudication: bool
) -> RatingTrace:
    label = str(raw.get("rater", ""))
    rater_id = _rater_id(label)
    criteria = {c.id: c for c in item.criteria}
    levels = []
    for criterion_id, level_id in dict(raw.get("levels", {})).items():
        criterion = criteria.get(criterion_id)
        level = (
            next((lv for lv in criterion.levels if lv.id == level_id), None) if criterion else None
        )
        levels.append(
            CriterionLevelView(
                criterion_id=criterion_id,
                criterion_name=dict(criterion.name) if criterion else t(criterion_id, criterion_id),
                level_id=level_id,
                descriptor=dict(level.descriptor) if level else t(level_id, level_id),
            )
        )
    return RatingTrace(
        rater_id=rater_id,
        rater_name=label if rater_id is None else names.get(rater_id, label),
        raw=float(raw.get("raw", 0.0)),
        adjudication=adjudication,
        levels=tuple(levels),
    )


def _item_trace(
    trace: Mapping[str, Any], item: Item, answers: Mapping[str, str], names: Mapping[int, str]
) -> ItemTraceView:
    options = {o.id: o for o in item.options}
    ratings = [_rating_trace(r, item, names, False) for r in trace.get("ratings", [])]
    if trace.get("adjudication"):
        ratings.append(_rating_trace(trace["adjudication"], item, names, True))
    return ItemTraceView(
        item_id=item.id,
        prompt=dict(item.prompt),
        type=str(trace.get("type", item.type.value)),
        weight=float(trace.get("weight", item.weight)),
        raw=trace.get("raw"),
        max_points=float(trace.get("max_points", item.maximum)),
        fraction=trace.get("fraction"),
        status=str(trace.get("status", "")),
        selected=tuple(
            dict(options[o].text) if o in options else t(o, o) for o in trace.get("selected", [])
        ),
        answer_text=None if item.is_choice else answers.get(item.id, ""),
        ratings=tuple(ratings),
        disagreements=tuple(trace.get("disagreements", [])),
    )


def _dimension(
    dimension_id: str, name: Text, competencies: Sequence[CompetencyView], data: Mapping[str, Any]
) -> DimensionView:
    """The dimension's target is the weighted mean of the targets its level is averaged over."""
    own = [c for c in competencies if c.dimension_id == dimension_id]
    leveled = [c for c in own if c.level is not None] or own
    level = data.get("dimensions", {}).get(dimension_id, {}).get("level")
    return DimensionView(
        id=dimension_id,
        name=name,
        level=level,
        target=_weighted([(c.weight, c.target) for c in leveled]),
    )


def _recommendation(
    role: RoleProfile, data: Mapping[str, Any], competencies: Sequence[CompetencyView]
) -> RecommendationView | None:
    stored = data.get("recommendation")
    fit = data.get("fit")
    if not stored or fit is None:
        return None
    bands = {b.id: b for b in role.bands}
    band, fit_band = bands[stored["band"]], bands[stored["fit_band"]]
    by_id = {c.id: c for c in competencies}
    caps = tuple(
        CriticalCap(cid, by_id[cid].name, by_id[cid].gap or 0.0, by_id[cid].tolerance)
        for cid in stored.get("capped_by", [])
        if cid in by_id
    )
    capped = band.id != fit_band.id
    zh = (
        f"匹配度 {fit:.2f} 落在“{fit_band.label.get('zh', fit_band.id)}”区间"
        f"（{fit_band.min:g}–{fit_band.max:g}）。"
    )
    en = (
        f"Fit {fit:.2f} falls in the band “{fit_band.label.get('en', fit_band.id)}” "
        f"({fit_band.min:g}–{fit_band.max:g})."
    )
    for cap in caps:
        gap, tol = f"{cap.gap:.1f}", f"{cap.tolerance:g}"
        if capped:
            zh += (
                f"关键能力“{cap.name.get('zh', cap.competency_id)}”低于目标 {gap}，超过容差 {tol}，"
                f"推荐封顶为“{band.label.get('zh', band.id)}”。"
            )
            en += (
                f" Critical competency “{cap.name.get('en', cap.competency_id)}” is {gap} below "
                f"target, more than its tolerance {tol}, which caps the recommendation at "
                f"“{band.label.get('en', band.id)}”."
            )
        else:
            zh += (
                f"关键能力“{cap.name.get('zh', cap.competency_id)}”低于目标 {gap}，超过容差 {tol}；"
                "该区间已不高于封顶等级。"
            )
            en += (
                f" Critical competency “{cap.name.get('en', cap.competency_id)}” is {gap} below "
                f"target, more than its tolerance {tol}; the band is already at or below the cap."
            )
    return RecommendationView(
        band=band.id,
        label=dict(band.label),
        fit_band=fit_band.id,
        fit_band_label=dict(fit_band.label),
        fit_band_min=fit_band.min,
        fit_band_max=fit_band.max,
        capped=capped,
        caps=caps,
        reason=t(zh, en),
    )


def _areas_at_risk(
    rubric: Rubric, role: RoleProfile, competencies: Sequence[CompetencyView]
) -> tuple[AreaRisk, ...]:
    """Areas with a mapped competency below target; the role's focus areas first."""
    by_id = {c.id: c for c in competencies}
    found = []
    for area in rubric.responsibility_areas:
        gaps = tuple(
            AreaGap(cid, by_id[cid].name, by_id[cid].gap or 0.0)
            for cid in area.competencies
            if cid in by_id and (by_id[cid].gap or 0.0) > 0
        )
        if gaps:
            found.append(AreaRisk(area.id, dict(area.name), area.id in role.focus_areas, gaps))
    return tuple(sorted(found, key=lambda a: not a.focus))


FLAG_MESSAGES: Mapping[str, Text] = {
    "needs_adjudication": t(
        "评分人分歧过大，需要仲裁", "Raters disagree too much; adjudication needed"
    ),
    "pending": t("等待评分", "Awaiting a rating"),
    "not_assessed": t("本次测评未覆盖该能力", "Not assessed by this assessment"),
    "critical_without_level": t(
        "关键能力尚无等级，无法检查封顶",
        "A critical competency has no level yet; the cap cannot be checked",
    ),
    "critical_gap": t("关键能力差距超过容差", "Critical gap above tolerance"),
}


def _flag(raw: Mapping[str, Any], rubric: Rubric) -> FlagView:
    code = str(raw.get("code", ""))
    message = dict(FLAG_MESSAGES.get(code, t(code, code)))
    competency = raw.get("competency")
    index = rubric.competency_index()
    if isinstance(competency, str) and competency in index:
        name = index[competency].name
        message = t(
            f"{name.get('zh', competency)}：{message['zh']}",
            f"{name.get('en', competency)}: {message['en']}",
        )
    return FlagView(
        code=code,
        item_id=raw.get("item"),
        competency_id=competency,
        detail=str(raw.get("detail", "")),
        message=message,
    )


def _provisional_reasons(data: Mapping[str, Any]) -> tuple[Text, ...]:
    flags = data.get("flags", [])
    pending = len([f for f in flags if f.get("code") == "pending" and f.get("item")])
    adjudication = len([f for f in flags if f.get("code") == "needs_adjudication"])
    reasons = []
    if pending:
        reasons.append(
            t(f"{pending} 道作品题尚待评分", f"{pending} work sample(s) still await a rating")
        )
    if adjudication:
        reasons.append(
            t(
                f"{adjudication} 道作品题的评分分歧超出允许范围，等待仲裁评分",
                f"{adjudication} work sample(s) await an adjudicator: "
                "the raters differ by more than the item allows",
            )
        )
    return tuple(reasons) or (t("结果尚未最终确定", "The result is not final yet"),)
