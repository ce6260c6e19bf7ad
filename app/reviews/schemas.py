"""Pydantic shapes of the review API. Inputs refuse unknown fields and never carry a status,
a result or an owner; outputs are read from the dataclasses of `views`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from app.ids import Id
from app.reviews.service import AnswerInput, RateeSpec

LocalText = dict[str, str]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ── input ───────────────────────────────────────────────────────────────────────────────


class TeamIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    lead_id: Id = Field(description="an active staff user with the role 'lead'")


class TeamUpdateIn(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    lead_id: Id | None = None


class MemberIn(Strict):
    user_id: Id
    role_id: str = Field(
        min_length=1, max_length=64, description="the rubric role profile they are measured on"
    )


class RateeIn(Strict):
    user_id: Id = Field(description="a member of the team")
    peer_ids: list[Id] = Field(default_factory=list, max_length=50)
    report_ids: list[Id] = Field(default_factory=list, max_length=50)

    def to_spec(self) -> RateeSpec:
        return RateeSpec(self.user_id, tuple(self.peer_ids), tuple(self.report_ids))


class CycleIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    due_at: AwareDatetime = Field(description="in the future, with a time zone")
    ratees: list[RateeIn] = Field(min_length=1, max_length=500)
    role_id: str | None = Field(
        default=None,
        max_length=64,
        description="one role profile per cycle; default: the ratees' team role if they share one",
    )
    rubric_id: str | None = Field(
        default=None, max_length=64, description="default: the only loaded rubric"
    )
    min_raters: dict[str, int] | None = Field(
        default=None,
        description="per group; defaults self 1, manager 1, peer 3, report 3 "
        "(at least 2 for peer and report)",
    )
    group_weights: dict[str, float] | None = Field(
        default=None, description="weights of manager, peer and report in Others (default 1)"
    )


class AddRaterIn(Strict):
    ratee_id: Id = Field(description="the user id of a person reviewed in this cycle")
    rater_id: Id
    group: Literal["manager", "peer", "report"]


class NominationIn(Strict):
    rater_id: Id = Field(description="a teammate you would like to rate you as a peer")


class AnswerIn(Strict):
    level: int | None = Field(default=None, description="a level of the rubric's scale")
    not_observed: StrictBool = Field(
        default=False, description="true instead of a level when you could not observe this"
    )
    comment: str = Field(default="", max_length=2000)

    def to_input(self) -> AnswerInput:
        return AnswerInput(self.level, self.not_observed, self.comment)


class AnswersIn(Strict):
    answers: dict[str, AnswerIn] = Field(
        description="competency id → answer; competencies left out stay as they were"
    )

    def to_inputs(self) -> dict[str, AnswerInput]:
        return {c: a.to_input() for c, a in self.answers.items()}


class SubmitIn(AnswersIn):
    answers: dict[str, AnswerIn] = Field(
        default_factory=dict, description="saved before submitting, as with autosave"
    )


# ── output ──────────────────────────────────────────────────────────────────────────────


class PersonBriefOut(Out):
    user_id: int
    name: str


class TeamMemberOut(Out):
    user_id: int
    name: str
    email: str
    role_id: str
    role_name: LocalText
    joined_at: datetime


class TeamDetailOut(Out):
    id: int
    name: str
    lead: PersonBriefOut
    members: list[TeamMemberOut]
    created_at: datetime
    can_manage: bool


class CycleBriefOut(Out):
    id: int
    team_id: int
    team_name: str
    name: str
    rubric_id: str
    rubric_version: str
    role_id: str
    role_name: LocalText
    status: str
    status_label: LocalText
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    ratee_count: int


class RequestOut(Out):
    id: int
    rater: PersonBriefOut
    group: str
    group_label: LocalText
    status: str
    status_label: LocalText
    nominated: bool
    submitted: bool | None = Field(
        description="for the cycle's lead, HR and the rater themself; null for anyone else"
    )


class RateeOut(Out):
    user_id: int
    name: str
    requests: list[RequestOut]


class CycleOut(Out):
    cycle: CycleBriefOut
    min_raters: dict[str, int]
    group_weights: dict[str, float]
    created_by: PersonBriefOut | None
    can_manage: bool
    can_nominate: bool
    ratees: list[RateeOut]


class PendingRaterOut(Out):
    request_id: int
    rater: PersonBriefOut
    email: str
    group: str
    group_label: LocalText


class GroupProgressOut(Out):
    group: str
    group_label: LocalText
    asked: int
    submitted: int
    needed: int
    short_of_raters: bool


class RateeProgressOut(Out):
    user_id: int
    name: str
    groups: list[GroupProgressOut]
    pending: list[PendingRaterOut]
    nominations: list[PendingRaterOut]


class RemindersOut(Out):
    cycle: CycleBriefOut
    ratees: list[RateeProgressOut]
    pending_total: int
    nominations_total: int


class TaskOut(Out):
    request_id: int
    cycle_id: int
    cycle_name: str
    due_at: datetime
    ratee: PersonBriefOut
    group: str
    group_label: LocalText
    state: Literal["to_do", "done", "closed"]
    answered: int
    total: int
    submitted_at: datetime | None


class ScaleLevelOut(Out):
    value: int
    name: LocalText
    description: LocalText


class AnchorLevelOut(Out):
    level: int
    level_name: LocalText
    text: LocalText


class OwnAnswerOut(Out):
    level: int | None
    not_observed: bool
    comment: str
    saved_at: datetime


class FormCompetencyOut(Out):
    id: str
    name: LocalText
    description: LocalText
    anchors: list[AnchorLevelOut]
    answer: OwnAnswerOut | None


class FormDimensionOut(Out):
    id: str
    name: LocalText
    competencies: list[FormCompetencyOut]


class RatingFormOut(Out):
    request_id: int
    cycle: CycleBriefOut
    ratee: PersonBriefOut
    group: str
    group_label: LocalText
    state: Literal["to_do", "done", "closed"]
    editable: bool
    submitted_at: datetime | None
    scale: list[ScaleLevelOut]
    dimensions: list[FormDimensionOut]
    answered: int
    total: int
    comment_max: int


class WithheldOut(Out):
    group: str
    group_label: LocalText
    reason: str
    needed: int
    competencies: list[str]
    message: LocalText


class GroupCellOut(Out):
    group: str
    group_label: LocalText
    level: float | None
    count: int | None
    withheld: WithheldOut | None


class CommentOut(Out):
    group: str
    group_label: LocalText
    text: str


class ReviewCompetencyOut(Out):
    id: str
    name: LocalText
    dimension_id: str
    dimension_name: LocalText
    target: float
    weight: float
    groups: list[GroupCellOut]
    self_level: float | None
    others: float | None
    gap: float | None
    self_minus_others: float | None
    blind_spot: bool
    hidden_strength: bool
    explanation: LocalText | None
    anchor_level: int | None
    anchor: LocalText | None
    comments: list[CommentOut]


class RollupOut(Out):
    id: str
    name: LocalText
    others: float | None
    target: float | None
    gap: float | None
    self_level: float | None


class ReviewAgreementOut(Out):
    interval: float | None
    ordinal: float | None
    low: bool
    pairable_units: int
    pairable_values: int
    threshold: float
    message: LocalText


class ReviewResultOut(Out):
    cycle: CycleBriefOut
    ratee: PersonBriefOut
    rubric_version: str
    scale: list[ScaleLevelOut]
    scale_min: int
    scale_max: int
    competencies: list[ReviewCompetencyOut]
    dimensions: list[RollupOut]
    overall: RollupOut
    withheld: list[WithheldOut]
    agreement: ReviewAgreementOut
    blind_spots: list[str]
    hidden_strengths: list[str]
    blind_spot_threshold: float
    hidden_strength_threshold: float
    computed_at: datetime


class ReviewSummaryOut(Out):
    ratee: PersonBriefOut
    overall_others: float | None
    overall_target: float | None
    overall_gap: float | None
    overall_self: float | None
    blind_spots: int
    hidden_strengths: int
    withheld_groups: list[str]


class CycleResultsOut(Out):
    cycle: CycleBriefOut
    results: list[ReviewSummaryOut]


class CompetencyHeadOut(Out):
    id: str
    name: LocalText
    dimension_id: str
    target: float


class HeatCellOut(Out):
    competency_id: str
    others: float | None
    target: float
    gap: float | None
    state: Literal["below", "meets", "not_assessed"]


class HeatRowOut(Out):
    ratee: PersonBriefOut
    cells: list[HeatCellOut]
    overall_others: float | None


class HeatMapOut(Out):
    team_id: int
    team_name: str
    cycle: CycleBriefOut | None
    competencies: list[CompetencyHeadOut]
    rows: list[HeatRowOut]


class CompetencyAgreementOut(Out):
    id: str
    name: LocalText
    agreement: ReviewAgreementOut


class CycleAgreementOut(Out):
    cycle: CycleBriefOut
    overall: ReviewAgreementOut
    competencies: list[CompetencyAgreementOut]


class TrendSourceOut(Out):
    kind: Literal["review", "assessment"]
    id: int
    at: datetime
    label: LocalText
    role_id: str
    role_name: LocalText
    rubric_id: str
    rubric_version: str


class TrendPointOut(Out):
    kind: Literal["review", "assessment"]
    source_id: int
    at: datetime
    label: LocalText
    level: float
    target: float | None
    rubric_version: str


class CompetencyTrendOut(Out):
    id: str
    name: LocalText
    points: list[TrendPointOut]


class PersonTrendOut(Out):
    person: PersonBriefOut
    sources: list[TrendSourceOut]
    competencies: list[CompetencyTrendOut]
    note: LocalText
