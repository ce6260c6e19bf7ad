"""Turn an assessment's stored answers and ratings into its stored, traceable result."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assessments import scoring
from app.assessments.models import Answer, Assessment, AssessmentResult, RaterAssignment, Rating
from app.assessments.states import Status, transition
from app.db import utcnow
from app.rubrics import service as rubric_service
from app.rubrics.spec import Rubric


def rater_label(rater_id: int) -> str:
    return f"rater-{rater_id}"


def responses(
    session: Session, assessment: Assessment, rubric: Rubric
) -> dict[str, scoring.Response]:
    """The scoring inputs: selected options, and ratings of every work sample answered.

    An item without an answer is left out, so scoring counts it as 0; a blank work sample
    is never sent to raters and counts 0 too. A work sample stays pending until every
    assigned (non-adjudicating) rater has rated it.
    """
    answers = {
        a.item_id: a
        for a in session.scalars(select(Answer).where(Answer.assessment_id == assessment.id))
    }
    ratings = session.scalars(
        select(Rating)
        .where(Rating.assessment_id == assessment.id)
        .order_by(Rating.rated_at, Rating.id)
    ).all()
    raters = session.scalars(
        select(RaterAssignment.user_id).where(
            RaterAssignment.assessment_id == assessment.id,
            RaterAssignment.adjudicator.is_(False),
        )
    ).all()
    items = rubric.item_index()
    found: dict[str, scoring.Response] = {}
    for item_id in assessment.item_ids:
        answer = answers.get(item_id)
        if answer is None:
            continue
        if items[item_id].is_choice:
            if answer.selected:
                found[item_id] = scoring.ChoiceResponse(tuple(answer.selected))
        elif answer.text and answer.text.strip():
            given = [r for r in ratings if r.item_id == item_id]
            adjudication = next((r for r in given if r.adjudication), None)
            rated = {r.rater_id for r in given}
            found[item_id] = scoring.WorkSampleResponse(
                ratings=tuple(_rating(r) for r in given if not r.adjudication),
                adjudication=_rating(adjudication) if adjudication else None,
                awaiting=tuple(rater_label(u) for u in sorted(raters) if u not in rated),
            )
    return found


def _rating(rating: Rating) -> scoring.Rating:
    return scoring.Rating(rater_label(rating.rater_id), dict(rating.criteria))


def compute(session: Session, assessment: Assessment) -> AssessmentResult:
    """Score with the pinned rubric version and store the result (replacing an older one)."""
    rubric = rubric_service.get_version(session, assessment.rubric_version)
    result = scoring.score(
        rubric,
        assessment.rubric_version,
        assessment.role_id,
        assessment.item_ids,
        responses(session, assessment, rubric),
    )
    stored = session.get(AssessmentResult, assessment.id)
    if stored is None:
        stored = AssessmentResult(assessment_id=assessment.id)
        session.add(stored)
    stored.rubric_version = assessment.rubric_version
    stored.final = result.final
    stored.overall_level = result.overall_level
    stored.fit = result.fit
    stored.recommendation = result.recommendation.band if result.recommendation else None
    stored.result = result.to_dict()
    stored.computed_at = utcnow()
    if result.final:
        assessment.status = transition(assessment.status, Status.SCORED)
        assessment.scored_at = stored.computed_at
    elif assessment.status == Status.SCORED:
        # A new rater or a changed rating reopened a final result.
        assessment.status = transition(assessment.status, Status.SUBMITTED)
        assessment.scored_at = None
    session.flush()
    return stored
