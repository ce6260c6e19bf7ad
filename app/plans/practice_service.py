"""Practice sessions: a person rehearses the practice-only items of a competency in their plans.

Sessions belong to their person alone (anyone else gets NotFound) and write only the
practice tables: never an assessment, a review or a plan. Items come from the current
rubric, pinned per session, and are chosen by `practice.is_practice_item`.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.plans import practice, views
from app.plans.gaps import MIN_GAP
from app.plans.models import (
    DevelopmentPlan,
    PlanItem,
    PracticeAnswer,
    PracticeSession,
)
from app.plans.service import PlanInvalid, baseline_levels
from app.rubrics import service as rubric_service
from app.rubrics.spec import Item, Rubric

HISTORY_LIMIT = 50


def practisable(session: Session, user: User) -> dict[str, str]:
    """Competency → rubric id, for every competency in the user's plans (a gap or an item)."""
    found: dict[str, str] = {}
    plans = session.scalars(
        select(DevelopmentPlan)
        .where(DevelopmentPlan.user_id == user.id)
        .order_by(DevelopmentPlan.created_at.desc(), DevelopmentPlan.id.desc())
    ).all()
    for plan in plans:
        for competency, level in baseline_levels(plan).items():
            target = float(plan.baseline[competency]["target"])
            if level is not None and target - level > MIN_GAP:
                found.setdefault(competency, plan.rubric_id)
    if plans:
        rubric_of = {p.id: p.rubric_id for p in plans}
        for plan_id, competency in session.execute(
            select(PlanItem.plan_id, PlanItem.competency).where(
                PlanItem.plan_id.in_(list(rubric_of))
            )
        ):
            found.setdefault(competency, rubric_of[plan_id])
    return found


def _question(item: Item) -> views.Question:
    return views.Question(
        id=item.id,
        type=item.type.value,
        select=item.select,
        prompt=dict(item.prompt),
        options=tuple(views.OptionView(o.id, dict(o.text)) for o in item.options),
    )


def _own(session: Session, actor: User, session_id: int) -> PracticeSession:
    found = session.get(PracticeSession, session_id)
    if found is None or found.user_id != actor.id:
        raise NotFound("no such practice session")
    return found


def _answers(session: Session, session_ids: Sequence[int]) -> dict[int, list[PracticeAnswer]]:
    found: dict[int, list[PracticeAnswer]] = defaultdict(list)
    if session_ids:
        for answer in session.scalars(
            select(PracticeAnswer)
            .where(PracticeAnswer.session_id.in_(session_ids))
            .order_by(PracticeAnswer.answered_at, PracticeAnswer.id)
        ):
            found[answer.session_id].append(answer)
    return found


def _weights(rubric: Rubric) -> dict[str, float]:
    return {i.id: i.weight for i in rubric.items}


def _score(answers: Sequence[PracticeAnswer], weights: dict[str, float]) -> float | None:
    return practice.running_score((weights.get(a.item_id, 1.0), a.fraction) for a in answers)


@dataclass(frozen=True)
class _History:
    """Every practice session of one person, newest first, with answers and rubrics."""

    runs: list[PracticeSession]
    answers: dict[int, list[PracticeAnswer]]
    rubrics: dict[str, Rubric]

    def score_of(self, run: PracticeSession) -> float | None:
        return _score(self.answers[run.id], _weights(self.rubrics[run.rubric_version]))

    def competency_score(self, competency: str) -> tuple[int, float | None]:
        """How many answers `competency` has across sessions, and their running score."""
        pairs = [
            (_weights(self.rubrics[r.rubric_version]).get(a.item_id, 1.0), a.fraction)
            for r in self.runs
            if r.competency == competency
            for a in self.answers[r.id]
        ]
        return len(pairs), practice.running_score(pairs)


def _history(session: Session, actor: User) -> _History:
    runs = list(
        session.scalars(
            select(PracticeSession)
            .where(PracticeSession.user_id == actor.id)
            .order_by(PracticeSession.started_at.desc(), PracticeSession.id.desc())
        )
    )
    versions = {r.rubric_version for r in runs}
    return _History(
        runs=runs,
        answers=_answers(session, [r.id for r in runs]),
        rubrics={v: rubric_service.get_version(session, v) for v in versions},
    )


def overview(session: Session, actor: User, settings: Settings) -> views.PracticeOverview:
    """What `actor` may practise, with running scores, and their session history."""
    topics_of = practisable(session, actor)
    current = rubric_service.current_rubrics(settings.rubrics_dir)
    history = _history(session, actor)
    topics = []
    for competency, rubric_id in topics_of.items():
        loaded = current.get(rubric_id)
        if loaded is None or competency not in loaded.rubric.competency_index():
            continue
        answered, score = history.competency_score(competency)
        open_run = next(
            (r for r in history.runs if r.competency == competency and r.finished_at is None),
            None,
        )
        topics.append(
            views.PracticeTopic(
                competency=competency,
                name=views.competency_name(loaded.rubric, competency),
                items=len(practice.practice_items(loaded.rubric, competency)),
                answered=answered,
                score=score,
                open_session_id=open_run.id if open_run else None,
            )
        )
    order = {
        c.id: n
        for loaded in current.values()
        for n, (_, c) in enumerate(loaded.rubric.competencies())
    }
    topics.sort(key=lambda t: order.get(t.competency, len(order)))
    sessions = [
        views.SessionRow(
            id=r.id,
            competency=r.competency,
            name=views.competency_name(history.rubrics[r.rubric_version], r.competency),
            started_at=r.started_at,
            finished_at=r.finished_at,
            answered=len(history.answers[r.id]),
            total=len(r.item_ids),
            score=history.score_of(r),
        )
        for r in history.runs[:HISTORY_LIMIT]
    ]
    return views.PracticeOverview(tuple(topics), tuple(sessions))


