"""Read models of the review pages and API: frozen dataclasses a template renders as they are.

None of them carries another rater's answers or names a rater next to a rating; the services
fill them with a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.rubrics.spec import Text

TaskState = Literal["to_do", "done", "closed"]
HeatState = Literal["below", "meets", "not_assessed"]
TrendSourceKind = Literal["review", "assessment"]


@dataclass(frozen=True)
class PersonBrief:
    user_id: int
    name: str


# ── teams ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class TeamMemberView:
    user_id: int
    name: str
    email: str
    role_id: str
    role_name: Text
    joined_at: datetime


@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    lead: PersonBrief
    members: tuple[TeamMemberView, ...]
    created_at: datetime
    # Whether the viewer may open and run cycles for this team (its lead, or HR).
    can_manage: bool


# ── cycles ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class CycleBrief:
    id: int
    team_id: int
    team_name: str
    name: str
    rubric_id: str
    rubric_version: str
    role_id: str
    role_name: Text
    status: str
    status_label: Text
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    ratee_count: int


@dataclass(frozen=True)
class RequestView:
    """Who was asked to rate whom; never what they answered."""

    id: int
    rater: PersonBrief
    group: str
    group_label: Text
    status: str
    status_label: Text
    # True when the ratee nominated this rater (the lead then approves or declines).
    nominated: bool
    # Shown to the cycle's lead, HR and the rater themself; None for anyone else.
    submitted: bool | None


@dataclass(frozen=True)
class RateeView:
    user_id: int
    name: str
    requests: tuple[RequestView, ...]


@dataclass(frozen=True)
class CycleView:
    cycle: CycleBrief
    min_raters: Mapping[str, int]
    group_weights: Mapping[str, float]
    created_by: PersonBrief | None
    # The team's lead or HR: may add raters, decide nominations, see reminders and close.
    can_manage: bool
    # The viewer is reviewed in this cycle and may nominate peers while it is open.
    can_nominate: bool
    # Everyone for those who manage; otherwise the viewer's own row and the rows they rate.
    ratees: tuple[RateeView, ...]


@dataclass(frozen=True)
class PendingRater:
    request_id: int
    rater: PersonBrief
    email: str
    group: str
    group_label: Text


@dataclass(frozen=True)
class GroupProgress:
    group: str
    group_label: Text
    asked: int
    submitted: int
    needed: int
    # An anonymous group with fewer approved raters than it needs will be withheld.
    short_of_raters: bool


@dataclass(frozen=True)
class RateeProgress:
    user_id: int
    name: str
    groups: tuple[GroupProgress, ...]
    pending: tuple[PendingRater, ...]
    nominations: tuple[PendingRater, ...]


@dataclass(frozen=True)
class Reminders:
    """For the lead: who has not answered yet. Names who was asked, never what anyone said."""

    cycle: CycleBrief
    ratees: tuple[RateeProgress, ...]
    pending_total: int
    nominations_total: int


# ── rating ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class TaskView:
    request_id: int
    cycle_id: int
    cycle_name: str
    due_at: datetime
    ratee: PersonBrief
    group: str
    group_label: Text
    state: TaskState
    answered: int
    total: int
    submitted_at: datetime | None


@dataclass(frozen=True)
class ScaleLevelView:
    value: int
    name: Text
    description: Text


@dataclass(frozen=True)
class AnchorView:
    level: int
    level_name: Text
    text: Text


@dataclass(frozen=True)
class AnswerView:
    """The rater's own answer: a level, "not observed", or neither yet (a draft comment)."""

    level: int | None
    not_observed: bool
    comment: str
    saved_at: datetime

    @property
    def chosen(self) -> bool:
        return self.level is not None or self.not_observed


@dataclass(frozen=True)
class FormCompetency:
    id: str
    name: Text
    description: Text
    anchors: tuple[AnchorView, ...]
    answer: AnswerView | None


@dataclass(frozen=True)
class FormDimension:
    id: str
    name: Text
    competencies: tuple[FormCompetency, ...]


@dataclass(frozen=True)
class RatingForm:
    request_id: int
    cycle: CycleBrief
    ratee: PersonBrief
    group: str
    group_label: Text
    state: TaskState
    # Answers may still change: the cycle is open, not due, and this form is not submitted.
    editable: bool
    submitted_at: datetime | None
    scale: tuple[ScaleLevelView, ...]
    dimensions: tuple[FormDimension, ...]
    answered: int
    total: int
    comment_max: int


