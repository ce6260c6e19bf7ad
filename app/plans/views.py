"""Read models for plan, team, catalogue and practice pages and the API: frozen dataclasses.

Texts a person reads are `{"zh": …, "en": …}`; levels keep full precision (pages round).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from app.plans.practice import Feedback

# Re-exported: callers of this module name roles and competencies through it.
from app.rubrics.labels import competency_name as competency_name
from app.rubrics.labels import role_name as role_name
from app.rubrics.labels import t as t
from app.rubrics.spec import Rubric, Text, TrainingModule

STATUS_LABELS: Mapping[str, Text] = {
    "planned": t("计划中", "Planned"),
    "in_progress": t("进行中", "In progress"),
    "done": t("已完成", "Done"),
}
FORMAT_LABELS: Mapping[str, Text] = {
    "course": t("课程", "Course"),
    "workshop": t("工作坊", "Workshop"),
    "practice": t("实操练习", "Practice"),
    "mentoring": t("导师辅导", "Mentoring"),
    "reading": t("阅读", "Reading"),
}
SOURCE_LABELS: Mapping[str, Text] = {
    "assessment": t("测评", "Assessment"),
    "review": t("360 评估", "360 review"),
}


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class ModuleView:
    id: str
    title: Text
    format: str
    format_label: Text
    hours: float
    from_level: int
    to_level: int
    competencies: tuple[str, ...]
    competency_names: tuple[Text, ...]
    description: Text


def module_view(rubric: Rubric | None, module_id: str) -> ModuleView:
    """The module as `rubric` describes it; a module the rubric dropped keeps its id."""
    module = None if rubric is None else _module(rubric, module_id)
    if module is None:
        return ModuleView(module_id, t(module_id, module_id), "", t("", ""), 0.0, 0, 0, (), (), {})
    return catalogue_module(rubric, module)


def catalogue_module(rubric: Rubric | None, module: TrainingModule) -> ModuleView:
    return ModuleView(
        id=module.id,
        title=dict(module.title),
        format=module.format.value,
        format_label=FORMAT_LABELS.get(module.format.value, t(module.format, module.format)),
        hours=module.hours,
        from_level=module.levels.from_,
        to_level=module.levels.to,
        competencies=module.competencies,
        competency_names=tuple(competency_name(rubric, c) for c in module.competencies),
        description=dict(module.description),
    )


def _module(rubric: Rubric, module_id: str) -> TrainingModule | None:
    return next((m for m in rubric.modules if m.id == module_id), None)


# ── plans ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class SourceRef:
    kind: str
    id: int
    measured_at: datetime
    label: Text
    # A review cycle's name; empty for assessments.
    name: str = ""


@dataclass(frozen=True)
class EvidenceNote:
    id: int
    text: str
    author_name: str
    created_at: datetime


@dataclass(frozen=True)
class ItemView:
    id: int
    competency: str
    module: ModuleView
    position: int
    due_date: date | None
    status: str
    status_label: Text
    owner_note: str
    evidence: tuple[EvidenceNote, ...]
    overdue: bool
    updated_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class StepView:
    """One competency of the plan: measured level, target, gap and its modules."""

    competency: str
    name: Text
    level: float | None
    target: float
    weight: float
    gap: float
    priority: float
    items: tuple[ItemView, ...]
    # Modules the planner would add next but that did not fit the hours budget.
    suggested: tuple[ModuleView, ...]
    # The level from which the catalogue has no module toward the target.
    uncovered_from: int | None


@dataclass(frozen=True)
class ProgressRow:
    """Before (the plan's source) and after (the newest later evidence) of one competency."""

    competency: str
    name: Text
    target: float
    in_plan: bool
    before: float | None
    after: float | None
    after_source: SourceRef | None

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True)
class Totals:
    items: int
    done: int
    in_progress: int
    overdue: int
    hours: float
    done_hours: float

    @property
    def completion(self) -> float:
        """Share of items done (0–1); an empty plan is 0, not complete."""
        return self.done / self.items if self.items else 0.0


@dataclass(frozen=True)
class PlanRow:
    id: int
    title: Text
    person: Person
    source: SourceRef
    role_name: Text
    created_at: datetime
    totals: Totals


