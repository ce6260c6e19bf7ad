"""Reshape a stored, released result (ReviewResult.to_dict()) into the views pages render.

Pure: rubric data and a stored dict in, frozen views out. The words for blind spots, hidden
strengths and rater agreement live here: with the statistic for staff, plain for the person
reviewed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.reviews import views
from app.reviews.aggregation import GROUPS
from app.reviews.common import group_label, t
from app.rubrics.spec import Rubric, Text
from app.stats.agreement import LOW_AGREEMENT


def nearest_level(level: float, low: int, high: int) -> int:
    """Round half up (3.5 → 4) and keep it on the scale."""
    return min(max(math.floor(level + 0.5), low), high)


def explanation(
    self_level: float | None, others: float | None, blind_spot: bool, hidden_strength: bool
) -> Text | None:
    """Only the figures (one decimal) behind a blind spot or hidden strength: what each means
    is said once where the list starts, so it is not repeated for every competency."""
    if self_level is None or others is None or not (blind_spot or hidden_strength):
        return None
    gap = abs(self_level - others)
    s, o, d = f"{self_level:.1f}", f"{others:.1f}", f"{gap:.1f}"
    if blind_spot:
        return t(f"自评 {s}，他评 {o}：自评高出 {d}", f"Self {s}, others {o}: self {d} higher")
    return t(f"自评 {s}，他评 {o}：他评高出 {d}", f"Self {s}, others {o}: others {d} higher")


def agreement_view(raw: Mapping[str, Any]) -> views.AgreementView:
    """The agreement with its statistic in the message, for staff pages; the person reviewed
    gets `agreement_in_words` and, apart from it, `agreement_method`."""
    interval = raw.get("interval")
    low = bool(raw.get("low", False))
    units = int(raw.get("pairable_units", 0))
    if interval is None:
        message = t(
            f"数据不足，无法计算评分一致性（可配对单元 {units} 个）："
            "需要至少两位他评人且评分有差异。",
            f"Not enough data for an agreement statistic ({units} pairable units): it needs "
            "two or more non-self ratings with some variation.",
        )
    elif low:
        message = t(
            f"评分一致性偏低（α = {interval:.3f} < {LOW_AGREEMENT}）：评分人的看法差异较大，"
            "请谨慎解读这些等级。",
            f"Low agreement (α = {interval:.3f} < {LOW_AGREEMENT}): the raters see this quite "
            "differently; read the levels with care.",
        )
    else:
        message = t(
            f"评分一致性可接受（α = {interval:.3f}）。",
            f"Acceptable agreement (α = {interval:.3f}).",
        )
    return views.AgreementView(
        interval=interval,
        ordinal=raw.get("ordinal"),
        low=low,
        pairable_units=units,
        pairable_values=int(raw.get("pairable_values", 0)),
        threshold=LOW_AGREEMENT,
        message=message,
    )


def agreement_in_words(agreement: views.AgreementView) -> Text:
    """How far the raters agree, for the person reviewed: plain words, no statistic.

    Alpha is undefined either when no competency has two others' ratings (too few raters) or
    when every rating is the same (no spread to compare); the two read differently.
    """
    if agreement.interval is None:
        if agreement.pairable_units == 0:
            return t(
                "给你评分的他人太少，还无法判断他们的看法是否一致。",
                "Too few colleagues rated you to say how much they agree.",
            )
        return t(
            "他评人给出的等级完全相同，无从比较看法的差异。",
            "Your raters all gave the same levels, so there is no difference of view to weigh.",
        )
    if agreement.low:
        return t(
            "评分人之间的看法差异较大，请结合具体事例解读这些等级。",
            "Your raters see you quite differently from one another; read these levels "
            "together with examples.",
        )
    return t("评分人之间的看法大体一致。", "Your raters broadly agree with one another.")


def agreement_method(agreement: views.AgreementView) -> Text:
    """The statistic behind `agreement_in_words`, for a method note: alpha to two decimals."""
    if agreement.interval is None:
        return t(
            "Krippendorff α 无法计算：同一能力上需要至少两个有差异的他评。",
            "Krippendorff's α is undefined: it needs two or more others' ratings of a "
            "competency, with some variation.",
        )
    threshold = f"{agreement.threshold:g}"
    return t(
        f"Krippendorff α = {agreement.interval:.2f}（基于他评，不含自评；低于 {threshold} "
        "视为看法差异较大）。",
        f"Krippendorff's α = {agreement.interval:.2f} (over the others' ratings, self left "
        f"out; below {threshold} counts as low agreement).",
    )


def _withheld(group: str, raw: Mapping[str, Any]) -> views.WithheldView:
    return views.WithheldView(
        group=group,
        group_label=group_label(group),
        reason=str(raw.get("reason", "")),
        needed=int(raw.get("needed", 0)),
        competencies=tuple(raw.get("competencies", ())),
        message=dict(raw.get("message", {})),
    )


def _rollup(id_: str, name: Text, raw: Mapping[str, Any]) -> views.RollupView:
    return views.RollupView(
        id=id_,
        name=name,
        others=raw.get("others"),
        target=raw.get("target"),
        gap=raw.get("gap"),
        self_level=raw.get("self"),
    )


def _competency(
    rubric: Rubric, dimension_id: str, competency_id: str, entry: Mapping[str, Any]
) -> views.CompetencyResult:
    competency = rubric.competency(competency_id)
    dimension = next(d for d in rubric.dimensions if d.id == dimension_id)
    withheld = {g: _withheld(g, w) for g, w in entry.get("withheld", {}).items()}
    groups = []
    for group in GROUPS:
        shown = entry.get("groups", {}).get(group.value)
        groups.append(
            views.GroupCell(
                group=group.value,
                group_label=group_label(group.value),
                level=shown["level"] if shown else None,
                count=shown["count"] if shown else None,
                withheld=withheld.get(group.value),
            )
        )
    self_level = groups[0].level
    others = entry.get("others")
    anchor_level = (
        None
        if others is None
        else nearest_level(others, rubric.scale.minimum, rubric.scale.maximum)
    )
    return views.CompetencyResult(
        id=competency_id,
        name=dict(competency.name),
        dimension_id=dimension_id,
        dimension_name=dict(dimension.name),
        target=float(entry.get("target", 0.0)),
        weight=float(entry.get("weight", 0.0)),
        groups=tuple(groups),
        self_level=self_level,
        others=others,
        gap=entry.get("gap"),
        self_minus_others=entry.get("self_minus_others"),
        blind_spot=bool(entry.get("blind_spot")),
        hidden_strength=bool(entry.get("hidden_strength")),
        explanation=explanation(
            self_level, others, bool(entry.get("blind_spot")), bool(entry.get("hidden_strength"))
        ),
        anchor_level=anchor_level,
        anchor=None if anchor_level is None else dict(competency.anchors[anchor_level]),
        comments=tuple(
            views.CommentView(c["group"], group_label(c["group"]), c["text"])
            for c in entry.get("comments", [])
        ),
    )


def build_result(
    rubric: Rubric,
    data: Mapping[str, Any],
    cycle: views.CycleBrief,
    ratee: views.PersonBrief,
    computed_at: datetime,
) -> views.ResultView:
    stored: Mapping[str, Mapping[str, Any]] = data.get("competencies", {})
    competencies = tuple(
        _competency(rubric, dimension.id, competency.id, stored[competency.id])
        for dimension, competency in rubric.competencies()
        if competency.id in stored
    )
    shown_dimensions = {c.dimension_id for c in competencies}
    dimensions = tuple(
        _rollup(d.id, dict(d.name), data.get("dimensions", {}).get(d.id, {}))
        for d in rubric.dimensions
        if d.id in shown_dimensions
    )
    policy = data.get("policy", {})
    return views.ResultView(
        cycle=cycle,
        ratee=ratee,
        rubric_version=str(data.get("rubric_version", cycle.rubric_version)),
        scale=tuple(
            views.ScaleLevelView(level.value, dict(level.name), dict(level.description))
            for level in sorted(rubric.scale.levels, key=lambda level: level.value)
        ),
        scale_min=rubric.scale.minimum,
        scale_max=rubric.scale.maximum,
        competencies=competencies,
        dimensions=dimensions,
        overall=_rollup("overall", t("总体", "Overall"), data.get("overall", {})),
        withheld=tuple(_withheld(g, w) for g, w in data.get("withheld", {}).items()),
        agreement=agreement_view(data.get("agreement", {})),
        blind_spots=tuple(c.id for c in competencies if c.blind_spot),
        hidden_strengths=tuple(c.id for c in competencies if c.hidden_strength),
        blind_spot_threshold=float(policy.get("blind_spot_threshold", 1.0)),
        hidden_strength_threshold=float(policy.get("hidden_strength_threshold", 1.0)),
        computed_at=computed_at,
    )


def summary(ratee: views.PersonBrief, data: Mapping[str, Any]) -> views.ResultSummary:
    overall = data.get("overall", {})
    competencies = data.get("competencies", {}).values()
    return views.ResultSummary(
        ratee=ratee,
        overall_others=overall.get("others"),
        overall_target=overall.get("target"),
        overall_gap=overall.get("gap"),
        overall_self=overall.get("self"),
        blind_spots=sum(bool(c.get("blind_spot")) for c in competencies),
        hidden_strengths=sum(bool(c.get("hidden_strength")) for c in competencies),
        withheld_groups=tuple(data.get("withheld", {})),
    )


def heat_cells(
    heads: tuple[views.CompetencyHead, ...], data: Mapping[str, Any]
) -> tuple[views.HeatCell, ...]:
    stored = data.get("competencies", {})
    cells = []
    for head in heads:
        entry = stored.get(head.id, {})
        others, gap = entry.get("others"), entry.get("gap")
        state: views.HeatState = (
            "not_assessed"
            if others is None
            else ("below" if gap is not None and round(gap, 9) > 0 else "meets")
        )
        cells.append(
            views.HeatCell(
                competency_id=head.id,
                others=others,
                target=float(entry.get("target", head.target)),
                gap=gap,
                state=state,
            )
        )
    return tuple(cells)
