"""Development plans: access rules, creating from evidence, the lead's edits, the person's updates.

Who may do what: the person sees their plans and updates status and evidence of their items;
a lead of a team the person is in sees and edits them (modules, due dates, notes, title); HR
and admins see and create every plan but do not edit. Anyone else gets NotFound.
Functions never commit; the reads (plan page, lists, team progress) live in `progress`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.plans import gaps, sources, views
from app.plans.models import (
    DevelopmentPlan,
    ItemStatus,
    PlanEvidence,
    PlanItem,
    SourceKind,
)
from app.plans.sources import Evidence
from app.privacy import audit
from app.rubrics import service as rubric_service
from app.rubrics.spec import RoleProfile

HR_ROLES = frozenset({Role.HR, Role.ADMIN})
TITLE_MAX = 200
NOTE_MAX = 2000
EVIDENCE_MAX = 2000
HOURS_MAX = 1000.0


class PlanInvalid(InvalidInput):
    """A field is wrong; `text` says what in both languages for the pages."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(en, field=field)
        self.text = views.t(zh, en)


class PlanConflict(Conflict):
    def __init__(self, field: str | None, zh: str, en: str) -> None:
        super().__init__(en, field=field)
        self.text = views.t(zh, en)


class _Keep(Enum):
    KEEP = "keep"


# Leaves a field of `update_item` as it is.
KEEP = _Keep.KEEP


def is_hr(user: User) -> bool:
    return Role(user.role) in HR_ROLES


def leads(session: Session, actor: User, person_id: int) -> bool:
    """Whether `actor` leads a team `person_id` is in (members never lead, nor do people
    lead themselves)."""
    if Role(actor.role) is Role.MEMBER or actor.id == person_id:
        return False
    return actor.id in sources.leads_of(session, person_id)


def today() -> date:
    return utcnow().date()


@dataclass(frozen=True)
class Access:
    view: bool
    edit: bool
    update: bool


def access(session: Session, actor: User, plan: DevelopmentPlan) -> Access:
    update = plan.user_id == actor.id
    edit = leads(session, actor, plan.user_id)
    return Access(view=update or edit or is_hr(actor), edit=edit, update=update)


def get_for(session: Session, actor: User, plan_id: int) -> tuple[DevelopmentPlan, Access]:
    """The plan if `actor` may see it, else NotFound (so plan ids reveal nothing)."""
    plan = session.get(DevelopmentPlan, plan_id)
    if plan is None:
        raise NotFound("no such plan")
    allowed = access(session, actor, plan)
    if not allowed.view:
        raise NotFound("no such plan")
    return plan, allowed


def may_plan(actor: User) -> bool:
    """Leads (for their teams) and HR make plans; members never do."""
    return Role(actor.role) is not Role.MEMBER


def require_lead_or_hr(actor: User) -> None:
    if not may_plan(actor):
        raise Forbidden("only leads and HR may do this")


# ── creating ────────────────────────────────────────────────────────────────────────────


def _evidence(session: Session, kind: str, source_id: int) -> Evidence | None:
    if kind == SourceKind.ASSESSMENT:
        return sources.assessment_evidence(session, source_id)
    if kind == SourceKind.REVIEW:
        return sources.review_evidence(session, source_id)
    raise PlanInvalid(
        "source",
        f"来源须为 assessment 或 review，而不是 {kind!r}",
        f"source must be assessment or review, not {kind!r}",
    )


def _check_budget(hours_budget: float | None) -> float | None:
    if hours_budget is None:
        return None
    if not (math.isfinite(hours_budget) and 0 < hours_budget <= HOURS_MAX):
        raise PlanInvalid(
            "hours_budget",
            f"学时预算须大于 0 且不超过 {HOURS_MAX:g}，或留空表示不设上限",
            f"give an hours budget above 0 and at most {HOURS_MAX:g}, or none for no limit",
        )
    return hours_budget


def _check_title(title: str) -> str:
    title = title.strip()
    if len(title) > TITLE_MAX:
        raise PlanInvalid(
            "title",
            f"标题有 {len(title)} 个字符，最多 {TITLE_MAX} 个",
            f"the title has {len(title)} characters; at most {TITLE_MAX} are allowed",
        )
    return title


def baseline_of(
    role: RoleProfile, levels: Mapping[str, float | None]
) -> dict[str, dict[str, object]]:
    return {
        c: {"level": levels.get(c), "target": target.target, "weight": target.weight}
        for c, target in role.targets.items()
    }


def baseline_levels(plan: DevelopmentPlan) -> dict[str, float | None]:
    return {c: data.get("level") for c, data in plan.baseline.items()}


