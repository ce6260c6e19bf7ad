"""Erasing one person: personal fields and free text go, the numbers others rely on stay.

What stays, and why:

- Rows are anonymised, not deleted. A staff user's ratings of others (work-sample levels,
  360 levels) keep pointing at the same, now anonymous, account row: deleting the row would
  cascade to those ratings and change other people's scores, campaign and cycle agreement.
  A candidate's stored result keeps its numbers, so campaign statistics do not move.
- Released 360 results are stored aggregates, frozen when the cycle closed. Other people's
  released results are left exactly as they were released (their figures and their
  anonymous comments, which carry no link to who wrote them); only the raw comments the
  erased person wrote are removed. The erased person's own released result keeps its
  figures and loses its comments.
- Free text is removed: answers (all of a candidate's answers are deleted; the stored result
  already holds the scores), rater notes about a candidate, 360 comments by or about the
  person, plan titles, notes and evidence, and practice history.
- Access ends: the account is deactivated with an unusable password, its sessions and API
  tokens revoked; a candidate's invite links stop working.

Refused, with nothing changed, while an assessment of the person is invited or in progress,
or a review cycle reviewing them is still open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import ApiToken, LoginAttempt, User
from app.assessments.models import Answer, Candidate, Rating
from app.assessments.states import Status, transition
from app.errors import Conflict
from app.plans.models import DevelopmentPlan, PlanEvidence, PlanItem, PracticeSession
from app.privacy import audit
from app.privacy.audit import Actor, Person
from app.privacy.people import Records, assessments_of, ended_at, running
from app.reviews.models import ReviewAnswer, ReviewRatee, ReviewRequest, ReviewResult

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be someone's real address
# Not an Argon2 hash, so no password ever verifies against it.
UNUSABLE_PASSWORD = "!erased"  # noqa: S105


class ErasureRefused(Conflict):
    code = "erasure_refused"


@dataclass(frozen=True)
class Erasure:
    erased: tuple[Person, ...]
    already: tuple[Person, ...]


def erased_name(record_id: int) -> str:
    return f"Erased person #{record_id}"


def placeholder_email(kind: str, record_id: int) -> str:
    return f"erased-{kind}-{record_id}@{ERASED_DOMAIN}"


def is_erased_user(user: User) -> bool:
    return user.email == placeholder_email("user", user.id)


def erase(
    session: Session, records: Records, actor: Actor, now: datetime, reason: str = "request"
) -> Erasure:
    """Erase every record under one email; ErasureRefused (nothing changed) while running."""
    problems = running(session, records, now)
    if problems:
        raise ErasureRefused(
            "cannot erase while an assessment or review of this person is in progress: "
            + "; ".join(problems)
        )
    erased: list[Person] = []
    already: list[Person] = []
    if records.user is not None:
        person = Person("user", records.user.id)
        (erased if erase_user(session, records.user, actor, now) else already).append(person)
    for candidate in records.candidates:
        person = Person("candidate", candidate.id)
        done = erase_candidate(session, candidate, actor, now, reason)
        (erased if done else already).append(person)
    return Erasure(tuple(erased), tuple(already))


# ── candidates ──────────────────────────────────────────────────────────────────────────


def erase_candidate(
    session: Session, candidate: Candidate, actor: Actor, now: datetime, reason: str
) -> bool:
    """Anonymise one candidate whose assessments have all ended; False if already done."""
    if candidate.anonymised_at is not None:
        return False
    assessments = assessments_of(session, [candidate.id])
    if any(ended_at(a, now) is None for a in assessments):
        raise ErasureRefused(f"candidate #{candidate.id} has an assessment in progress")
    candidate.name = erased_name(candidate.id)
    candidate.email = placeholder_email("candidate", candidate.id)
    candidate.note = ""
    candidate.anonymised_at = now
    ids = [a.id for a in assessments]
    for assessment in assessments:
        if assessment.status == Status.INVITED:
            # Its link ran out unopened (ended_at above): record what it is.
            assessment.status = transition(assessment.status, Status.EXPIRED)
        assessment.token_hash = None
        assessment.candidate_feedback = False
    if ids:
        session.execute(delete(Answer).where(Answer.assessment_id.in_(ids)))
        session.execute(update(Rating).where(Rating.assessment_id.in_(ids)).values(note=""))
    session.flush()
    audit.record(
        session,
        actor,
        "person.erased",
        "candidate",
        candidate.id,
        subject=Person("candidate", candidate.id),
        reason=reason,
        assessments=len(ids),
    )
    return True


# ── staff ───────────────────────────────────────────────────────────────────────────────


def erase_user(session: Session, user: User, actor: Actor, now: datetime) -> bool:
    """Anonymise one staff account and the free text by or about them; False if done before."""
    if is_erased_user(user):
        return False
    old_email = user.email
    account_service.deactivate(session, user)
    user.name = erased_name(user.id)
    user.email = placeholder_email("user", user.id)
    user.password_hash = UNUSABLE_PASSWORD
    user.language = None
    session.execute(update(ApiToken).where(ApiToken.user_id == user.id).values(name=""))
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == old_email))

    ratee_ids = list(session.scalars(select(ReviewRatee.id).where(ReviewRatee.user_id == user.id)))
    about = select(ReviewRequest.id).where(ReviewRequest.ratee_id.in_(ratee_ids))
    given = select(ReviewRequest.id).where(ReviewRequest.rater_id == user.id)
    for requests in (about, given):
        session.execute(
            update(ReviewAnswer).where(ReviewAnswer.request_id.in_(requests)).values(comment="")
        )
    for result in session.scalars(select(ReviewResult).where(ReviewResult.ratee_id.in_(ratee_ids))):
        result.result = _without_comments(result.result)
    session.execute(update(Rating).where(Rating.rater_id == user.id).values(note=""))

    plan_ids = select(DevelopmentPlan.id).where(DevelopmentPlan.user_id == user.id)
    item_ids = select(PlanItem.id).where(PlanItem.plan_id.in_(plan_ids))
    session.execute(
        delete(PlanEvidence).where(
            PlanEvidence.item_id.in_(item_ids) | (PlanEvidence.author_id == user.id)
        )
    )
    session.execute(update(PlanItem).where(PlanItem.plan_id.in_(plan_ids)).values(owner_note=""))
    session.execute(
        update(DevelopmentPlan).where(DevelopmentPlan.user_id == user.id).values(title="")
    )
    session.execute(delete(PracticeSession).where(PracticeSession.user_id == user.id))
    session.flush()
    audit.record(session, actor, "person.erased", "user", user.id, subject=Person("user", user.id))
    return True


def _without_comments(result: dict[str, Any]) -> dict[str, Any]:
    # A new dict: the JSON column notices reassignment, not changes made in place.
    competencies = {
        competency: {**data, "comments": []}
        for competency, data in result.get("competencies", {}).items()
    }
    return {**result, "competencies": competencies}
