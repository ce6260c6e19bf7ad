"""A rater's side of a cycle: their tasks, the rating form, autosave and the one-time submit.

Only the rater ever reads their answers back; anyone else asking for a form by its id gets
NotFound, whatever their role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.privacy import audit
from app.reviews import briefs, closing, views
from app.reviews.common import (
    COMMENT_MAX,
    CycleStatus,
    FieldErrors,
    RequestStatus,
    group_label,
)
from app.reviews.models import ReviewAnswer, ReviewCycle, ReviewRatee, ReviewRequest, Team
from app.rubrics import service as rubric_service
from app.rubrics.spec import RoleProfile, Rubric


@dataclass(frozen=True)
class AnswerInput:
    """One competency: a level, or `not_observed`, or neither yet (a comment-only draft)."""

    level: int | None = None
    not_observed: bool = False
    comment: str = ""


@dataclass(frozen=True)
class _Form:
    request: ReviewRequest
    cycle: ReviewCycle
    team: Team
    ratee: User


def _load(session: Session, rater: User, request_id: int, *, lock: bool = False) -> _Form:
    query = (
        select(ReviewRequest, ReviewCycle, Team, User)
        .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
        .join(ReviewCycle, ReviewCycle.id == ReviewRatee.cycle_id)
        .join(Team, Team.id == ReviewCycle.team_id)
        .join(User, User.id == ReviewRatee.user_id)
        .where(
            ReviewRequest.id == request_id,
            ReviewRequest.rater_id == rater.id,
            ReviewRequest.status == RequestStatus.APPROVED.value,
        )
    )
    if lock:
        # Serialises autosave and submit of one form on PostgreSQL (SQLite has one writer).
        query = query.with_for_update(of=ReviewRequest).execution_options(populate_existing=True)
    row = session.execute(query).first()
    if row is None:
        raise NotFound("no such rating form")
    return _Form(*row)


def _state(request: ReviewRequest, cycle: ReviewCycle, now: datetime) -> views.TaskState:
    if request.submitted_at is not None:
        return "done"
    if cycle.status == CycleStatus.OPEN.value and cycle.due_at > now:
        return "to_do"
    return "closed"


def _answer_view(answer: ReviewAnswer) -> views.AnswerView:
    return views.AnswerView(
        level=answer.level,
        not_observed=answer.not_observed,
        comment=answer.comment,
        saved_at=answer.saved_at,
    )


def _competency_ids(rubric: Rubric, role: RoleProfile) -> list[str]:
    return [c.id for _, c in rubric.competencies() if c.id in role.targets]


def _answers(session: Session, request_id: int) -> dict[str, ReviewAnswer]:
    return {
        a.competency_id: a
        for a in session.scalars(select(ReviewAnswer).where(ReviewAnswer.request_id == request_id))
    }


def _form(session: Session, form: _Form, now: datetime) -> views.RatingForm:
    """The form with the rater's own answers, in three queries."""
    request, cycle = form.request, form.cycle
    rubric = rubric_service.get_version(session, cycle.rubric_version)
    role = rubric.role(cycle.role_id)
    answers = _answers(session, request.id)
    levels = sorted(rubric.scale.levels, key=lambda level: level.value)
    dimensions = []
    for dimension in rubric.dimensions:
        competencies = tuple(
            views.FormCompetency(
                id=c.id,
                name=dict(c.name),
                description=dict(c.description),
                anchors=tuple(
                    views.AnchorView(level.value, dict(level.name), dict(c.anchors[level.value]))
                    for level in levels
                ),
                answer=_answer_view(answers[c.id]) if c.id in answers else None,
            )
            for c in dimension.competencies
            if c.id in role.targets
        )
        if competencies:
            dimensions.append(views.FormDimension(dimension.id, dict(dimension.name), competencies))
    ids = _competency_ids(rubric, role)
    state = _state(request, cycle, now)
    return views.RatingForm(
        request_id=request.id,
        cycle=briefs.cycle_brief(session, cycle, form.team),
        ratee=views.PersonBrief(form.ratee.id, form.ratee.name),
        group=request.group,
        group_label=group_label(request.group),
        state=state,
        editable=state == "to_do",
        submitted_at=request.submitted_at,
        scale=tuple(
            views.ScaleLevelView(level.value, dict(level.name), dict(level.description))
            for level in levels
        ),
        dimensions=tuple(dimensions),
        answered=sum(1 for c in ids if c in answers and answers[c].chosen),
        total=len(ids),
        comment_max=COMMENT_MAX,
    )


