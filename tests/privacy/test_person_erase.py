"""Erasure removes personal fields and free text, keeps the figures others rely on, ends
access, is logged without the erased data, and is refused while anything is in progress."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.assessments import campaigns
from app.assessments.models import Answer, Assessment, Rating
from app.config import Settings
from app.db import utcnow
from app.plans.models import DevelopmentPlan, PlanEvidence, PlanItem, PracticeSession
from app.privacy import service as privacy_service
from app.privacy.erasure import ErasureRefused
from app.reviews import service as review_service
from app.reviews.models import ReviewAnswer, ReviewRequest
from tests.assessments.staff_helpers import RUBRIC, make_assessment, make_candidate
from tests.privacy.privacy_helpers import (
    ANNA_ABOUT_SUN,
    ANNA_RATING_NOTE,
    ANSWER_TEXT,
    candidate_of,
    events,
    review_result,
    reviewed,
    scored,
    started,
    stored_result,
)
from tests.reviews.review_helpers import MakeUser, in_days, make_team, open_cycle

ACTOR = "command line"


def test_erasing_a_staff_member_removes_their_personal_data_and_free_text(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    data = reviewed(db, settings, make_user)
    anna, email = data.anna, data.anna.email

    done = privacy_service.erase_person(db, email, ACTOR, utcnow())

    assert [p.key for p in done.erased] == [f"user:{anna.id}"]
    db.refresh(anna)
    assert anna.name == f"Erased person #{anna.id}"
    assert anna.email == f"erased-user-{anna.id}@erased.invalid"
    assert not anna.is_active
    assert account_service.get_by_email(db, email) is None
    text = json.dumps(
        privacy_service.export_person(db, anna.email, ACTOR, utcnow()), ensure_ascii=False
    )
    for gone in ("李安娜", email, ANNA_ABOUT_SUN, ANNA_RATING_NOTE, "安娜的成长计划", "同事评语0"):
        assert gone not in text
    own_comments = db.scalars(
        select(ReviewAnswer.comment)
        .join(ReviewRequest, ReviewRequest.id == ReviewAnswer.request_id)
        .where((ReviewRequest.rater_id == anna.id) | (ReviewRequest.ratee_id == data.anna_ratee_id))
    ).all()
    assert own_comments
    assert set(own_comments) == {""}
    plan = db.get(DevelopmentPlan, data.plan_id)
    assert plan is not None
    assert plan.title == ""
    assert set(db.scalars(select(PlanItem.owner_note).where(PlanItem.plan_id == plan.id))) == {""}
    assert db.scalar(select(func.count()).select_from(PlanEvidence)) == 0
    assert db.get(PracticeSession, data.practice_id) is None


def test_erasing_a_staff_member_ends_their_sessions_and_tokens(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    member: User = make_user(Role.MEMBER)
    cookie, _ = account_service.start_session(db, member, settings)
    raw_token, _ = account_service.create_token(db, member, "我的脚本")

    privacy_service.erase_person(db, member.email, ACTOR, utcnow())

    assert account_service.resolve_session(db, cookie, settings) is None
    assert account_service.user_for_token(db, raw_token) is None
    assert (
        account_service.authenticate(db, member.email, "correct horse battery staple", "t") is None
    )


def test_what_others_rely_on_is_unchanged_after_a_staff_erasure(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    data = reviewed(db, settings, make_user)
    sun_before = review_result(db, data.sun_ratee_id)
    rated_before = stored_result(db, data.rated_assessment.id)
    agreement_before = review_service.get_cycle_agreement(db, data.team.lead, data.cycle_id)
    campaign_before = campaigns.get_agreement(db, data.team.hr, RUBRIC, "assistant", settings)
    levels_before = db.scalars(
        select(ReviewAnswer.level)
        .join(ReviewRequest, ReviewRequest.id == ReviewAnswer.request_id)
        .where(ReviewRequest.rater_id == data.anna.id)
        .order_by(ReviewAnswer.id)
    ).all()

    privacy_service.erase_person(db, data.anna.email, ACTOR, utcnow())

    # Sun's released result keeps every figure and Anna's anonymous comment as released.
    assert review_result(db, data.sun_ratee_id) == sun_before
    assert any(
        c["text"] == ANNA_ABOUT_SUN
        for c in sun_before["competencies"]["content_creation"]["comments"]
    )
    assert stored_result(db, data.rated_assessment.id) == rated_before
    agreement = review_service.get_cycle_agreement(db, data.team.lead, data.cycle_id)
    assert agreement.overall == agreement_before.overall
    assert campaigns.get_agreement(db, data.team.hr, RUBRIC, "assistant", settings) == (
        campaign_before
    )
    assert (
        db.scalars(
            select(ReviewAnswer.level)
            .join(ReviewRequest, ReviewRequest.id == ReviewAnswer.request_id)
            .where(ReviewRequest.rater_id == data.anna.id)
            .order_by(ReviewAnswer.id)
        ).all()
        == levels_before
    )
    notes = db.scalars(select(Rating.note).where(Rating.rater_id == data.anna.id)).all()
    assert notes
    assert set(notes) == {""}
    # Her own released result keeps its figures but loses the comments about her.
    own = review_result(db, data.anna_ratee_id)
    assert own["competencies"]["content_creation"]["others"] == 2.0
    assert all(not c["comments"] for c in own["competencies"].values())


def test_erasing_a_candidate_removes_answers_and_notes_but_keeps_the_scores(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    assessment = scored(db, hr, settings, name="张伟", email="zhang.wei@example.com")
    candidate = candidate_of(db, assessment)
    before = stored_result(db, assessment.id)
    assert assessment.token_hash is not None

    done = privacy_service.erase_person(db, "zhang.wei@example.com", ACTOR, utcnow())

    assert [p.key for p in done.erased] == [f"candidate:{candidate.id}"]
    db.refresh(candidate)
    db.refresh(assessment)
    assert candidate.name == f"Erased person #{candidate.id}"
    assert candidate.email == f"erased-candidate-{candidate.id}@erased.invalid"
    assert candidate.anonymised_at is not None
    answers = db.scalar(
        select(func.count()).select_from(Answer).where(Answer.assessment_id == assessment.id)
    )
    assert answers == 0
    notes = db.scalars(select(Rating.note).where(Rating.assessment_id == assessment.id)).all()
    assert notes
    assert set(notes) == {""}
    assert assessment.token_hash is None
    assert stored_result(db, assessment.id) == before
    text = json.dumps(
        privacy_service.export_person(db, candidate.email, ACTOR, utcnow()), ensure_ascii=False
    )
    for gone in ("张伟", "zhang.wei@example.com", ANSWER_TEXT, "评分备注"):
        assert gone not in text


def test_an_erasure_is_logged_with_who_when_and_which_person_but_not_the_data(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    assessment = scored(db, hr, settings, name="张伟", email="zhang.wei@example.com")
    candidate = candidate_of(db, assessment)

    privacy_service.erase_person(db, "zhang.wei@example.com", ACTOR, utcnow())

    [event] = events(db, "person.erased")
    assert event.actor_label == ACTOR
    assert event.at > utcnow() - timedelta(minutes=1)
    assert (event.subject_kind, event.subject_id) == ("candidate", candidate.id)
    logged = json.dumps(
        [e.detail for e in events(db)] + [e.actor_label for e in events(db)], ensure_ascii=False
    )
    assert "张伟" not in logged
    assert "zhang.wei" not in logged


def test_erasing_twice_changes_nothing_the_second_time(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    assessment = scored(db, hr, settings, email="twice@example.com")
    candidate = candidate_of(db, assessment)
    privacy_service.erase_person(db, "twice@example.com", ACTOR, utcnow())

    again = privacy_service.erase_person(db, candidate.email, ACTOR, utcnow())

    assert again.erased == ()
    assert [p.key for p in again.already] == [f"candidate:{candidate.id}"]
    assert len(events(db, "person.erased")) == 1


@pytest.mark.parametrize("stage", ["invited", "in_progress"])
def test_erasure_is_refused_while_an_assessment_is_running_and_nothing_changes(
    db: Session, settings: Settings, make_user: MakeUser, stage: str
) -> None:
    hr = make_user(Role.HR)
    finished = scored(db, hr, settings, name="李雷", email="li.lei@example.com")
    candidate = candidate_of(db, finished)
    running: Assessment
    if stage == "invited":
        running, _ = make_assessment(db, hr, settings, candidate=candidate)
    else:
        running = started(db, hr, settings, candidate)
    answers_before = db.scalar(select(func.count()).select_from(Answer))

    with pytest.raises(ErasureRefused, match=f"assessment #{running.id} .* is {stage}"):
        privacy_service.erase_person(db, "li.lei@example.com", ACTOR, utcnow())

    db.refresh(candidate)
    assert (candidate.name, candidate.email, candidate.anonymised_at) == (
        "李雷",
        "li.lei@example.com",
        None,
    )
    assert db.scalar(select(func.count()).select_from(Answer)) == answers_before
    assert events(db, "person.erased") == []


def test_an_invitation_whose_link_ran_out_unopened_does_not_block_erasure(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    candidate = make_candidate(db, hr, name="过期", email="lapsed@example.com")
    assessment, _ = make_assessment(db, hr, settings, candidate=candidate, link_valid_days=1)
    assessment.link_expires_at = utcnow() - timedelta(days=1)
    db.flush()

    privacy_service.erase_person(db, "lapsed@example.com", ACTOR, utcnow())

    db.refresh(assessment)
    assert assessment.status == "expired"
    assert assessment.token_hash is None


def test_erasing_staff_is_refused_while_a_cycle_reviewing_them_is_open(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user)
    member = team.member(0)
    spec = review_service.RateeSpec(member.id, peer_ids=(team.member(1).id,))
    cycle = open_cycle(db, settings, team, [spec], due_at=in_days(7)).cycle

    with pytest.raises(ErasureRefused, match=f"review cycle #{cycle.id}"):
        privacy_service.erase_person(db, member.email, ACTOR, utcnow())

    db.refresh(member)
    assert member.is_active
    assert not member.name.startswith("Erased")
