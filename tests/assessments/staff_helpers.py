"""Small `make_*` helpers for the staff-side tests: candidates, invitations, submitted sittings.

Answers and status moves are written directly (as the candidate's form would leave them),
so these tests do not depend on the candidate-facing module.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from typing import Literal

from sqlalchemy.orm import Session

from app.accounts.models import User
from app.assessments import results
from app.assessments import service as assessment_service
from app.assessments.models import Answer, Assessment, Candidate
from app.assessments.states import Status, transition
from app.config import Settings
from app.db import utcnow
from app.rubrics import service as rubric_service
from app.rubrics.spec import Item, ItemType, Rubric

RUBRIC = "new_media_operator"
Quality = Literal["best", "worst"]
_numbers = itertools.count(1)


def make_candidate(
    db: Session, hr: User, name: str = "张伟", email: str | None = None, note: str = ""
) -> Candidate:
    email = email or f"candidate{next(_numbers)}@example.com"
    return assessment_service.create_candidate(db, hr, name, email, note)


def make_assessment(
    db: Session,
    hr: User,
    settings: Settings,
    *,
    role: str = "assistant",
    candidate: Candidate | None = None,
    time_limit_minutes: int | None = None,
    link_valid_days: int | None = 14,
) -> tuple[Assessment, str]:
    candidate = candidate or make_candidate(db, hr)
    return assessment_service.create_assessment(
        db, hr, candidate.id, RUBRIC, role, time_limit_minutes, link_valid_days, settings
    )


def rubric_of(db: Session, assessment: Assessment) -> Rubric:
    return rubric_service.get_version(db, assessment.rubric_version)


def work_samples(db: Session, assessment: Assessment, competency: str | None = None) -> list[str]:
    index = rubric_of(db, assessment).item_index()
    return [
        i
        for i in assessment.item_ids
        if index[i].type is ItemType.WORK_SAMPLE
        and (competency is None or index[i].competency == competency)
    ]


def _choice(item: Item, quality: Quality) -> list[str]:
    ordered = sorted(item.options, key=lambda o: o.points)
    if item.select == "multiple" and quality == "best":
        return [o.id for o in item.options if o.points > 0]
    return [(ordered[-1] if quality == "best" else ordered[0]).id]


def answer_all(
    db: Session,
    assessment: Assessment,
    *,
    quality: Quality = "best",
    text: str = "熬夜急救面膜｜加班到凌晨脸垮了？20分钟救回气色",
    blank: Collection[str] = (),
    weak: Collection[str] = (),
) -> None:
    """Answer every drawn item; work samples listed in `blank` get an empty answer.

    Choice items are answered at `quality`, except those of the competencies in `weak`,
    which get the worst answer.
    """
    index = rubric_of(db, assessment).item_index()
    for item_id in assessment.item_ids:
        item = index[item_id]
        if item.is_choice:
            chosen = _choice(item, "worst" if item.competency in weak else quality)
            db.add(Answer(assessment_id=assessment.id, item_id=item_id, selected=chosen))
        else:
            db.add(
                Answer(
                    assessment_id=assessment.id,
                    item_id=item_id,
                    text="   " if item_id in blank else f"{text} ({item_id})",
                )
            )
    db.flush()


def submit(db: Session, assessment: Assessment) -> None:
    """Start and submit as the candidate's form would, then score what can be scored."""
    now = utcnow()
    assessment.status = transition(assessment.status, Status.IN_PROGRESS)
    assessment.started_at = now
    assessment.status = transition(assessment.status, Status.SUBMITTED)
    assessment.submitted_at = now
    db.flush()
    results.compute(db, assessment)


def make_submitted(
    db: Session,
    hr: User,
    settings: Settings,
    *,
    role: str = "assistant",
    candidate: Candidate | None = None,
    quality: Quality = "best",
    blank: Collection[str] = (),
    weak: Collection[str] = (),
) -> Assessment:
    assessment, _ = make_assessment(db, hr, settings, role=role, candidate=candidate)
    answer_all(db, assessment, quality=quality, blank=blank, weak=weak)
    submit(db, assessment)
    return assessment


def levels(db: Session, assessment: Assessment, item_id: str, position: int) -> dict[str, str]:
    """A rating that picks the level at `position` (0 weakest, -1 strongest) on every criterion."""
    item = rubric_of(db, assessment).item_index()[item_id]
    return {c.id: c.levels[position].id for c in item.criteria}