def list_tasks(session: Session, rater: User) -> list[views.TaskView]:
    """The rater's approved requests: to do first (soonest due), then done and closed ones."""
    rows = session.execute(
        select(ReviewRequest, ReviewCycle, User)
        .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
        .join(ReviewCycle, ReviewCycle.id == ReviewRatee.cycle_id)
        .join(User, User.id == ReviewRatee.user_id)
        .where(
            ReviewRequest.rater_id == rater.id,
            ReviewRequest.status == RequestStatus.APPROVED.value,
        )
    ).all()
    if not rows:
        return []
    now = utcnow()
    closing.close_due_cycles(
        session,
        now,
        {c.id for _, c, _ in rows if c.status == CycleStatus.OPEN.value and c.due_at <= now},
    )
    answered: dict[int, int] = {
        request_id: count
        for request_id, count in session.execute(
            select(ReviewAnswer.request_id, func.count(ReviewAnswer.id))
            .where(
                ReviewAnswer.request_id.in_([r.id for r, _, _ in rows]),
                or_(ReviewAnswer.level.is_not(None), ReviewAnswer.not_observed),
            )
            .group_by(ReviewAnswer.request_id)
        )
    }
    pinned = briefs.rubrics(session, (c.rubric_version for _, c, _ in rows))
    tasks = [
        views.TaskView(
            request_id=request.id,
            cycle_id=cycle.id,
            cycle_name=cycle.name,
            due_at=cycle.due_at,
            ratee=views.PersonBrief(ratee.id, ratee.name),
            group=request.group,
            group_label=group_label(request.group),
            state=_state(request, cycle, now),
            answered=answered.get(request.id, 0),
            total=len(pinned[cycle.rubric_version].role(cycle.role_id).targets),
            submitted_at=request.submitted_at,
        )
        for request, cycle, ratee in rows
    ]
    order = {"to_do": 0, "done": 1, "closed": 2}
    return sorted(
        tasks,
        key=lambda task: (
            order[task.state],
            task.due_at if task.state == "to_do" else -task.due_at.timestamp(),
            task.request_id,
        ),
    )


def get_form(session: Session, rater: User, request_id: int) -> views.RatingForm:
    """The rating form with the rater's own answers; read-only once submitted or closed."""
    form = _load(session, rater, request_id)
    now = utcnow()
    closing.close_if_due(session, form.cycle, now)
    return _form(session, form, now)


def _require_editable(form: _Form, now: datetime) -> None:
    if form.request.submitted_at is not None:
        raise Conflict("you have submitted this form; your answers are read-only now")
    if form.cycle.status != CycleStatus.OPEN.value or form.cycle.due_at <= now:
        raise Conflict("this review cycle is closed; answers can no longer change")


def _save(session: Session, form: _Form, answers: Mapping[str, AnswerInput], now: datetime) -> None:
    rubric = rubric_service.get_version(session, form.cycle.rubric_version)
    role = rubric.role(form.cycle.role_id)
    scale = sorted(level.value for level in rubric.scale.levels)
    errors: dict[str, str] = {}
    for competency_id, answer in answers.items():
        field = f"answers.{competency_id}"
        if competency_id not in role.targets:
            errors[field] = f"{competency_id!r} is not a competency of this review"
        elif answer.level is not None and answer.not_observed:
            errors[f"{field}.level"] = "choose a level or “not observed”, not both"
        elif answer.level is not None and (
            isinstance(answer.level, bool) or answer.level not in scale
        ):
            errors[f"{field}.level"] = f"choose a level from {scale[0]} to {scale[-1]}"
        if len(answer.comment.strip()) > COMMENT_MAX:
            errors[f"{field}.comment"] = (
                f"the comment has {len(answer.comment.strip())} characters; "
                f"at most {COMMENT_MAX} are allowed"
            )
    if errors:
        raise FieldErrors(errors)
    stored = _answers(session, form.request.id)
    for competency_id, answer in answers.items():
        comment = answer.comment.strip()
        row = stored.get(competency_id)
        chosen = answer.level is not None or answer.not_observed
        if not chosen and not comment:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = ReviewAnswer(request_id=form.request.id, competency_id=competency_id)
            session.add(row)
        row.level = answer.level
        row.not_observed = answer.not_observed
        row.comment = comment
        row.saved_at = now
    session.flush()


def save_answers(
    session: Session, rater: User, request_id: int, answers: Mapping[str, AnswerInput]
) -> views.RatingForm:
    """Autosave: store the competencies given (others stay as they were) until submitted.

    An answer with neither a level nor "not observed" keeps just its comment as a draft, and
    one with no comment either is cleared. Raises FieldErrors per wrong competency.
    """
    form = _load(session, rater, request_id, lock=True)
    now = utcnow()
    _require_editable(form, now)
    _save(session, form, answers, now)
    return _form(session, form, now)


def submit(
    session: Session,
    rater: User,
    request_id: int,
    answers: Mapping[str, AnswerInput] | None = None,
) -> views.RatingForm:
    """Save `answers` (if any) and submit once: every competency needs a level or "not observed".

    A repeated submit changes nothing and returns the form as the first submit left it.
    Raises FieldErrors naming each competency still without a choice.
    """
    form = _load(session, rater, request_id, lock=True)
    now = utcnow()
    if form.request.submitted_at is not None:
        return _form(session, form, now)
    _require_editable(form, now)
    if answers:
        _save(session, form, answers, now)
    rubric = rubric_service.get_version(session, form.cycle.rubric_version)
    stored = _answers(session, form.request.id)
    missing = {
        f"answers.{c}": "choose a level or “not observed”"
        for c in _competency_ids(rubric, rubric.role(form.cycle.role_id))
        if c not in stored or not stored[c].chosen
    }
    if missing:
        raise FieldErrors(missing)
    form.request.submitted_at = now
    session.flush()
    # Logged against the rater, never the person rated: the log must not say who rated whom.
    audit.record(
        session,
        rater,
        "review.rating_submitted",
        "review_cycle",
        form.cycle.id,
        subject=audit.Person("user", rater.id),
    )
    return _form(session, form, now)
