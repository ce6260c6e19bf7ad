"""Reading plans: the list, the plan page with before/after, whom to plan for, team progress.

Who sees what follows `service.get_for`: the person, a lead of their team, HR; else NotFound.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.errors import NotFound
from app.plans import gaps, sources, views
from app.plans.models import DevelopmentPlan, ItemStatus, PlanEvidence, PlanItem, SourceKind
from app.plans.service import baseline_levels, get_for, is_hr, require_lead_or_hr, today
from app.plans.sources import Evidence
from app.rubrics import service as rubric_service
from app.rubrics.spec import RoleProfile, Rubric, Text


def _person(user: User) -> views.Person:
    return views.Person(user.id, user.name, user.email)


def _rubrics(session: Session, versions: Iterable[str]) -> dict[str, Rubric]:
    return {v: rubric_service.get_version(session, v) for v in set(versions)}


def _source_ref(
    kind: str, source_id: int, measured_at: datetime, name: str = ""
) -> views.SourceRef:
    label = views.SOURCE_LABELS.get(kind, views.t(kind, kind))
    return views.SourceRef(kind, source_id, measured_at, label, name)


def plan_title(plan: DevelopmentPlan) -> Text:
    if plan.title:
        return views.t(plan.title, plan.title)
    return views.t(f"发展计划 #{plan.id}", f"Development plan #{plan.id}")


def _hours(rubric: Rubric) -> dict[str, float]:
    return {m.id: m.hours for m in rubric.modules}


def _totals(items: Sequence[PlanItem], hours: Mapping[str, float], on: date) -> views.Totals:
    done = [i for i in items if i.status == ItemStatus.DONE]
    return views.Totals(
        items=len(items),
        done=len(done),
        in_progress=sum(1 for i in items if i.status == ItemStatus.IN_PROGRESS),
        overdue=sum(1 for i in items if _overdue(i, on)),
        hours=math.fsum(hours.get(i.module_id, 0.0) for i in items),
        done_hours=math.fsum(hours.get(i.module_id, 0.0) for i in done),
    )


def _overdue(item: PlanItem, on: date) -> bool:
    return item.status != ItemStatus.DONE and item.due_date is not None and item.due_date < on


def _items_of(session: Session, plan_ids: Sequence[int]) -> dict[int, list[PlanItem]]:
    found: dict[int, list[PlanItem]] = defaultdict(list)
    if plan_ids:
        for item in session.scalars(
            select(PlanItem)
            .where(PlanItem.plan_id.in_(plan_ids))
            .order_by(PlanItem.position, PlanItem.id)
        ):
            found[item.plan_id].append(item)
    return found


def list_plans(
    session: Session, actor: User, user_id: int | None = None, on: date | None = None
) -> list[views.PlanRow]:
    """The plans `actor` may see, newest first: HR all, a lead their teams', everyone theirs."""
    query = select(DevelopmentPlan, User).join(User, User.id == DevelopmentPlan.user_id)
    if not is_hr(actor):
        led = (
            sources.members_led_by(session, actor.id) if Role(actor.role) != Role.MEMBER else set()
        )
        query = query.where(DevelopmentPlan.user_id.in_({actor.id, *led}))
    if user_id is not None:
        query = query.where(DevelopmentPlan.user_id == user_id)
    rows = session.execute(
        query.order_by(DevelopmentPlan.created_at.desc(), DevelopmentPlan.id.desc())
    ).all()
    items = _items_of(session, [p.id for p, _ in rows])
    rubrics = _rubrics(session, (p.rubric_version for p, _ in rows))
    on = on or today()
    return [
        views.PlanRow(
            id=plan.id,
            title=plan_title(plan),
            person=_person(user),
            source=_source_ref(plan.source_kind, plan.source_id, plan.source_at),
            role_name=views.role_name(rubrics[plan.rubric_version], plan.role_id),
            created_at=plan.created_at,
            totals=_totals(items[plan.id], _hours(rubrics[plan.rubric_version]), on),
        )
        for plan, user in rows
    ]