def start(session: Session, actor: User, settings: Settings, competency: str) -> PracticeSession:
    """A new session over every practice item of `competency`, in a fresh order; an
    unfinished session of the same competency is resumed instead."""
    topics = practisable(session, actor)
    if competency not in topics:
        raise PlanInvalid(
            "competency",
            "只能练习你的发展计划中的能力",
            f"{competency!r} is not a competency in any of your plans",
        )
    loaded = rubric_service.get_current(settings.rubrics_dir, topics[competency])
    items = practice.practice_items(loaded.rubric, competency)
    if not items:
        raise Conflict("this competency has no practice items yet", field="competency")
    unfinished = session.scalar(
        select(PracticeSession)
        .where(
            PracticeSession.user_id == actor.id,
            PracticeSession.competency == competency,
            PracticeSession.rubric_version == loaded.version,
            PracticeSession.finished_at.is_(None),
        )
        .order_by(PracticeSession.started_at.desc(), PracticeSession.id.desc())
        .limit(1)
    )
    if unfinished is not None:
        return unfinished
    rubric_service.pin(session, loaded)
    order = [i.id for i in items]
    # The order only keeps repeated sessions from feeling rote; nothing depends on it.
    random.SystemRandom().shuffle(order)
    run = PracticeSession(
        user_id=actor.id,
        competency=competency,
        rubric_id=loaded.rubric.id,
        rubric_version=loaded.version,
        item_ids=order,
        started_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def get_session_view(session: Session, actor: User, session_id: int) -> views.PracticeSessionView:
    run = _own(session, actor, session_id)
    rubric = rubric_service.get_version(session, run.rubric_version)
    items = rubric.item_index()
    given = _answers(session, [run.id])[run.id]
    by_item = {a.item_id: a for a in given}
    answered = tuple(
        views.Answered(
            question=_question(items[a.item_id]),
            selected=tuple(a.selected),
            feedback=_stored_feedback(items[a.item_id], a),
            answered_at=a.answered_at,
        )
        for a in given
    )
    pending = [i for i in run.item_ids if i not in by_item]
    _, competency_score = _history(session, actor).competency_score(run.competency)
    return views.PracticeSessionView(
        id=run.id,
        competency=run.competency,
        name=views.competency_name(rubric, run.competency),
        started_at=run.started_at,
        finished_at=run.finished_at,
        total=len(run.item_ids),
        answered=answered,
        next_question=_question(items[pending[0]]) if pending else None,
        score=_score(given, _weights(rubric)),
        competency_score=competency_score,
    )


def answer(
    session: Session, actor: User, session_id: int, item_id: str, selected: Sequence[str]
) -> practice.Feedback:
    """Score one answer and return its feedback at once; the session finishes with its last
    item. The first answer to an item stands: a repeat gets the first answer's feedback."""
    run = _own(session, actor, session_id)
    rubric = rubric_service.get_version(session, run.rubric_version)
    item = rubric.item_index().get(item_id)
    if item is None or item_id not in run.item_ids:
        raise PlanInvalid(
            "item_id", "这道题不属于本次练习", f"item {item_id!r} is not part of this session"
        )
    earlier = _answer_of(session, run.id, item_id)
    if earlier is not None:
        return _stored_feedback(item, earlier)
    problem = practice.selection_problem(item, selected)
    if problem is not None:
        raise PlanInvalid("selected", problem["zh"], problem["en"])
    scored = practice.score(item, selected)
    now = utcnow()
    try:
        with session.begin_nested():
            session.add(
                PracticeAnswer(
                    session_id=run.id,
                    item_id=item_id,
                    selected=list(selected),
                    points=scored.points,
                    fraction=scored.fraction,
                    answered_at=now,
                )
            )
            session.flush()
    except IntegrityError:
        # The same answer sent twice at once: the one stored first stands.
        stored = _answer_of(session, run.id, item_id)
        assert stored is not None
        return _stored_feedback(item, stored)
    count = len(_answers(session, [run.id])[run.id])
    if count >= len(run.item_ids) and run.finished_at is None:
        run.finished_at = now
        session.flush()
    return practice.feedback(item, selected, scored)


def _stored_feedback(item: Item, stored: PracticeAnswer) -> practice.Feedback:
    # The stored points, not a rescoring: the feedback matches what was recorded.
    return practice.feedback(item, stored.selected, practice.Scored(stored.points, item.maximum))


def _answer_of(session: Session, session_id: int, item_id: str) -> PracticeAnswer | None:
    return session.scalar(
        select(PracticeAnswer).where(
            PracticeAnswer.session_id == session_id, PracticeAnswer.item_id == item_id
        )
    )
