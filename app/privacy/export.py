"""One person's data export: everything stored about them under one email, as JSON-ready dicts.

Peer (and direct-report) ratings about a person appear only inside the released result, as
the anonymous aggregate the review rules allow; no rater of theirs other than themself is
named, and no raw rating of anyone else about them is included. Candidates see their raters
as "rater 1", "rater 2"… per assessment.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import ApiToken, LoginAttempt, User, WebSession
from app.assessments.candidate import CONSENT
from app.assessments.models import Answer, AssessmentResult, Candidate, Rating
from app.plans.models import (
    DevelopmentPlan,
    PlanEvidence,
    PlanItem,
    PracticeAnswer,
    PracticeSession,
)
from app.privacy.audit import Person
from app.privacy.models import AuditEvent
from app.privacy.people import Records, assessments_of
from app.reviews.models import (
    ReviewAnswer,
    ReviewCycle,
    ReviewRatee,
    ReviewRequest,
    ReviewResult,
    Team,
    TeamMember,
)

FORMAT = "yardstick-person-export/1"
SELF = "self"


def _iso(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def export(session: Session, records: Records, now: datetime) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "exported_at": _iso(now),
        "email": records.email,
        "staff_user": None if records.user is None else _staff(session, records.user),
        "candidates": [_candidate(session, c) for c in records.candidates],
    }


# ── staff ───────────────────────────────────────────────────────────────────────────────


def _staff(session: Session, user: User) -> dict[str, Any]:
    return {
        "account": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "active": user.is_active,
            "language": user.language,
            "created_at": _iso(user.created_at),
        },
        "sessions": [
            {
                "created_at": _iso(s.created_at),
                "last_seen_at": _iso(s.last_seen_at),
                "expires_at": _iso(s.expires_at),
                "revoked_at": _iso(s.revoked_at),
            }
            for s in session.scalars(
                select(WebSession)
                .where(WebSession.user_id == user.id)
                .order_by(WebSession.created_at)
            )
        ],
        "api_tokens": [
            {
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
            )
        ],
        "sign_in_attempts": [
            {"at": _iso(a.created_at), "address": a.address, "succeeded": a.succeeded}
            for a in session.scalars(
                select(LoginAttempt)
                .where(LoginAttempt.email == user.email)
                .order_by(LoginAttempt.created_at, LoginAttempt.id)
            )
        ],
        "teams": _teams(session, user),
        "reviews_of_me": _reviews_of(session, user),
        "ratings_given": {
            "reviews": _review_ratings_given(session, user),
            "work_samples": [
                {
                    "assessment_id": r.assessment_id,
                    "item_id": r.item_id,
                    "criteria": dict(r.criteria),
                    "note": r.note,
                    "adjudication": r.adjudication,
                    "rated_at": _iso(r.rated_at),
                }
                for r in session.scalars(
                    select(Rating).where(Rating.rater_id == user.id).order_by(Rating.id)
                )
            ],
        },
        "plans": _plans(session, user),
        "practice": _practice(session, user),
        "audit": _audit(session, Person("user", user.id)),
    }


def _teams(session: Session, user: User) -> list[dict[str, Any]]:
    found = [
        {
            "team_id": team.id,
            "team": team.name,
            "member_role": member.role_id,
            "joined_at": _iso(member.joined_at),
            "leads_team": team.lead_id == user.id,
        }
        for member, team in session.execute(
            select(TeamMember, Team)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.user_id == user.id)
            .order_by(Team.id)
        )
    ]
    member_of = {entry["team_id"] for entry in found}
    found += [
        {
            "team_id": t.id,
            "team": t.name,
            "member_role": None,
            "joined_at": None,
            "leads_team": True,
        }
        for t in session.scalars(select(Team).where(Team.lead_id == user.id).order_by(Team.id))
        if t.id not in member_of
    ]
    return found


def _answers(session: Session, request_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    if not request_ids:
        return found
    for answer in session.scalars(
        select(ReviewAnswer)
        .where(ReviewAnswer.request_id.in_(request_ids))
        .order_by(ReviewAnswer.request_id, ReviewAnswer.competency_id)
    ):
        found[answer.request_id].append(
            {
                "competency": answer.competency_id,
                "level": answer.level,
                "not_observed": answer.not_observed,
                "comment": answer.comment,
                "saved_at": _iso(answer.saved_at),
            }
        )
    return found


def _reviews_of(session: Session, user: User) -> list[dict[str, Any]]:
    """Each cycle that reviewed `user`: their own self-rating and the released aggregate."""
    rows = session.execute(
        select(ReviewRatee, ReviewCycle, ReviewResult)
        .join(ReviewCycle, ReviewCycle.id == ReviewRatee.cycle_id)
        .outerjoin(ReviewResult, ReviewResult.ratee_id == ReviewRatee.id)
        .where(ReviewRatee.user_id == user.id)
        .order_by(ReviewCycle.id)
    ).all()
    own = {
        request.ratee_id: request
        for request in session.scalars(
            select(ReviewRequest).where(
                ReviewRequest.ratee_id.in_([ratee.id for ratee, _, _ in rows]),
                ReviewRequest.rater_id == user.id,
                ReviewRequest.group == SELF,
            )
        )
    }
    answers = _answers(session, [r.id for r in own.values()])
    found = []
    for ratee, cycle, result in rows:
        request = own.get(ratee.id)
        found.append(
            {
                "cycle_id": cycle.id,
                "cycle": cycle.name,
                "status": cycle.status,
                "due_at": _iso(cycle.due_at),
                "closed_at": _iso(cycle.closed_at),
                "role_id": cycle.role_id,
                "self_rating": None
                if request is None
                else {
                    "submitted_at": _iso(request.submitted_at),
                    "answers": answers.get(request.id, []),
                },
                # The stored result is the anonymised aggregate: group means over raters who
                # are never listed, withheld groups left out, comments without names.
                "released_result": None if result is None else result.result,
            }
        )
    return found


def _review_ratings_given(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ReviewRequest, ReviewCycle, User)
        .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
        .join(ReviewCycle, ReviewCycle.id == ReviewRatee.cycle_id)
        .join(User, User.id == ReviewRatee.user_id)
        .where(ReviewRequest.rater_id == user.id, ReviewRequest.group != SELF)
        .order_by(ReviewCycle.id, ReviewRequest.id)
    ).all()
    answers = _answers(session, [request.id for request, _, _ in rows])
    return [
        {
            "cycle_id": cycle.id,
            "cycle": cycle.name,
            "ratee": {"id": ratee.id, "name": ratee.name},
            "group": request.group,
            "status": request.status,
            "submitted_at": _iso(request.submitted_at),
            "answers": answers.get(request.id, []),
        }
        for request, cycle, ratee in rows
    ]


def _plans(session: Session, user: User) -> list[dict[str, Any]]:
    plans = list(
        session.scalars(
            select(DevelopmentPlan)
            .where(DevelopmentPlan.user_id == user.id)
            .order_by(DevelopmentPlan.id)
        )
    )
    items: defaultdict[int, list[PlanItem]] = defaultdict(list)
    evidence: defaultdict[int, list[PlanEvidence]] = defaultdict(list)
    if plans:
        for item in session.scalars(
            select(PlanItem)
            .where(PlanItem.plan_id.in_([p.id for p in plans]))
            .order_by(PlanItem.position, PlanItem.id)
        ):
            items[item.plan_id].append(item)
        item_ids = [i.id for found in items.values() for i in found]
        if item_ids:
            for note in session.scalars(
                select(PlanEvidence)
                .where(PlanEvidence.item_id.in_(item_ids))
                .order_by(PlanEvidence.created_at, PlanEvidence.id)
            ):
                evidence[note.item_id].append(note)
    return [
        {
            "id": plan.id,
            "title": plan.title,
            "source": {"kind": plan.source_kind, "id": plan.source_id, "at": _iso(plan.source_at)},
            "rubric_id": plan.rubric_id,
            "rubric_version": plan.rubric_version,
            "role_id": plan.role_id,
            "baseline": plan.baseline,
            "hours_budget": plan.hours_budget,
            "created_at": _iso(plan.created_at),
            "updated_at": _iso(plan.updated_at),
            "items": [
                {
                    "module_id": item.module_id,
                    "competency": item.competency,
                    "status": item.status,
                    "due_date": _iso(item.due_date),
                    "note": item.owner_note,
                    "done_at": _iso(item.done_at),
                    "evidence": [
                        {"text": e.text, "created_at": _iso(e.created_at)}
                        for e in evidence[item.id]
                    ],
                }
                for item in items[plan.id]
            ],
        }
        for plan in plans
    ]


def _practice(session: Session, user: User) -> list[dict[str, Any]]:
    sittings = list(
        session.scalars(
            select(PracticeSession)
            .where(PracticeSession.user_id == user.id)
            .order_by(PracticeSession.started_at, PracticeSession.id)
        )
    )
    answers: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    if sittings:
        for answer in session.scalars(
            select(PracticeAnswer)
            .where(PracticeAnswer.session_id.in_([s.id for s in sittings]))
            .order_by(PracticeAnswer.answered_at, PracticeAnswer.id)
        ):
            answers[answer.session_id].append(
                {
                    "item_id": answer.item_id,
                    "selected": list(answer.selected),
                    "points": answer.points,
                    "fraction": answer.fraction,
                    "answered_at": _iso(answer.answered_at),
                }
            )
    return [
        {
            "id": s.id,
            "competency": s.competency,
            "rubric_version": s.rubric_version,
            "started_at": _iso(s.started_at),
            "finished_at": _iso(s.finished_at),
            "answers": answers[s.id],
        }
        for s in sittings
    ]


# ── candidates ──────────────────────────────────────────────────────────────────────────


def _candidate(session: Session, candidate: Candidate) -> dict[str, Any]:
    assessments = assessments_of(session, [candidate.id])
    ids = [a.id for a in assessments]
    answers: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    ratings: defaultdict[int, list[Rating]] = defaultdict(list)
    results: dict[int, AssessmentResult] = {}
    if ids:
        for answer in session.scalars(
            select(Answer).where(Answer.assessment_id.in_(ids)).order_by(Answer.id)
        ):
            answers[answer.assessment_id].append(
                {
                    "item_id": answer.item_id,
                    "selected": answer.selected,
                    "text": answer.text,
                    "saved_at": _iso(answer.saved_at),
                }
            )
        for rating in session.scalars(
            select(Rating).where(Rating.assessment_id.in_(ids)).order_by(Rating.rated_at, Rating.id)
        ):
            ratings[rating.assessment_id].append(rating)
        results = {
            r.assessment_id: r
            for r in session.scalars(
                select(AssessmentResult).where(AssessmentResult.assessment_id.in_(ids))
            )
        }
    return {
        "candidate": {
            "id": candidate.id,
            "name": candidate.name,
            "email": candidate.email,
            "note": candidate.note,
            "created_at": _iso(candidate.created_at),
            "anonymised_at": _iso(candidate.anonymised_at),
        },
        "assessments": [
            {
                "id": a.id,
                "rubric_id": a.rubric_id,
                "rubric_version": a.rubric_version,
                "role_id": a.role_id,
                "status": a.status,
                "invitation": {
                    "created_at": _iso(a.created_at),
                    "link_issued_at": _iso(a.token_issued_at),
                    "link_expires_at": _iso(a.link_expires_at),
                    "revoked_at": _iso(a.revoked_at),
                    "time_limit_minutes": a.time_limit_minutes,
                },
                # Starting a sitting requires agreeing to this text; the start is the consent.
                "consent": {
                    "given": a.started_at is not None,
                    "given_at": _iso(a.started_at),
                    "text": dict(CONSENT),
                },
                "started_at": _iso(a.started_at),
                "deadline_at": _iso(a.deadline_at),
                "submitted_at": _iso(a.submitted_at),
                "scored_at": _iso(a.scored_at),
                "feedback_report_allowed": a.candidate_feedback,
                "answers": answers[a.id],
                "result": _result(results.get(a.id)),
                "rater_notes": _rater_notes(ratings[a.id]),
            }
            for a in assessments
        ],
        "audit": _audit(session, Person("candidate", candidate.id)),
    }


def _result(stored: AssessmentResult | None) -> dict[str, Any] | None:
    if stored is None:
        return None
    return {
        "final": stored.final,
        "overall_level": stored.overall_level,
        "fit": stored.fit,
        "recommendation": stored.recommendation,
        "computed_at": _iso(stored.computed_at),
        "detail": stored.result,
    }


def _rater_notes(ratings: list[Rating]) -> list[dict[str, Any]]:
    numbers: dict[int, int] = {}
    found = []
    for rating in ratings:
        number = numbers.setdefault(rating.rater_id, len(numbers) + 1)
        found.append(
            {
                "rater": f"rater {number}",
                "item_id": rating.item_id,
                "criteria": dict(rating.criteria),
                "note": rating.note,
                "adjudication": rating.adjudication,
                "rated_at": _iso(rating.rated_at),
            }
        )
    return found


# ── the audit log ───────────────────────────────────────────────────────────────────────


def _audit(session: Session, person: Person) -> list[dict[str, Any]]:
    """Who viewed or changed what about this person. Review ratings are logged against the
    rater, never the person rated, so nothing here names a rater of theirs."""
    return [
        {
            "at": _iso(event.at),
            "action": event.action,
            "actor": event.actor_label if name is None else f"{name} ({event.actor_label})",
            "object_type": event.object_type,
            "object_id": event.object_id,
            "detail": event.detail,
        }
        for event, name in session.execute(
            select(AuditEvent, User.name)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.subject_kind == person.kind, AuditEvent.subject_id == person.id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    ]