# ── results ─────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class WithheldView:
    group: str
    group_label: Text
    reason: str
    needed: int
    competencies: tuple[str, ...]
    message: Text


@dataclass(frozen=True)
class GroupCell:
    """One group on one competency: its mean when shown, else why it is withheld (or absent)."""

    group: str
    group_label: Text
    level: float | None
    count: int | None
    withheld: WithheldView | None


@dataclass(frozen=True)
class CommentView:
    group: str
    group_label: Text
    text: str


@dataclass(frozen=True)
class CompetencyResult:
    id: str
    name: Text
    dimension_id: str
    dimension_name: Text
    target: float
    weight: float
    groups: tuple[GroupCell, ...]
    self_level: float | None
    others: float | None
    gap: float | None
    self_minus_others: float | None
    blind_spot: bool
    hidden_strength: bool
    # Plain words for a blind spot or hidden strength; None when there is neither.
    explanation: Text | None
    # The scale level nearest Others, and its behavioural anchor.
    anchor_level: int | None
    anchor: Text | None
    comments: tuple[CommentView, ...]


@dataclass(frozen=True)
class RollupView:
    id: str
    name: Text
    others: float | None
    target: float | None
    gap: float | None
    self_level: float | None


@dataclass(frozen=True)
class AgreementView:
    interval: float | None
    ordinal: float | None
    low: bool
    pairable_units: int
    pairable_values: int
    threshold: float
    message: Text


@dataclass(frozen=True)
class ResultView:
    cycle: CycleBrief
    ratee: PersonBrief
    rubric_version: str
    scale: tuple[ScaleLevelView, ...]
    scale_min: int
    scale_max: int
    competencies: tuple[CompetencyResult, ...]
    dimensions: tuple[RollupView, ...]
    overall: RollupView
    withheld: tuple[WithheldView, ...]
    agreement: AgreementView
    blind_spots: tuple[str, ...]
    hidden_strengths: tuple[str, ...]
    blind_spot_threshold: float
    hidden_strength_threshold: float
    computed_at: datetime


@dataclass(frozen=True)
class ResultSummary:
    ratee: PersonBrief
    overall_others: float | None
    overall_target: float | None
    overall_gap: float | None
    overall_self: float | None
    blind_spots: int
    hidden_strengths: int
    withheld_groups: tuple[str, ...]


@dataclass(frozen=True)
class CycleResults:
    cycle: CycleBrief
    results: tuple[ResultSummary, ...]


@dataclass(frozen=True)
class CompetencyHead:
    id: str
    name: Text
    dimension_id: str
    target: float


@dataclass(frozen=True)
class HeatCell:
    competency_id: str
    others: float | None
    target: float
    gap: float | None
    state: HeatState


@dataclass(frozen=True)
class HeatRow:
    ratee: PersonBrief
    cells: tuple[HeatCell, ...]
    overall_others: float | None


@dataclass(frozen=True)
class HeatMap:
    """Members × competencies of one released cycle: Others against the role's target."""

    team_id: int
    team_name: str
    # None when the team has no released cycle yet (then there are no rows).
    cycle: CycleBrief | None
    competencies: tuple[CompetencyHead, ...]
    rows: tuple[HeatRow, ...]


@dataclass(frozen=True)
class CompetencyAgreement:
    id: str
    name: Text
    agreement: AgreementView


@dataclass(frozen=True)
class CycleAgreementView:
    cycle: CycleBrief
    overall: AgreementView
    competencies: tuple[CompetencyAgreement, ...]


# ── trends ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class TrendSource:
    kind: TrendSourceKind
    id: int
    at: datetime
    label: Text
    role_id: str
    role_name: Text
    rubric_id: str
    rubric_version: str


@dataclass(frozen=True)
class TrendPoint:
    kind: TrendSourceKind
    source_id: int
    at: datetime
    label: Text
    level: float
    target: float | None
    rubric_version: str


@dataclass(frozen=True)
class CompetencyTrend:
    id: str
    name: Text
    points: tuple[TrendPoint, ...]


@dataclass(frozen=True)
class PersonTrend:
    person: PersonBrief
    # Oldest first; one per released review and per scored hiring assessment.
    sources: tuple[TrendSource, ...]
    competencies: tuple[CompetencyTrend, ...]
    # How hiring assessments were matched to this person.
    note: Text
