"""A person's competency levels over time: released 360 reviews and scored hiring assessments.

A staff account and a hiring candidate are the same person when their emails match
(case-insensitively; anonymised candidates never match). Hiring results are read from the
assessment tables directly, read-only, because the assessments service has no such query yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.assessments.models import Assessment, AssessmentResult, Candidate
from app.db import utcnow
from app.errors import NotFound
from app.reviews import briefs, closing, views
from app.reviews.common import CycleStatus, is_hr, role_name, t
from app.reviews.models import ReviewCycle, ReviewRatee, ReviewResult, Team, TeamMember
from app.rubrics.spec import Rubric

SCORED = "scored"
MATCH_NOTE = t(
    "招聘测评按邮箱与本人账号匹配（不区分大小写），只计入已完成评分的测评；360 评估取“他评”等级。",
    "Hiring assessments are matched to this account by email (case-insensitive), scored ones "
    "only; a 360 review contributes its Others level.",
)


def leads_of(session: Session, user_id: int) -> set[int]:
    """The leads of every team `user_id` belongs to (never the person themself)."""
    leads = session.scalars(
        select(Team.lead_id)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user_id)
    )
    return {lead for lead in leads if lead != user_id}


def _may_see(session: Session, viewer: User, user_id: int) -> bool:
    return viewer.id == user_id or is_hr(viewer) or viewer.id in leads_of(session, user_id)


def _points(
    kind: views.TrendSourceKind,
    source: views.TrendSource,
    data: Mapping[str, Any],
    key: str,
) -> dict[str, views.TrendPoint]:
    points = {}
    for competency_id, entry in data.get("competencies", {}).items():
        level = entry.get(key)
        if level is None:
            continue
        points[competency_id] = views.TrendPoint(
            kind=kind,
            source_id=source.id,
            at=source.at,
            label=source.label,
            level=float(level),
            target=entry.get("target"),
            rubric_version=source.rubric_version,
        )
    return points


def person_trend(session: Session, viewer: User, user_id: int) -> views.PersonTrend:
    """Per competency, the person's levels oldest first, each with its source and rubric version.

    For the person, the leads of their teams and HR; anyone else gets NotFound.
    """
    person = session.get(User, user_id)
    if person is None or not _may_see(session, viewer, user_id):
        raise NotFound("no such person")
    now = utcnow()
    reviewed = (
        select(ReviewCycle)
        .join(ReviewRatee, ReviewRatee.cycle_id == ReviewCycle.id)
        .where(ReviewRatee.user_id == user_id)
    )
    closing.close_due_cycles(
        session,
        now,
        [c.id for c in session.scalars(reviewed) if c.status == CycleStatus.OPEN.value],
    )
    reviews = session.execute(
        select(ReviewCycle, ReviewResult)
        .join(ReviewRatee, ReviewRatee.cycle_id == ReviewCycle.id)
        .join(ReviewResult, ReviewResult.ratee_id == ReviewRatee.id)
        .where(ReviewRatee.user_id == user_id, ReviewCycle.status == CycleStatus.RELEASED.value)
    ).all()
    hiring = session.execute(
        select(Assessment, AssessmentResult)
        .join(AssessmentResult, AssessmentResult.assessment_id == Assessment.id)
        .join(Candidate, Candidate.id == Assessment.candidate_id)
        .where(
            func.lower(Candidate.email) == person.email.strip().lower(),
            Candidate.anonymised_at.is_(None),
            Assessment.status == SCORED,
            AssessmentResult.final.is_(True),
        )
    ).all()
    pinned = briefs.rubrics(
        session,
        [r.rubric_version for _, r in reviews] + [r.rubric_version for _, r in hiring],
    )

    found: list[tuple[views.TrendSource, dict[str, views.TrendPoint]]] = []
    for cycle, stored in reviews:
        at: datetime = cycle.closed_at or stored.computed_at
        source = views.TrendSource(
            kind="review",
            id=cycle.id,
            at=at,
            label=t(f"360 评估：{cycle.name}", f"360 review: {cycle.name}"),
            role_id=cycle.role_id,
            role_name=role_name(pinned[stored.rubric_version], cycle.role_id),
            rubric_id=cycle.rubric_id,
            rubric_version=stored.rubric_version,
        )
        found.append((source, _points("review", source, stored.result, "others")))
    for assessment, stored_result in hiring:
        name = role_name(pinned[stored_result.rubric_version], assessment.role_id)
        source = views.TrendSource(
            kind="assessment",
            id=assessment.id,
            at=assessment.scored_at or assessment.submitted_at or stored_result.computed_at,
            label=t(
                f"招聘测评：{name.get('zh', assessment.role_id)}",
                f"Hiring assessment: {name.get('en', assessment.role_id)}",
            ),
            role_id=assessment.role_id,
            role_name=name,
            rubric_id=assessment.rubric_id,
            rubric_version=stored_result.rubric_version,
        )
        found.append((source, _points("assessment", source, stored_result.result, "level")))
    found.sort(key=lambda pair: (pair[0].at, pair[0].kind, pair[0].id))

    by_competency: defaultdict[str, list[views.TrendPoint]] = defaultdict(list)
    for _, points in found:
        for competency_id, point in points.items():
            by_competency[competency_id].append(point)
    # Names and order from the newest rubric version that has each competency.
    newest: list[Rubric] = [pinned[s.rubric_version] for s, _ in reversed(found)]
    order = [c.id for rubric in newest for _, c in rubric.competencies()]
    ranked = {cid: n for n, cid in reversed(list(enumerate(order)))}

    def name_of(competency_id: str) -> dict[str, str]:
        for rubric in newest:
            if competency_id in rubric.competency_index():
                return dict(rubric.competency(competency_id).name)
        return t(competency_id, competency_id)

    return views.PersonTrend(
        person=views.PersonBrief(person.id, person.name),
        sources=tuple(source for source, _ in found),
        competencies=tuple(
            views.CompetencyTrend(cid, name_of(cid), tuple(by_competency[cid]))
            for cid in sorted(by_competency, key=lambda c: (ranked.get(c, len(ranked)), c))
        ),
        note=MATCH_NOTE,
    )