def _latest_levels(
    newer: Sequence[Evidence],
) -> dict[str, tuple[float, Evidence]]:
    """Per competency, the level from the newest evidence that measured it."""
    latest: dict[str, tuple[float, Evidence]] = {}
    for evidence in newer:  # oldest first, so later ones overwrite
        for competency, level in evidence.levels.items():
            if level is not None:
                latest[competency] = (level, evidence)
    return latest


def _progress(
    rubric: Rubric,
    role: RoleProfile,
    plan: DevelopmentPlan,
    newer: Sequence[Evidence],
    planned: Sequence[str],
) -> tuple[views.ProgressRow, ...]:
    before = baseline_levels(plan)
    latest = _latest_levels(newer)
    order = {c: n for n, c in enumerate(planned)}
    rows = []
    for _, competency in rubric.competencies():
        if competency.id not in role.targets:
            continue
        after = latest.get(competency.id)
        if before.get(competency.id) is None and after is None:
            continue
        rows.append(
            views.ProgressRow(
                competency=competency.id,
                name=dict(competency.name),
                target=role.targets[competency.id].target,
                in_plan=competency.id in order,
                before=before.get(competency.id),
                after=None if after is None else after[0],
                after_source=None
                if after is None
                else _source_ref(
                    after[1].kind.value, after[1].id, after[1].measured_at, after[1].name
                ),
            )
        )
    # Planned competencies first, in the plan's order; the rest in rubric order.
    return tuple(
        sorted(rows, key=lambda r: (r.competency not in order, order.get(r.competency, 0)))
    )


def _evidence_notes(
    session: Session, item_ids: Sequence[int]
) -> dict[int, list[views.EvidenceNote]]:
    notes: dict[int, list[views.EvidenceNote]] = defaultdict(list)
    if item_ids:
        rows = session.execute(
            select(PlanEvidence, User.name)
            .outerjoin(User, User.id == PlanEvidence.author_id)
            .where(PlanEvidence.item_id.in_(item_ids))
            .order_by(PlanEvidence.created_at, PlanEvidence.id)
        )
        for note, author in rows:
            notes[note.item_id].append(
                views.EvidenceNote(note.id, note.text, author or "", note.created_at)
            )
    return notes


def _item_view(
    item: PlanItem, rubric: Rubric, notes: Sequence[views.EvidenceNote], on: date
) -> views.ItemView:
    return views.ItemView(
        id=item.id,
        competency=item.competency,
        module=views.module_view(rubric, item.module_id),
        position=item.position,
        due_date=item.due_date,
        status=item.status,
        status_label=views.STATUS_LABELS[item.status],
        owner_note=item.owner_note,
        evidence=tuple(notes),
        overdue=_overdue(item, on),
        updated_at=item.updated_at,
        done_at=item.done_at,
    )