def create_plan(
    session: Session,
    actor: User,
    source: str,
    source_id: int,
    hours_budget: float | None = None,
    title: str = "",
) -> DevelopmentPlan:
    """A plan for the person measured by `source`: gap competencies by W_c·g_c, with modules.

    Sources: a scored assessment with a final result (the person is the staff user with the
    candidate's email) or a released review result (`source_id` is the review_ratee id).
    Modules come from `gaps.plan` within `hours_budget`; a module two gaps share is one item.
    """
    require_lead_or_hr(actor)
    evidence = _evidence(session, source, source_id)
    hr = is_hr(actor)
    if evidence is None or (evidence.user_id is None and not hr):
        raise NotFound("no scored assessment or released review with this id")
    if evidence.user_id is None:
        raise PlanInvalid(
            "source_id",
            "没有与该候选人邮箱相同的员工账户；请先为其创建账户",
            "no staff account has the candidate's email; create the account first",
        )
    if not (hr or leads(session, actor, evidence.user_id)):
        raise NotFound("no scored assessment or released review with this id")
    if not evidence.final:
        raise PlanConflict(
            "source_id",
            "该测评结果仍是暂定的（有作答尚待评分或仲裁），请在结果确定后再制定计划",
            "the assessment's result is provisional (ratings missing or awaiting "
            "adjudication); make the plan once it is final",
        )
    budget = _check_budget(hours_budget)
    title = _check_title(title)
    existing = session.scalar(
        select(DevelopmentPlan.id).where(
            DevelopmentPlan.source_kind == evidence.kind.value,
            DevelopmentPlan.source_id == evidence.id,
        )
    )
    if existing is not None:
        raise _duplicate(existing)
    rubric = rubric_service.get_version(session, evidence.rubric_version)
    role = rubric.role(evidence.role_id)
    planned = gaps.plan(rubric, role, evidence.levels, budget)
    if not planned.steps:
        raise PlanConflict(
            "source_id",
            "所有已测能力都已达到目标，无需制定计划",
            "every measured competency meets its target: there is nothing to plan",
        )
    now = utcnow()
    plan = DevelopmentPlan(
        user_id=evidence.user_id,
        source_kind=evidence.kind.value,
        source_id=evidence.id,
        source_at=evidence.measured_at,
        rubric_id=evidence.rubric_id,
        rubric_version=evidence.rubric_version,
        role_id=evidence.role_id,
        baseline=baseline_of(role, evidence.levels),
        hours_budget=budget,
        title=title,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    taken: set[str] = set()
    items: list[PlanItem] = []
    for step in planned.steps:
        for rung in step.rungs:
            if rung.module in taken:
                continue
            taken.add(rung.module)
            items.append(
                PlanItem(
                    competency=step.gap.competency,
                    module_id=rung.module,
                    position=len(items) + 1,
                    status=ItemStatus.PLANNED.value,
                    owner_note="",
                    created_at=now,
                    updated_at=now,
                )
            )
    try:
        # A savepoint, so a double submit that loses the race on the unique constraint
        # becomes a conflict and leaves the request's transaction usable.
        with session.begin_nested():
            session.add(plan)
            session.flush()
            for item in items:
                item.plan_id = plan.id
            session.add_all(items)
            session.flush()
    except IntegrityError:
        winner = session.scalar(
            select(DevelopmentPlan.id).where(
                DevelopmentPlan.source_kind == evidence.kind.value,
                DevelopmentPlan.source_id == evidence.id,
            )
        )
        raise _duplicate(winner) from None
    audit.plan_event(session, actor, "plan.created", plan.id, plan.user_id, items=len(items))
    return plan


def _duplicate(plan_id: int | None) -> PlanConflict:
    return PlanConflict(
        "source_id",
        f"已经根据这份结果制定过计划（计划 #{plan_id}）",
        f"a plan was already made from this result (plan #{plan_id})",
    )


# ── the lead edits ──────────────────────────────────────────────────────────────────────


def _editable(session: Session, actor: User, plan_id: int) -> DevelopmentPlan:
    plan, allowed = get_for(session, actor, plan_id)
    if not allowed.edit:
        raise Forbidden("only the lead of the person's team edits this plan")
    return plan


def _updatable(session: Session, actor: User, plan_id: int) -> DevelopmentPlan:
    plan, allowed = get_for(session, actor, plan_id)
    if not allowed.update:
        raise Forbidden("only the person the plan is for updates its items")
    return plan


def _item(session: Session, plan: DevelopmentPlan, item_id: int) -> PlanItem:
    item = session.get(PlanItem, item_id)
    if item is None or item.plan_id != plan.id:
        raise NotFound("no such item in this plan")
    return item


def _check_note(note: str, field: str = "note") -> str:
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise PlanInvalid(
            field,
            f"备注有 {len(note)} 个字符，最多 {NOTE_MAX} 个",
            f"the note has {len(note)} characters; at most {NOTE_MAX} are allowed",
        )
    return note


def _touch(plan: DevelopmentPlan, item: PlanItem | None = None) -> None:
    now = utcnow()
    plan.updated_at = now
    if item is not None:
        item.updated_at = now


def update_plan(session: Session, actor: User, plan_id: int, title: str) -> DevelopmentPlan:
    plan = _editable(session, actor, plan_id)
    plan.title = _check_title(title)
    _touch(plan)
    session.flush()
    audit.plan_event(session, actor, "plan.changed", plan.id, plan.user_id, change="title")
    return plan


def add_item(
    session: Session,
    actor: User,
    plan_id: int,
    module_id: str,
    competency: str | None = None,
    due_date: date | None = None,
    note: str = "",
) -> PlanItem:
    """Add a catalogue module of the plan's rubric version, under one of its competencies
    (by default the module's competency with the plan's largest W_c·g_c)."""
    plan = _editable(session, actor, plan_id)
    rubric = rubric_service.get_version(session, plan.rubric_version)
    role = rubric.role(plan.role_id)
    module = next((m for m in rubric.modules if m.id == module_id), None)
    fitting = [c for c in module.competencies if c in role.targets] if module else []
    if module is None or not fitting:
        raise PlanInvalid(
            "module_id",
            f"该岗位的课程目录中没有模块 {module_id!r}",
            f"no module {module_id!r} in this role's catalogue",
        )
    if competency:
        if competency not in fitting:
            names = ", ".join(fitting)
            raise PlanInvalid(
                "competency",
                f"模块 {module_id!r} 针对的能力是 {names}，不是 {competency!r}",
                f"module {module_id!r} trains {names}, not {competency!r}",
            )
    else:
        ranked = [g.competency for g in gaps.gaps(role, baseline_levels(plan))]
        competency = min(fitting, key=lambda c: ranked.index(c) if c in ranked else len(ranked))
    note = _check_note(note)
    if session.scalar(
        select(PlanItem.id).where(PlanItem.plan_id == plan.id, PlanItem.module_id == module_id)
    ):
        raise _already_planned()
    last = session.scalar(
        select(PlanItem.position)
        .where(PlanItem.plan_id == plan.id)
        .order_by(PlanItem.position.desc())
        .limit(1)
    )
    now = utcnow()
    item = PlanItem(
        plan_id=plan.id,
        competency=competency,
        module_id=module_id,
        position=(last or 0) + 1,
        due_date=due_date,
        status=ItemStatus.PLANNED.value,
        owner_note=note,
        created_at=now,
        updated_at=now,
    )
    try:
        # Two leads adding the same module at once: the second gets the conflict, not a 500.
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:
        raise _already_planned() from None
    _touch(plan)
    session.flush()
    audit.plan_event(
        session, actor, "plan.changed", plan.id, plan.user_id, change="item_added", item=item.id
    )
    return item


def _already_planned() -> PlanConflict:
    return PlanConflict("module_id", "该模块已在计划中", "this module is already in the plan")


def update_item(
    session: Session,
    actor: User,
    plan_id: int,
    item_id: int,
    *,
    due_date: date | _Keep | None = KEEP,
    owner_note: str | _Keep = KEEP,
) -> PlanItem:
    """The lead sets an item's due date (None clears it) and note; KEEP leaves one as it is."""
    plan = _editable(session, actor, plan_id)
    item = _item(session, plan, item_id)
    if not isinstance(owner_note, _Keep):
        item.owner_note = _check_note(owner_note)
    if not isinstance(due_date, _Keep):
        item.due_date = due_date
    _touch(plan, item)
    session.flush()
    audit.plan_event(
        session, actor, "plan.changed", plan.id, plan.user_id, change="item_updated", item=item.id
    )
    return item


def remove_item(session: Session, actor: User, plan_id: int, item_id: int) -> None:
    plan = _editable(session, actor, plan_id)
    session.delete(_item(session, plan, item_id))
    _touch(plan)
    session.flush()
    audit.plan_event(
        session, actor, "plan.changed", plan.id, plan.user_id, change="item_removed", item=item_id
    )


# ── the person updates ──────────────────────────────────────────────────────────────────


def set_status(session: Session, actor: User, plan_id: int, item_id: int, status: str) -> PlanItem:
    plan = _updatable(session, actor, plan_id)
    item = _item(session, plan, item_id)
    try:
        new = ItemStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in ItemStatus)
        raise PlanInvalid(
            "status", f"状态须为 {known} 之一", f"status must be one of {known}, not {status!r}"
        ) from None
    if item.status != new:
        item.status = new.value
        item.done_at = utcnow() if new is ItemStatus.DONE else None
        _touch(plan, item)
        audit.plan_event(
            session,
            actor,
            "plan.changed",
            plan.id,
            plan.user_id,
            change="status",
            item=item.id,
            status=new.value,
        )
    session.flush()
    return item


def add_evidence(
    session: Session, actor: User, plan_id: int, item_id: int, text: str
) -> PlanEvidence:
    plan = _updatable(session, actor, plan_id)
    item = _item(session, plan, item_id)
    text = text.strip()
    if not 1 <= len(text) <= EVIDENCE_MAX:
        raise PlanInvalid(
            "text",
            f"请填写 1–{EVIDENCE_MAX} 个字符的学习记录",
            f"write an evidence note of 1–{EVIDENCE_MAX} characters",
        )
    note = PlanEvidence(item_id=item.id, author_id=actor.id, text=text, created_at=utcnow())
    session.add(note)
    _touch(plan, item)
    session.flush()
    audit.plan_event(
        session, actor, "plan.changed", plan.id, plan.user_id, change="evidence", item=item.id
    )
    return note
