"""API models for plans, teams, the catalogue and practice.

Inputs refuse unknown fields and never carry a person, owner, status of someone else or a
score: those follow from who acts. Outputs are read from the dataclasses of `views`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ids import Id
from app.plans.service import EVIDENCE_MAX, HOURS_MAX, NOTE_MAX, TITLE_MAX


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ── input ───────────────────────────────────────────────────────────────────────────────


class PlanIn(Strict):
    source: Literal["assessment", "review"] = Field(
        description="a scored hiring assessment, or a released 360 review result"
    )
    source_id: Id = Field(description="the assessment id, or the review ratee id")
    hours_budget: float | None = Field(
        default=None, gt=0, le=HOURS_MAX, description="total module hours; null: no limit"
    )
    title: str = Field(default="", max_length=TITLE_MAX)


class PlanUpdateIn(Strict):
    title: str = Field(max_length=TITLE_MAX)


class ItemIn(Strict):
    module_id: str = Field(min_length=1, max_length=64)
    competency: str | None = Field(
        default=None, description="one of the module's competencies; default: the largest gap"
    )
    due_date: date | None = None
    note: str = Field(default="", max_length=NOTE_MAX)


class ItemUpdateIn(Strict):
    """Only the fields sent change; `due_date: null` clears the date."""

    due_date: date | None = None
    note: str | None = Field(default=None, max_length=NOTE_MAX)


class StatusIn(Strict):
    status: Literal["planned", "in_progress", "done"]


class EvidenceIn(Strict):
    text: str = Field(min_length=1, max_length=EVIDENCE_MAX)


class PracticeStartIn(Strict):
    competency: str = Field(min_length=1, max_length=64)


class PracticeAnswerIn(Strict):
    item_id: str = Field(min_length=1, max_length=64)
    selected: list[str] = Field(max_length=20, description="the chosen option ids")


# ── output ──────────────────────────────────────────────────────────────────────────────


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


LocalText = dict[str, str]


class PersonOut(Out):
    id: int
    name: str
    email: str


class ModuleOut(Out):
    id: str
    title: LocalText
    format: str
    format_label: LocalText
    hours: float
    from_level: int
    to_level: int
    competencies: list[str]
    description: LocalText


class SourceOut(Out):
    kind: str
    id: int
    measured_at: datetime
    label: LocalText
    name: str


class TotalsOut(Out):
    items: int
    done: int
    in_progress: int
    overdue: int
    hours: float
    done_hours: float
    completion: float = Field(description="share of items done, 0–1")


class EvidenceNoteOut(Out):
    id: int
    text: str
    author_name: str
    created_at: datetime


class ItemOut(Out):
    id: int
    competency: str
    module: ModuleOut
    position: int
    due_date: date | None
    status: str
    owner_note: str
    evidence: list[EvidenceNoteOut]
    overdue: bool
    updated_at: datetime
    done_at: datetime | None


class StepOut(Out):
    competency: str
    name: LocalText
    level: float | None
    target: float
    weight: float
    gap: float
    priority: float = Field(description="weight × gap: the order of the steps")
    items: list[ItemOut]
    suggested: list[ModuleOut] = Field(description="next modules that did not fit the budget")
    uncovered_from: int | None = Field(description="level from which no module leads on")


class ProgressRowOut(Out):
    competency: str
    name: LocalText
    target: float
    in_plan: bool
    before: float | None
    after: float | None
    change: float | None
    after_source: SourceOut | None


class PlanRowOut(Out):
    id: int
    title: LocalText
    person: PersonOut
    source: SourceOut
    role_name: LocalText
    created_at: datetime
    totals: TotalsOut


class PlanOut(Out):
    id: int
    title: LocalText
    custom_title: str
    person: PersonOut
    source: SourceOut
    rubric_id: str
    rubric_version: str
    role_id: str
    role_name: LocalText
    hours_budget: float | None
    created_at: datetime
    created_by: str
    steps: list[StepOut]
    not_assessed: list[LocalText]
    progress: list[ProgressRowOut] = Field(
        description="before (the source) and after (the newest later evidence) per competency"
    )
    has_newer: bool
    totals: TotalsOut
    can_edit: bool
    can_update: bool


class SourceOptionOut(Out):
    source: SourceOut
    final: bool
    role_name: LocalText
    plan_id: int | None


class PlanningOut(Out):
    people: list[PersonOut]
    person: PersonOut | None
    sources: list[SourceOptionOut]


class BelowTargetOut(Out):
    competency: str
    name: LocalText
    level: float
    target: float


class OverdueItemOut(Out):
    item_id: int
    module: LocalText
    due_date: date


class PlanProgressOut(Out):
    plan_id: int
    title: LocalText
    created_at: datetime
    totals: TotalsOut
    overdue: list[OverdueItemOut]
    below_target: list[BelowTargetOut]


class MemberProgressOut(Out):
    person: PersonOut
    plans: list[PlanProgressOut]


class CompetencyCountOut(Out):
    competency: str
    name: LocalText
    count: int


class TeamOut(Out):
    id: int
    name: str
    lead_name: str
    members: list[MemberProgressOut]
    totals: TotalsOut
    below_target: list[CompetencyCountOut]


class TeamRefOut(Out):
    id: int
    name: str


class CatalogueGroupOut(Out):
    competency: str
    name: LocalText
    dimension: LocalText
    modules: list[ModuleOut]


class CatalogueOut(Out):
    rubric_id: str
    rubric_name: LocalText
    competency: str | None
    level: int | None
    groups: list[CatalogueGroupOut]


class ModuleNeedOut(Out):
    module: ModuleOut
    open_items: int
    plans: int


class CompetencyNeedOut(Out):
    competency: str
    name: LocalText
    plans: int
    mean_gap: float


class NeedsOut(Out):
    plans: int
    open_items: int
    modules: list[ModuleNeedOut]
    competencies: list[CompetencyNeedOut]


class PracticeTopicOut(Out):
    competency: str
    name: LocalText
    items: int
    answered: int
    score: float | None = Field(description="share of points over every answer, 0–1")
    open_session_id: int | None


class SessionRowOut(Out):
    id: int
    competency: str
    name: LocalText
    started_at: datetime
    finished_at: datetime | None
    answered: int
    total: int
    score: float | None


class PracticeOverviewOut(Out):
    topics: list[PracticeTopicOut]
    sessions: list[SessionRowOut]


class OptionOut(Out):
    id: str
    text: LocalText


class QuestionOut(Out):
    id: str
    type: str
    select: str
    prompt: LocalText
    options: list[OptionOut] = Field(description="without points: those come with feedback")


class OptionFeedbackOut(Out):
    id: str
    text: LocalText
    points: float
    selected: bool
    best: bool
    rationale: LocalText | None


class FeedbackOut(Out):
    item_id: str
    points: float
    maximum: float
    fraction: float
    correct: bool
    explanation: LocalText
    options: list[OptionFeedbackOut]


class AnsweredOut(Out):
    question: QuestionOut
    selected: list[str]
    feedback: FeedbackOut
    answered_at: datetime


class PracticeSessionOut(Out):
    id: int
    competency: str
    name: LocalText
    started_at: datetime
    finished_at: datetime | None
    total: int
    answered: list[AnsweredOut]
    next_question: QuestionOut | None
    score: float | None
    competency_score: float | None


class AnswerOut(BaseModel):
    feedback: FeedbackOut
    session: PracticeSessionOut