def get_plan_view(
    session: Session, actor: User, plan_id: int, on: date | None = None
) -> views.PlanView:
    """The plan page: steps by W_c·g_c with their items, suggestions, and before/after."""
    plan, allowed = get_for(session, actor, plan_id)
    on = on or today()
    rubric = rubric_service.get_version(session, plan.rubric_version)
    role = rubric.role(plan.role_id)
    items = _items_of(session, [plan.id])[plan.id]
    notes = _evidence_notes(session, [i.id for i in items])
    levels = baseline_levels(plan)
    suggested = gaps.plan(rubric, role, levels, plan.hours_budget)
    in_plan = {i.module_id for i in items}
    by_competency: dict[str, list[PlanItem]] = defaultdict(list)
    for item in items:
        by_competency[item.competency].append(item)

    steps: list[views.StepView] = []
    for step in suggested.steps:
        deferred = [r.module for r in step.deferred if r.module not in in_plan]
        steps.append(_step(rubric, role, levels, step.gap.competency, by_competency, notes, on))
        steps[-1] = replace(
            steps[-1],
            suggested=tuple(views.module_view(rubric, m) for m in deferred),
            uncovered_from=step.uncovered_from,
        )
    # Modules the lead added for competencies without a gap come after the gaps.
    gap_competencies = {s.competency for s in steps}
    for _, competency in rubric.competencies():
        if (
            by_competency.get(competency.id)
            and competency.id in role.targets
            and competency.id not in gap_competencies
        ):
            steps.append(_step(rubric, role, levels, competency.id, by_competency, notes, on))
    planned = [s.competency for s in steps]
    person = session.get(User, plan.user_id)
    assert person is not None  # the plan row cascades with its user
    creator = session.get(User, plan.created_by_id) if plan.created_by_id else None
    newer = sources.newer_evidence(session, person, plan.source_at)
    addable = [
        views.catalogue_module(rubric, m)
        for m in rubric.modules
        if m.id not in in_plan and any(c in role.targets for c in m.competencies)
    ]
    return views.PlanView(
        id=plan.id,
        title=plan_title(plan),
        custom_title=plan.title,
        person=_person(person),
        source=_source_ref(
            plan.source_kind, plan.source_id, plan.source_at, _source_name(session, plan)
        ),
        rubric_id=plan.rubric_id,
        rubric_version=plan.rubric_version,
        role_id=plan.role_id,
        role_name=views.role_name(rubric, plan.role_id),
        hours_budget=plan.hours_budget,
        created_at=plan.created_at,
        created_by=creator.name if creator else "",
        steps=tuple(steps),
        not_assessed=tuple(views.competency_name(rubric, c) for c in suggested.not_assessed),
        progress=_progress(rubric, role, plan, newer, planned),
        has_newer=bool(newer),
        totals=_totals(items, _hours(rubric), on),
        can_edit=allowed.edit,
        can_update=allowed.update,
        addable=tuple(addable),
        competencies=tuple(
            (c.id, dict(c.name)) for _, c in rubric.competencies() if c.id in role.targets
        ),
    )


def _source_name(session: Session, plan: DevelopmentPlan) -> str:
    if plan.source_kind != SourceKind.REVIEW:
        return ""
    evidence = sources.review_evidence(session, plan.source_id)
    return evidence.name if evidence else ""


def _step(
    rubric: Rubric,
    role: RoleProfile,
    levels: Mapping[str, float | None],
    competency: str,
    items: Mapping[str, Sequence[PlanItem]],
    notes: Mapping[int, Sequence[views.EvidenceNote]],
    on: date,
) -> views.StepView:
    target = role.targets[competency]
    level = levels.get(competency)
    gap = gaps.Gap(
        competency, target.target if level is None else level, target.target, target.weight
    )
    return views.StepView(
        competency=competency,
        name=views.competency_name(rubric, competency),
        level=level,
        target=target.target,
        weight=target.weight,
        gap=gap.size,
        priority=gap.priority,
        items=tuple(
            _item_view(i, rubric, notes.get(i.id, ()), on) for i in items.get(competency, ())
        ),
        suggested=(),
        uncovered_from=None,
    )


def planning(session: Session, actor: User, user_id: int | None = None) -> views.Planning:
    """Whom `actor` may plan for (HR: every active user; a lead: their teams' members) and,
    for `user_id`, the evidence a plan can be made from."""
    require_lead_or_hr(actor)
    if is_hr(actor):
        query = select(User).where(User.is_active.is_(True))
    else:
        query = select(User).where(User.id.in_(sources.members_led_by(session, actor.id)))
    people = [_person(u) for u in session.scalars(query.order_by(User.name, User.id))]
    if user_id is None:
        return views.Planning(tuple(people), None, ())
    person = next((p for p in people if p.id == user_id), None)
    user = session.get(User, user_id)
    if person is None or user is None:
        raise NotFound("no such person")
    found = sources.evidence_of(session, user)
    planned = {
        (kind, source_id): plan_id
        for kind, source_id, plan_id in session.execute(
            select(
                DevelopmentPlan.source_kind, DevelopmentPlan.source_id, DevelopmentPlan.id
            ).where(DevelopmentPlan.user_id == user_id)
        )
    }
    rubrics = _rubrics(session, (e.rubric_version for e in found))
    options = [
        views.SourceOption(
            source=_source_ref(e.kind.value, e.id, e.measured_at, e.name),
            final=e.final,
            role_name=views.role_name(rubrics[e.rubric_version], e.role_id),
            plan_id=planned.get((e.kind.value, e.id)),
        )
        for e in reversed(found)
    ]
    return views.Planning(tuple(people), person, tuple(options))


