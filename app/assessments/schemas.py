"""Pydantic models: the offline responses file of ARCHITECTURE §3, and the staff API.

Inputs refuse unknown fields; outputs are read from the dataclasses of `views`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.assessments.scoring import ChoiceResponse, Rating, Response, WorkSampleResponse
from app.ids import Id


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RatingIn(Strict):
    rater: str = Field(min_length=1)
    criteria: dict[str, str]

    def to_rating(self) -> Rating:
        return Rating(rater=self.rater, criteria=dict(self.criteria))


class ChoiceIn(Strict):
    selected: list[str]


class WorkSampleIn(Strict):
    ratings: list[RatingIn] = []
    adjudication: RatingIn | None = None
    awaiting: list[str] = []


class ResponsesFileIn(Strict):
    items: list[str] | None = None
    responses: dict[str, ChoiceIn | WorkSampleIn] = {}

    def drawn_items(self) -> list[str]:
        return list(self.items) if self.items is not None else list(self.responses)

    def to_responses(self) -> dict[str, Response]:
        converted: dict[str, Response] = {}
        for item_id, answer in self.responses.items():
            if isinstance(answer, ChoiceIn):
                converted[item_id] = ChoiceResponse(tuple(answer.selected))
            else:
                converted[item_id] = WorkSampleResponse(
                    ratings=tuple(r.to_rating() for r in answer.ratings),
                    adjudication=answer.adjudication.to_rating() if answer.adjudication else None,
                    awaiting=tuple(answer.awaiting),
                )
        return converted


# ── staff API: input ────────────────────────────────────────────────────────────────────
# Inputs never carry status, scores or owners: those follow from who acts and what happened.


class CandidateIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    note: str = Field(default="", max_length=2000)


class AssessmentIn(Strict):
    candidate_id: Id
    rubric_id: str = Field(min_length=1, max_length=64)
    role_id: str = Field(min_length=1, max_length=64)
    time_limit_minutes: int | None = Field(default=None, ge=1, le=600)
    link_valid_days: int | None = Field(
        default=14, ge=1, le=365, description="days until the invite link expires; null: never"
    )


class CandidateFeedbackIn(Strict):
    enabled: StrictBool = Field(description="whether the candidate feedback report may be produced")


class ExtendIn(Strict):
    days: int = Field(ge=1, le=365, description="days added to the link's expiry")


class ReissueIn(Strict):
    link_valid_days: int | None = Field(default=14, ge=1, le=365)


class RaterIn(Strict):
    user_id: Id
    adjudicator: StrictBool = False


class WorkSampleRatingIn(Strict):
    criteria: dict[str, str] = Field(description="criterion id → level id, every criterion")
    note: str = Field(default="", max_length=2000)


# ── staff API: output (read from the dataclasses of app.assessments.views) ──────────────


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


LocalText = dict[str, str]


class CandidateOut(Out):
    id: int
    name: str
    email: str
    note: str
    created_at: datetime
    anonymised: bool


class AssessmentBriefOut(Out):
    id: int
    rubric_id: str
    role_id: str
    role_name: LocalText
    status: str
    created_at: datetime
    submitted_at: datetime | None


class CandidateDetailOut(Out):
    candidate: CandidateOut
    assessments: list[AssessmentBriefOut]


class RaterOut(Out):
    user_id: int
    name: str
    email: str
    role: str
    active: bool
    adjudicator: bool
    assigned_at: datetime
    ratings_given: int


class ResultSummaryOut(Out):
    final: bool
    overall_level: float | None
    fit: float | None
    recommendation: str | None
    recommendation_label: LocalText | None
    computed_at: datetime


class AssessmentOut(Out):
    id: int
    rubric_id: str
    rubric_version: str
    role_id: str
    role_name: LocalText
    status: str
    item_count: int
    time_limit_minutes: int | None
    link_expires_at: datetime | None
    link_active: bool
    candidate_feedback: bool
    token_issued_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    deadline_at: datetime | None
    submitted_at: datetime | None
    scored_at: datetime | None
    revoked_at: datetime | None
    candidate: CandidateOut | None = Field(description="null for raters, who rate blind")
    raters: list[RaterOut] = Field(description="HR only; empty for raters")
    result: ResultSummaryOut | None = Field(description="HR only; null for raters")


class InviteOut(BaseModel):
    assessment: AssessmentOut
    invite_url: str = Field(description="shown once: only a hash of its token is stored")


class AssessmentRowOut(Out):
    id: int
    candidate_id: int
    candidate_name: str
    candidate_email: str
    rubric_id: str
    role_id: str
    role_name: LocalText
    status: str
    overall_level: float | None
    fit: float | None
    recommendation: str | None
    recommendation_label: LocalText | None
    final: bool | None
    created_at: datetime
    submitted_at: datetime | None


class AssessmentPageOut(Out):
    """One page of the candidate list; `total` counts the matching rows of every page."""

    items: list[AssessmentRowOut]
    total: int
    page: int
    size: int
    pages: int


class QueueEntryOut(Out):
    assessment_id: int
    item_id: str
    role_name: LocalText
    competency_id: str
    competency_name: LocalText
    prompt: LocalText
    submitted_at: datetime | None
    adjudication: bool


class LevelChoiceOut(Out):
    id: str
    descriptor: LocalText


class CriterionOut(Out):
    id: str
    name: LocalText
    levels: list[LevelChoiceOut]


class AnchorOut(Out):
    level: int
    level_name: LocalText
    text: LocalText


class OwnRatingOut(Out):
    criteria: dict[str, str]
    note: str
    adjudication: bool
    rated_at: datetime


class RatingTaskOut(Out):
    assessment_id: int
    item_id: str
    role_name: LocalText
    competency_id: str
    competency_name: LocalText
    anchors: list[AnchorOut]
    prompt: LocalText
    criteria: list[CriterionOut]
    answer_text: str
    adjudication: bool
    own_rating: OwnRatingOut | None


class CriterionLevelOut(Out):
    criterion_id: str
    criterion_name: LocalText
    level_id: str
    descriptor: LocalText


class RatingTraceOut(Out):
    rater_id: int | None
    rater_name: str
    raw: float
    adjudication: bool
    levels: list[CriterionLevelOut]


class ItemTraceOut(Out):
    item_id: str
    prompt: LocalText
    type: str
    weight: float
    raw: float | None
    max_points: float
    fraction: float | None
    status: str
    selected: list[LocalText]
    answer_text: str | None
    ratings: list[RatingTraceOut]
    disagreements: list[str]


class CompetencyResultOut(Out):
    id: str
    name: LocalText
    dimension_id: str
    dimension_name: LocalText
    assessed: bool
    level: float | None
    target: float
    gap: float | None
    weight: float
    critical: bool
    tolerance: float
    provisional: bool
    fraction: float | None
    anchor_level: int | None
    anchor: LocalText | None
    items: list[ItemTraceOut]


class DimensionResultOut(Out):
    id: str
    name: LocalText
    level: float | None
    target: float | None


class CriticalCapOut(Out):
    competency_id: str
    name: LocalText
    gap: float
    tolerance: float


class RecommendationOut(Out):
    band: str
    label: LocalText
    fit_band: str
    fit_band_label: LocalText
    fit_band_min: float
    fit_band_max: float
    capped: bool
    caps: list[CriticalCapOut]
    reason: LocalText


class AreaGapOut(Out):
    competency_id: str
    name: LocalText
    gap: float


class AreaRiskOut(Out):
    id: str
    name: LocalText
    focus: bool
    competencies: list[AreaGapOut]


class RaterNoteOut(Out):
    item_id: str
    prompt: LocalText
    rater_name: str
    adjudication: bool
    note: str
    rated_at: datetime


class FlagOut(Out):
    code: str
    item_id: str | None
    competency_id: str | None
    detail: str
    message: LocalText


class ResultOut(Out):
    assessment: AssessmentOut
    rubric_version: str
    scale_min: int
    scale_max: int
    final: bool
    provisional_reasons: list[LocalText]
    overall_level: float | None
    overall_target: float | None
    fit: float | None
    recommendation: RecommendationOut | None
    competencies: list[CompetencyResultOut]
    dimensions: list[DimensionResultOut]
    areas_at_risk: list[AreaRiskOut]
    rater_notes: list[RaterNoteOut]
    flags: list[FlagOut]
    pending: list[str]
    computed_at: datetime


class AgreementOut(Out):
    rubric_id: str
    role_id: str
    role_name: LocalText
    assessments: int
    rated_items: int
    doubly_rated_items: int
    ratings: int
    alpha: float | None
    is_low: bool
    threshold: float
    message: LocalText
