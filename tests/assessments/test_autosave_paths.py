"""`candidate.autosave`: the one-query path of a sitting in progress, and every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import candidate as candidate_service
from app.assessments import service as assessment_service
from app.assessments.candidate import (
    GRACE,
    AnswersClosed,
    AnswersRefused,
    InviteExpired,
    InviteNotFound,
    InviteRevoked,
    NotStarted,
    Progress,
    TimeUp,
)
from app.assessments.models import Assessment
from app.assessments.states import Status
from app.config import Settings
from app.db import utcnow
from app.rubrics.spec import Item
from tests.assessments.staff_helpers import make_assessment, rubric_of
from tests.conftest import MakeUser


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR)


@pytest.fixture
def sitting(db: Session, settings: Settings, hr: User) -> tuple[Assessment, str]:
    """A started sitting of 45 minutes and its raw token."""
    assessment, url = make_assessment(db, hr, settings, time_limit_minutes=45)
    candidate_service.start(db, assessment, utcnow())
    return assessment, url.rsplit("/", 1)[1]


def items(db: Session, assessment: Assessment) -> list[Item]:
    index = rubric_of(db, assessment).item_index()
    return [index[i] for i in assessment.item_ids]


def answered(progress: Progress) -> dict[int, frozenset[str]]:
    return {s.number: s.answered for s in progress.sections}


def test_progress_counts_earlier_answers_with_this_one_as_a_later_read_would(
    db: Session, sitting: tuple[Assessment, str]
) -> None:
    assessment, raw = sitting
    drawn = items(db, assessment)
    choice = next(i for i in drawn if i.is_choice and i.select == "single")
    sample, blank = [i for i in drawn if not i.is_choice][:2]
    saves = [
        {choice.id: [choice.options[0].id]},
        {sample.id: "第一稿"},
        {choice.id: [choice.options[1].id], blank.id: "  \n "},
        {sample.id: ""},
    ]

    counts = []
    for answers in saves:
        progress = candidate_service.autosave(db, raw, answers, utcnow())
        assert answered(progress) == answered(candidate_service.progress(db, assessment))
        counts.append(progress.answered)

    assert counts == [1, 2, 2, 1]
    assert candidate_service.saved_answers(db, assessment) == {
        choice.id: [choice.options[1].id],
        sample.id: "",
        blank.id: "  \n ",
    }


def test_valid_answers_are_saved_before_the_rest_is_refused(
    db: Session, sitting: tuple[Assessment, str]
) -> None:
    assessment, raw = sitting
    choice = next(i for i in items(db, assessment) if i.is_choice)

    with pytest.raises(AnswersRefused) as refused:
        candidate_service.autosave(
            db, raw, {choice.id: [choice.options[0].id], "not_an_item": "x"}, utcnow()
        )

    assert [p.code for p in refused.value.problems] == ["not_drawn"]
    assert candidate_service.saved_answers(db, assessment) == {choice.id: [choice.options[0].id]}


def test_time_up_is_judged_by_the_clock_given(db: Session, sitting: tuple[Assessment, str]) -> None:
    assessment, raw = sitting
    choice = next(i for i in items(db, assessment) if i.is_choice)
    assert assessment.deadline_at is not None
    answer = {choice.id: [choice.options[0].id]}

    in_grace = candidate_service.autosave(db, raw, answer, assessment.deadline_at + GRACE)
    with pytest.raises(TimeUp):
        candidate_service.autosave(
            db, raw, answer, assessment.deadline_at + GRACE + timedelta(seconds=1)
        )

    assert in_grace.answered == 1


def test_a_link_that_does_not_work_is_refused_as_opening_it_would_be(
    db: Session, settings: Settings, hr: User, sitting: tuple[Assessment, str]
) -> None:
    assessment, raw = sitting
    now = utcnow()
    invited, invited_url = make_assessment(db, hr, settings)
    lapsed, lapsed_url = make_assessment(db, hr, settings, link_valid_days=1)
    lapsed.link_expires_at = now - timedelta(minutes=1)
    db.flush()

    with pytest.raises(InviteNotFound):
        candidate_service.autosave(db, "x" * 200, {}, now)
    with pytest.raises(InviteNotFound):
        candidate_service.autosave(db, raw[:-2], {}, now)
    with pytest.raises(NotStarted):
        candidate_service.autosave(db, invited_url.rsplit("/", 1)[1], {}, now)
    with pytest.raises(InviteExpired):
        candidate_service.autosave(db, lapsed_url.rsplit("/", 1)[1], {}, now)
    assert lapsed.status == Status.EXPIRED  # recorded, as open_invite records it
    assessment_service.revoke(db, hr, assessment.id)
    with pytest.raises(InviteRevoked):
        candidate_service.autosave(db, raw, {}, now)
    assert invited.status == Status.INVITED


def test_after_submit_nothing_more_is_saved(db: Session, sitting: tuple[Assessment, str]) -> None:
    assessment, raw = sitting
    choice = next(i for i in items(db, assessment) if i.is_choice)
    candidate_service.submit(db, assessment, utcnow())

    with pytest.raises(AnswersClosed):
        candidate_service.autosave(db, raw, {choice.id: [choice.options[0].id]}, utcnow())

    assert candidate_service.saved_answers(db, assessment) == {}


def test_the_page_script_hears_why_a_link_stopped_working(
    client: TestClient, db: Session, settings: Settings, hr: User
) -> None:
    lapsed, url = make_assessment(db, hr, settings, link_valid_days=1)
    lapsed.link_expires_at = utcnow() - timedelta(minutes=1)
    db.flush()

    reply = client.post(
        f"/take/{url.rsplit('/', 1)[1]}/autosave",
        json={"answers": {}},
        headers={"Accept-Language": "en"},
    )

    assert reply.status_code == 410
    assert reply.json()["detail"] == {
        "code": "invite_expired",
        "message": "This link no longer works.",
    }
    db.refresh(lapsed)
    assert lapsed.status == Status.EXPIRED