# ── the team view ───────────────────────────────────────────────────────────────────────


def list_teams(session: Session, actor: User) -> list[views.TeamRef]:
    """Teams whose progress `actor` may see: HR all, a lead the teams they lead."""
    if is_hr(actor):
        found = sources.teams(session)
    elif Role(actor.role) is Role.MEMBER:
        found = []
    else:
        found = sources.teams(session, lead_id=actor.id)
    return [views.TeamRef(team.id, team.name) for team in found]


def _below_target(
    rubric: Rubric, plan: DevelopmentPlan, latest: Mapping[str, tuple[float, Evidence]]
) -> tuple[views.BelowTarget, ...]:
    """The plan's gap competencies whose newest level is still more than MIN_GAP short."""
    found = []
    for competency, data in plan.baseline.items():
        level, target = data.get("level"), float(data["target"])
        if level is None or target - level <= gaps.MIN_GAP:
            continue
        if competency in latest:
            level = latest[competency][0]
        if target - level > gaps.MIN_GAP:
            found.append(
                views.BelowTarget(
                    competency, views.competency_name(rubric, competency), level, target
                )
            )
    return tuple(found)


def team_view(
    session: Session, actor: User, team_id: int, on: date | None = None
) -> views.TeamView:
    """Per member: each plan's completion, overdue items and competencies still below target."""
    require_lead_or_hr(actor)
    team = sources.get_team(session, team_id)
    if team is None or not (is_hr(actor) or team.lead_id == actor.id):
        raise NotFound("no such team")
    on = on or today()
    lead = session.get(User, team.lead_id)
    members = sources.team_members(session, team_id)
    plans = list(
        session.scalars(
            select(DevelopmentPlan)
            .where(DevelopmentPlan.user_id.in_([m.id for m in members]))
            .order_by(DevelopmentPlan.created_at.desc(), DevelopmentPlan.id.desc())
        )
    )
    items = _items_of(session, [p.id for p in plans])
    rubrics = _rubrics(session, (p.rubric_version for p in plans))
    rows: list[views.MemberProgress] = []
    progress_totals: list[views.Totals] = []
    below: dict[str, set[int]] = defaultdict(set)
    names: dict[str, Text] = {}
    for member in members:
        own = [p for p in plans if p.user_id == member.id]
        newer_all = sources.evidence_of(session, member) if own else []
        progress = []
        for plan in own:
            rubric = rubrics[plan.rubric_version]
            newer = [e for e in newer_all if e.final and e.measured_at > plan.source_at]
            still = _below_target(rubric, plan, _latest_levels(newer))
            for entry in still:
                below[entry.competency].add(member.id)
                names[entry.competency] = entry.name
            plan_items = items[plan.id]
            totals = _totals(plan_items, _hours(rubric), on)
            progress_totals.append(totals)
            progress.append(
                views.PlanProgress(
                    plan_id=plan.id,
                    title=plan_title(plan),
                    created_at=plan.created_at,
                    totals=totals,
                    overdue=tuple(
                        views.OverdueItem(
                            i.id, views.module_view(rubric, i.module_id).title, i.due_date
                        )
                        for i in plan_items
                        if _overdue(i, on) and i.due_date is not None
                    ),
                    below_target=still,
                )
            )
        rows.append(views.MemberProgress(_person(member), tuple(progress)))
    counts = sorted(
        (views.CompetencyCount(c, names[c], len(people)) for c, people in below.items()),
        key=lambda c: (-c.count, c.competency),
    )
    return views.TeamView(
        id=team.id,
        name=team.name,
        lead_name=lead.name if lead else "",
        members=tuple(rows),
        totals=_sum(progress_totals),
        below_target=tuple(counts),
    )


def _sum(totals: Sequence[views.Totals]) -> views.Totals:
    return views.Totals(
        items=sum(t.items for t in totals),
        done=sum(t.done for t in totals),
        in_progress=sum(t.in_progress for t in totals),
        overdue=sum(t.overdue for t in totals),
        hours=math.fsum(t.hours for t in totals),
        done_hours=math.fsum(t.done_hours for t in totals),
    )