@dataclass(frozen=True)
class PlanView:
    id: int
    title: Text
    custom_title: str
    person: Person
    source: SourceRef
    rubric_id: str
    rubric_version: str
    role_id: str
    role_name: Text
    hours_budget: float | None
    created_at: datetime
    created_by: str
    steps: tuple[StepView, ...]
    not_assessed: tuple[Text, ...]
    progress: tuple[ProgressRow, ...]
    has_newer: bool
    totals: Totals
    # What the viewer may do: the lead edits the plan, the person updates their items.
    can_edit: bool
    can_update: bool
    # For the lead's "add a module" form: modules for the plan's competencies not yet in it.
    addable: tuple[ModuleView, ...]
    # Competencies of the role in rubric order, for the lead's form.
    competencies: tuple[tuple[str, Text], ...]


@dataclass(frozen=True)
class SourceOption:
    """Evidence a plan could be made from, as the actor may see it."""

    source: SourceRef
    final: bool
    role_name: Text
    plan_id: int | None


@dataclass(frozen=True)
class Planning:
    """The "new plan" page: whom the actor may plan for, and the chosen person's sources."""

    people: tuple[Person, ...]
    person: Person | None
    sources: tuple[SourceOption, ...]


# ── team view ───────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class BelowTarget:
    competency: str
    name: Text
    level: float
    target: float


@dataclass(frozen=True)
class OverdueItem:
    item_id: int
    module: Text
    due_date: date


@dataclass(frozen=True)
class PlanProgress:
    plan_id: int
    title: Text
    created_at: datetime
    totals: Totals
    overdue: tuple[OverdueItem, ...]
    # Planned competencies whose newest level is still below target.
    below_target: tuple[BelowTarget, ...]


@dataclass(frozen=True)
class MemberProgress:
    person: Person
    plans: tuple[PlanProgress, ...]


@dataclass(frozen=True)
class CompetencyCount:
    competency: str
    name: Text
    count: int


@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    lead_name: str
    members: tuple[MemberProgress, ...]
    totals: Totals
    # How many members have each competency still below target, most first.
    below_target: tuple[CompetencyCount, ...]


@dataclass(frozen=True)
class TeamRef:
    id: int
    name: str


# ── catalogue ───────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class CatalogueGroup:
    competency: str
    name: Text
    dimension: Text
    modules: tuple[ModuleView, ...]


@dataclass(frozen=True)
class Catalogue:
    rubric_id: str
    rubric_name: Text
    rubrics: tuple[tuple[str, Text], ...]
    competencies: tuple[tuple[str, Text], ...]
    levels: tuple[tuple[int, Text], ...]
    competency: str | None
    level: int | None
    groups: tuple[CatalogueGroup, ...]


@dataclass(frozen=True)
class ModuleNeed:
    module: ModuleView
    open_items: int
    plans: int


@dataclass(frozen=True)
class CompetencyNeed:
    competency: str
    name: Text
    plans: int
    mean_gap: float


@dataclass(frozen=True)
class Needs:
    plans: int
    open_items: int
    modules: tuple[ModuleNeed, ...]
    competencies: tuple[CompetencyNeed, ...]


# ── practice ────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class PracticeTopic:
    competency: str
    name: Text
    items: int
    answered: int
    # Running score over every practice answer in this competency (0–1).
    score: float | None
    open_session_id: int | None


@dataclass(frozen=True)
class SessionRow:
    id: int
    competency: str
    name: Text
    started_at: datetime
    finished_at: datetime | None
    answered: int
    total: int
    score: float | None


@dataclass(frozen=True)
class PracticeOverview:
    topics: tuple[PracticeTopic, ...]
    sessions: tuple[SessionRow, ...]


@dataclass(frozen=True)
class OptionView:
    id: str
    text: Text


@dataclass(frozen=True)
class Question:
    """An item as asked: prompt and options, never their points."""

    id: str
    type: str
    select: str
    prompt: Text
    options: tuple[OptionView, ...]


@dataclass(frozen=True)
class Answered:
    question: Question
    selected: tuple[str, ...]
    feedback: Feedback
    answered_at: datetime


@dataclass(frozen=True)
class PracticeSessionView:
    id: int
    competency: str
    name: Text
    started_at: datetime
    finished_at: datetime | None
    total: int
    answered: tuple[Answered, ...]
    next_question: Question | None
    # This session's running score, and the running score over all sessions of the competency.
    score: float | None
    competency_score: float | None
