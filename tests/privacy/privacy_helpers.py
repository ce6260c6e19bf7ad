"""Data for the privacy tests: one staff member with everything a person can have on record
(a released 360 review of them, ratings they gave, a plan, practice, work-sample ratings),
and candidates at each stage of an assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.assessments import service as assessment_service
from app.assessments.models import Assessment, AssessmentResult, Candidate
from app.assessments.states import Status, transition
from app.config import Settings
from app.db import utcnow
from app.plans import practice_service
from app.plans import service as plan_service
from app.plans.models import PlanItem
from app.privacy.models import AuditEvent
from app.reviews import service as review_service
from app.reviews.models import ReviewRatee, ReviewResult
from app.rubrics import service as rubric_service
from tests.assessments.staff_helpers import (
    answer_all,
    levels,
    make_assessment,
    make_candidate,
    submit,
    work_samples,
)
from tests.reviews.review_helpers import MakeUser, Team, make_team, open_cycle, rate

PEER_NAMES = ["欧阳知秋", "司马青衫", "上官晓月"]
CONTENT = "content_creation"
SELF_COMMENT = "我在内容策划上还需要练习"
ANNA_ABOUT_SUN = "孙二的选题很有想法"
ANNA_RATING_NOTE = "安娜的评分备注：标题有冲突感"
EVIDENCE = "完成了数据分析课程的作业"
LEAD_NOTE = "多跟王主管复盘数据"
ANSWER_TEXT = "熬夜急救面膜｜加班到凌晨脸垮了？"


@dataclass
class Reviewed:
    """Anna (member 0), reviewed by herself, the lead and three peers; she in turn rated Sun
    (member 4) as a peer, and rated a candidate's work samples."""

    team: Team
    anna: User
    peers: list[User]
    sun: User
    cycle_id: int
    anna_ratee_id: int
    sun_ratee_id: int
    plan_id: int
    practice_id: int
    rated_assessment: Assessment

    def peer_secrets(self) -> list[str]:
        """What would identify one of Anna's peer raters: names, emails, the opaque rater keys."""
        return [*(p.name for p in self.peers), *(p.email for p in self.peers), "request-"]


def _ratee_id(db: Session, cycle_id: int, user: User) -> int:
    found = db.scalar(
        select(ReviewRatee.id).where(
            ReviewRatee.cycle_id == cycle_id, ReviewRatee.user_id == user.id
        )
    )
    assert found is not None
    return found


def reviewed(db: Session, settings: Settings, make_user: MakeUser) -> Reviewed:
    team = make_team(db, settings, make_user, names=["李安娜", *PEER_NAMES, "孙二"])
    anna, peers, sun = team.member(0), team.members[1:4], team.member(4)
    specs = [
        review_service.RateeSpec(anna.id, peer_ids=tuple(p.id for p in peers)),
        review_service.RateeSpec(sun.id, peer_ids=(anna.id, peers[1].id, peers[2].id)),
    ]
    cycle_id = open_cycle(db, settings, team, specs).cycle.id
    rate(db, settings, cycle_id, anna, anna, 4, comment={CONTENT: SELF_COMMENT})
    rate(db, settings, cycle_id, anna, team.lead, 2, comment={CONTENT: "上级评语"})
    for n, peer in enumerate(peers):
        rate(db, settings, cycle_id, anna, peer, 1 + n, comment={CONTENT: f"同事评语{n}"})
    rate(db, settings, cycle_id, sun, sun, 3)
    rate(db, settings, cycle_id, sun, team.lead, 3)
    rate(db, settings, cycle_id, sun, anna, 4, comment={CONTENT: ANNA_ABOUT_SUN})
    for peer in peers[1:]:
        rate(db, settings, cycle_id, sun, peer, 3)
    review_service.close_cycle(db, team.lead, cycle_id)
    anna_ratee = _ratee_id(db, cycle_id, anna)

    plan = plan_service.create_plan(db, team.lead, "review", anna_ratee, title="安娜的成长计划")
    item_id = db.scalar(
        select(PlanItem.id).where(PlanItem.plan_id == plan.id).order_by(PlanItem.position).limit(1)
    )
    assert item_id is not None
    plan_service.update_item(db, team.lead, plan.id, item_id, owner_note=LEAD_NOTE)
    plan_service.add_evidence(db, anna, plan.id, item_id, EVIDENCE)
    run = practice_service.start(db, anna, settings, "data_analysis")
    first = rubric_service.get_version(db, run.rubric_version).item_index()[run.item_ids[0]]
    practice_service.answer(db, anna, run.id, first.id, [first.options[0].id])

    rated = rated_by(db, team.hr, settings, anna)
    return Reviewed(
        team=team,
        anna=anna,
        peers=list(peers),
        sun=sun,
        cycle_id=cycle_id,
        anna_ratee_id=anna_ratee,
        sun_ratee_id=_ratee_id(db, cycle_id, sun),
        plan_id=plan.id,
        practice_id=run.id,
        rated_assessment=rated,
    )


def rated_by(db: Session, hr: User, settings: Settings, rater: User) -> Assessment:
    """A submitted assessment whose work samples `rater` rated (with a note): final result."""
    candidate = make_candidate(db, hr, name="赵候选")
    assessment, _ = make_assessment(db, hr, settings, candidate=candidate)
    answer_all(db, assessment, text=ANSWER_TEXT)
    submit(db, assessment)
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    for item_id in work_samples(db, assessment):
        assessment_service.save_rating(
            db, rater, assessment.id, item_id, levels(db, assessment, item_id, -1), ANNA_RATING_NOTE
        )
    return assessment


def scored(
    db: Session, hr: User, settings: Settings, *, name: str = "张伟", email: str | None = None
) -> Assessment:
    """A candidate's assessment, submitted and rated by `hr` with a note: final result."""
    candidate = make_candidate(db, hr, name=name, email=email)
    assessment, _ = make_assessment(db, hr, settings, candidate=candidate)
    answer_all(db, assessment, text=ANSWER_TEXT)
    submit(db, assessment)
    assessment_service.assign_rater(db, hr, assessment.id, hr.id)
    for item_id in work_samples(db, assessment):
        assessment_service.save_rating(
            db, hr, assessment.id, item_id, levels(db, assessment, item_id, 0), "评分备注"
        )
    return assessment


def started(db: Session, hr: User, settings: Settings, candidate: Candidate) -> Assessment:
    assessment, _ = make_assessment(db, hr, settings, candidate=candidate)
    assessment.status = transition(assessment.status, Status.IN_PROGRESS)
    assessment.started_at = utcnow()
    db.flush()
    return assessment


def candidate_of(db: Session, assessment: Assessment) -> Candidate:
    found = db.get(Candidate, assessment.candidate_id)
    assert found is not None
    return found


def stored_result(db: Session, assessment_id: int) -> dict[str, Any]:
    stored = db.get(AssessmentResult, assessment_id)
    assert stored is not None
    db.refresh(stored)
    return {
        "overall_level": stored.overall_level,
        "fit": stored.fit,
        "final": stored.final,
        "result": stored.result,
    }


def review_result(db: Session, ratee_id: int) -> dict[str, Any]:
    stored = db.get(ReviewResult, ratee_id)
    assert stored is not None
    db.refresh(stored)
    return dict(stored.result)


def events(db: Session, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query))


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)
