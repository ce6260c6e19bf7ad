"""The candidate's side: invite links, start, autosave, deadline, idempotent submit."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.secrets import hash_token, new_token
from app.assessments import candidate as candidate_service
from app.assessments.candidate import (
    GRACE,
    AnswersClosed,
    AnswersRefused,
    InviteExpired,
    InviteNotFound,
    InviteRevoked,
    NotStarted,
    TimeUp,
)
from app.assessments.drawing import draw_items
from app.assessments.models import Answer, Assessment, AssessmentResult, Candidate
from app.assessments.states import Status
from app.config import Settings
from app.privacy.models import AuditEvent
from app.rubrics import service as rubric_service
from app.rubrics.models import RubricVersion
from app.rubrics.spec import Item, ItemType

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
T = TypeVar("T")


def make_invited_assessment(
    db: Session,
    settings: Settings,
    *,
    role: str = "assistant",
    seed: int = 1,
    time_limit_minutes: int | None = None,
    link_expires_at: datetime | None = None,
    assessor: str = "Wang Fang",
) -> tuple[Assessment, str]:
    """An invitation as HR would leave it: items drawn, rubric pinned, only the token's hash."""
    loaded = rubric_service.get_current(settings.rubrics_dir, "new_media_operator")
    rubric_service.pin(db, loaded)
    creator = User(
        email=f"hr-{uuid.uuid4().hex[:12]}@example.com",
        name=assessor,
        role="hr",
        password_hash="!",
    )
    db.add(creator)
    db.flush()
    candidate = Candidate(name="Li Lei", email="li.lei@example.com", created_by_id=creator.id)
    db.add(candidate)
    db.flush()
    raw = new_token()
    assessment = Assessment(
        candidate_id=candidate.id,
        rubric_id=loaded.rubric.id,
        rubric_version=loaded.version,
        role_id=role,
        status=Status.INVITED.value,
        seed=seed,
        item_ids=draw_items(loaded.rubric, loaded.rubric.role(role), seed),
        time_limit_minutes=time_limit_minutes,
        link_expires_at=link_expires_at,
        token_hash=hash_token(raw),
        token_issued_at=T0 - timedelta(days=1),
        created_by_id=creator.id,
    )
    db.add(assessment)
    db.flush()
    return assessment, raw


def drawn(db: Session, assessment: Assessment) -> list[Item]:
    index = candidate_service.rubric_of(db, assessment).item_index()
    return [index[i] for i in assessment.item_ids]


def first(items: list[Item], kind: ItemType, select: str | None = None) -> Item:
    return next(i for i in items if i.type is kind and (select is None or i.select == select))


def answer_rows(db: Session, assessment: Assessment) -> int:
    return (
        db.scalar(
            select(func.count()).select_from(Answer).where(Answer.assessment_id == assessment.id)
        )
        or 0
    )


@pytest.fixture
def invited(db: Session, settings: Settings) -> tuple[Assessment, str]:
    return make_invited_assessment(db, settings, time_limit_minutes=30)


@pytest.fixture
def started(db: Session, invited: tuple[Assessment, str]) -> Assessment:
    assessment, _ = invited
    candidate_service.start(db, assessment, T0)
    return assessment


# --- the link ---------------------------------------------------------------------------


def test_the_link_opens_its_own_assessment_and_no_other(
    db: Session, settings: Settings, invited: tuple[Assessment, str]
) -> None:
    assessment, raw = invited
    other, other_raw = make_invited_assessment(db, settings)

    assert candidate_service.open_invite(db, raw, T0) is assessment
    assert candidate_service.open_invite(db, other_raw, T0) is other
    for wrong in ("", raw[:-1], raw + "x", hash_token(raw), "x" * 5000):
        with pytest.raises(InviteNotFound):
            candidate_service.open_invite(db, wrong, T0)


def test_a_withdrawn_link_says_so(db: Session, invited: tuple[Assessment, str]) -> None:
    assessment, raw = invited
    assessment.status = Status.REVOKED.value
    assessment.revoked_at = T0

    with pytest.raises(InviteRevoked, match="withdrawn"):
        candidate_service.open_invite(db, raw, T0)


def test_a_link_expired_before_the_start_moves_the_assessment_to_expired(
    db: Session, settings: Settings
) -> None:
    assessment, raw = make_invited_assessment(db, settings, link_expires_at=T0)

    candidate_service.open_invite(db, raw, T0 - timedelta(seconds=1))
    assert assessment.status == Status.INVITED

    with pytest.raises(InviteExpired):
        candidate_service.open_invite(db, raw, T0)
    assert assessment.status == Status.EXPIRED
    with pytest.raises(InviteExpired):
        candidate_service.start(db, assessment, T0)


def test_link_expiry_does_not_end_a_sitting_already_started(
    db: Session, settings: Settings
) -> None:
    assessment, raw = make_invited_assessment(db, settings, link_expires_at=T0 + timedelta(hours=1))
    candidate_service.start(db, assessment, T0)

    assert candidate_service.open_invite(db, raw, T0 + timedelta(days=2)) is assessment
    assert assessment.status == Status.IN_PROGRESS


# --- landing and start ---------------------------------------------------------------------


def test_landing_says_who_assesses_and_what_to_expect(
    db: Session, invited: tuple[Assessment, str]
) -> None:
    assessment, _ = invited

    view = candidate_service.landing(db, assessment)

    assert view.assessor == "Wang Fang"
    assert view.role_name == {
        "zh": "新媒体运营助理",
        "en": "New-media operations assistant",
    }
    assert [(s.kind, s.total) for s in view.sections] == [
        (ItemType.KNOWLEDGE, 12),
        (ItemType.SITUATIONAL, 9),
        (ItemType.WORK_SAMPLE, 2),
    ]
    assert view.total_items == 23 == len(assessment.item_ids)
    assert view.time_limit_minutes == 30
    assert "answers" in view.consent["en"]
    assert "作答" in view.consent["zh"]


def test_start_sets_the_clock_once_and_starting_again_continues(
    db: Session, invited: tuple[Assessment, str]
) -> None:
    assessment, _ = invited

    candidate_service.start(db, assessment, T0)
    candidate_service.start(db, assessment, T0 + timedelta(minutes=5))

    assert assessment.status == Status.IN_PROGRESS
    assert assessment.started_at == T0
    assert assessment.deadline_at == T0 + timedelta(minutes=30)
    assert candidate_service.remaining_seconds(assessment, T0 + timedelta(minutes=29)) == 60


def test_an_untimed_sitting_has_no_deadline(db: Session, settings: Settings) -> None:
    assessment, _ = make_invited_assessment(db, settings)

    candidate_service.start(db, assessment, T0)

    assert assessment.deadline_at is None
    assert candidate_service.remaining_seconds(assessment, T0 + timedelta(days=3)) is None
    candidate_service.save_answers(db, assessment, {}, T0 + timedelta(days=3))


# --- autosave and resume -------------------------------------------------------------------


def test_autosave_replaces_earlier_answers_and_progress_says_where_to_resume(
    db: Session, started: Assessment
) -> None:
    items = drawn(db, started)
    knowledge = [i for i in items if i.type is ItemType.KNOWLEDGE]
    one, two = knowledge[0], knowledge[1]

    candidate_service.save_answers(
        db, started, {one.id: [one.options[0].id], two.id: [two.options[1].id]}, T0
    )
    candidate_service.save_answers(db, started, {one.id: [one.options[2].id]}, T0)

    assert candidate_service.saved_answers(db, started) == {
        one.id: [one.options[2].id],
        two.id: [two.options[1].id],
    }
    assert answer_rows(db, started) == 2
    progress = candidate_service.progress(db, started)
    assert [(s.answered_count, s.total) for s in progress.sections] == [(2, 12), (0, 9), (0, 2)]
    assert progress.resume_at == 1

    candidate_service.save_answers(db, started, {i.id: [i.options[0].id] for i in knowledge}, T0)
    assert candidate_service.progress(db, started).resume_at == 2


def test_a_cleared_answer_counts_as_unanswered(db: Session, started: Assessment) -> None:
    items = drawn(db, started)
    choice = first(items, ItemType.KNOWLEDGE, "multiple")
    sample = first(items, ItemType.WORK_SAMPLE)
    candidate_service.save_answers(
        db, started, {choice.id: [choice.options[0].id], sample.id: "draft"}, T0
    )

    candidate_service.save_answers(db, started, {choice.id: [], sample.id: "   \n"}, T0)

    assert candidate_service.progress(db, started).answered == 0


def test_single_choice_takes_one_known_option_and_multiple_choice_several(
    db: Session, started: Assessment
) -> None:
    items = drawn(db, started)
    single = first(items, ItemType.KNOWLEDGE, "single")
    multiple = first(items, ItemType.KNOWLEDGE, "multiple")
    chosen = [multiple.options[0].id, multiple.options[1].id]

    candidate_service.save_answers(
        db, started, {single.id: single.options[0].id, multiple.id: [*chosen, chosen[0]]}, T0
    )

    assert candidate_service.saved_answers(db, started) == {
        single.id: [single.options[0].id],
        multiple.id: chosen,
    }


def test_unknown_options_two_answers_to_single_choice_and_undrawn_items_are_refused(
    db: Session, started: Assessment
) -> None:
    items = drawn(db, started)
    single = first(items, ItemType.KNOWLEDGE, "single")
    other = first(items, ItemType.SITUATIONAL)
    ok = first(items, ItemType.KNOWLEDGE, "multiple")
    undrawn = next(
        i.id for i in candidate_service.rubric_of(db, started).items if i.id not in started.item_ids
    )

    with pytest.raises(AnswersRefused) as refused:
        candidate_service.save_answers(
            db,
            started,
            {
                single.id: [single.options[0].id, single.options[1].id],
                other.id: ["zz"],
                undrawn: ["a"],
                ok.id: [ok.options[0].id],
            },
            T0,
        )

    problems = {p.item_id: p.code for p in refused.value.problems}
    assert problems == {
        single.id: "single_choice",
        other.id: "unknown_option",
        undrawn: "not_drawn",
    }
    assert "no option 'zz'" in str(refused.value)
    # The valid answer of the same call was kept.
    assert candidate_service.saved_answers(db, started) == {ok.id: [ok.options[0].id]}


def test_too_long_text_names_the_item_and_the_limit_and_loses_nothing_saved(
    db: Session, started: Assessment
) -> None:
    sample = first(drawn(db, started), ItemType.WORK_SAMPLE)
    candidate_service.save_answers(db, started, {sample.id: "第一稿"}, T0)

    with pytest.raises(AnswersRefused) as refused:
        candidate_service.save_answers(db, started, {sample.id: "字" * (sample.max_length + 1)}, T0)

    message = str(refused.value)
    assert sample.id in message
    assert f"at most {sample.max_length}" in message
    assert refused.value.problems[0].limit == sample.max_length
    assert candidate_service.saved_answers(db, started) == {sample.id: "第一稿"}
    # Exactly at the limit is fine, with line breaks counted once as the browser counts them.
    exact = "字" * (sample.max_length - 2) + "\r\n" + "字"
    candidate_service.save_answers(db, started, {sample.id: exact}, T0)
    assert candidate_service.saved_answers(db, started)[sample.id] == exact.replace("\r\n", "\n")


def test_answers_are_stored_as_the_plain_text_typed(db: Session, started: Assessment) -> None:
    sample = first(drawn(db, started), ItemType.WORK_SAMPLE)
    markup = '<script>alert(1)</script> <img src=x onerror="alert(2)"> & 标题'

    candidate_service.save_answers(db, started, {sample.id: markup + "\x07"}, T0)

    assert candidate_service.saved_answers(db, started) == {sample.id: markup}


def test_an_answer_holding_a_nul_is_refused_and_the_others_saved(
    db: Session, started: Assessment
) -> None:
    sample = first(drawn(db, started), ItemType.WORK_SAMPLE)
    knowledge = first(drawn(db, started), ItemType.KNOWLEDGE)
    option = knowledge.options[0].id

    with pytest.raises(AnswersRefused) as refused:
        candidate_service.save_answers(
            db, started, {sample.id: "粘贴的\x00文字", knowledge.id: [option]}, T0
        )

    assert [(p.item_id, p.code) for p in refused.value.problems] == [(sample.id, "nul_character")]
    assert candidate_service.saved_answers(db, started) == {knowledge.id: [option]}


def test_a_work_sample_takes_text_not_options(db: Session, started: Assessment) -> None:
    sample = first(drawn(db, started), ItemType.WORK_SAMPLE)

    with pytest.raises(AnswersRefused, match="text answer"):
        candidate_service.save_answers(db, started, {sample.id: ["a"]}, T0)


def test_no_answers_before_the_start(db: Session, invited: tuple[Assessment, str]) -> None:
    assessment, _ = invited
    with pytest.raises(NotStarted):
        candidate_service.save_answers(db, assessment, {}, T0)
    with pytest.raises(NotStarted):
        candidate_service.submit(db, assessment, T0)


# --- deadline -------------------------------------------------------------------------------


def test_the_deadline_is_enforced_after_a_grace_period(db: Session, started: Assessment) -> None:
    assert started.deadline_at is not None
    deadline = started.deadline_at
    item = first(drawn(db, started), ItemType.KNOWLEDGE, "single")
    a, b, c = (o.id for o in item.options[:3])

    candidate_service.save_answers(db, started, {item.id: [a]}, deadline - timedelta(seconds=1))
    candidate_service.save_answers(db, started, {item.id: [b]}, deadline + GRACE)
    with pytest.raises(TimeUp, match="time is up"):
        candidate_service.save_answers(
            db, started, {item.id: [c]}, deadline + GRACE + timedelta(seconds=1)
        )

    assert candidate_service.saved_answers(db, started) == {item.id: [b]}


def test_coming_back_after_the_deadline_submits_what_was_saved(
    db: Session, started: Assessment
) -> None:
    assert started.deadline_at is not None
    item = first(drawn(db, started), ItemType.KNOWLEDGE, "single")
    candidate_service.save_answers(db, started, {item.id: [item.options[0].id]}, T0)

    assert not candidate_service.close_if_time_up(db, started, started.deadline_at - GRACE)
    assert started.status == Status.IN_PROGRESS

    later = started.deadline_at + timedelta(hours=3)
    assert candidate_service.close_if_time_up(db, started, later)
    # No work sample was answered, so nothing waits for a rater: scored at once.
    assert started.status == Status.SCORED
    assert started.submitted_at == later
    result = db.get(AssessmentResult, started.id)
    assert result is not None
    trace = result.result["competencies"][item.competency]["items"]
    assert any(t["item"] == item.id and t["status"] != "unanswered" for t in trace)


# --- submit ---------------------------------------------------------------------------------


def test_submit_is_idempotent_and_scores_once(db: Session, started: Assessment) -> None:
    items = drawn(db, started)
    single = first(items, ItemType.KNOWLEDGE, "single")
    sample = first(items, ItemType.WORK_SAMPLE)
    best = max(single.options, key=lambda o: o.points)
    candidate_service.save_answers(db, started, {single.id: [best.id], sample.id: "方案"}, T0)

    first_result = candidate_service.submit(db, started, T0 + timedelta(minutes=10))
    computed_at = first_result.computed_at
    again = candidate_service.submit(db, started, T0 + timedelta(minutes=11))

    assert again.computed_at == computed_at
    assert again.result == first_result.result
    assert started.status == Status.SUBMITTED  # work samples wait for raters
    assert started.submitted_at == T0 + timedelta(minutes=10)
    count = db.scalar(
        select(func.count())
        .select_from(AssessmentResult)
        .where(AssessmentResult.assessment_id == started.id)
    )
    assert count == 1
    assert not first_result.final
    assert first_result.result["pending"] == [sample.id]
    trace = first_result.result["competencies"][single.competency]["items"]
    assert next(t for t in trace if t["item"] == single.id)["fraction"] == 1.0


def test_answers_are_read_only_after_submit(db: Session, started: Assessment) -> None:
    item = first(drawn(db, started), ItemType.KNOWLEDGE, "single")
    candidate_service.save_answers(db, started, {item.id: [item.options[0].id]}, T0)
    candidate_service.submit(db, started, T0)

    with pytest.raises(AnswersClosed):
        candidate_service.save_answers(db, started, {item.id: [item.options[1].id]}, T0)
    assert candidate_service.saved_answers(db, started) == {item.id: [item.options[0].id]}


def test_a_late_submit_is_accepted_with_what_was_saved(db: Session, started: Assessment) -> None:
    assert started.deadline_at is not None
    sample = first(drawn(db, started), ItemType.WORK_SAMPLE)
    candidate_service.save_answers(db, started, {sample.id: "保存过的草稿"}, T0)
    late = started.deadline_at + timedelta(minutes=5)

    result = candidate_service.submit(db, started, late)

    assert started.status == Status.SUBMITTED
    assert started.submitted_at == late
    assert result.result["pending"] == [sample.id]


# --- concurrency (separate connections, committed rows) --------------------------------------


@dataclass
class Committed:
    engine: Engine
    assessment_id: int


@pytest.fixture
def committed(migrated_engine: Engine, settings: Settings) -> Iterator[Committed]:
    """A started assessment committed to the test database, removed again afterwards."""
    with Session(migrated_engine) as session:
        audited_before = session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
        loaded = rubric_service.get_current(settings.rubrics_dir, "new_media_operator")
        pinned_before = session.get(RubricVersion, loaded.version) is not None
        assessment, _ = make_invited_assessment(session, settings, time_limit_minutes=30)
        candidate_service.start(session, assessment, T0)
        session.commit()
        ids = (assessment.id, assessment.candidate_id, assessment.created_by_id)
    try:
        yield Committed(migrated_engine, ids[0])
    finally:
        with Session(migrated_engine) as session:
            session.execute(delete(AuditEvent).where(AuditEvent.id > audited_before))
            session.execute(delete(Candidate).where(Candidate.id == ids[1]))
            session.execute(delete(User).where(User.id == ids[2]))
            if not pinned_before:
                session.execute(
                    delete(RubricVersion).where(RubricVersion.version == loaded.version)
                )
            session.commit()


def run_together(count: int, work: Callable[[int], T]) -> list[T]:
    """Run `work(index)` in `count` threads released at the same moment; re-raise failures."""
    barrier = threading.Barrier(count)
    outcomes: list[T | BaseException | None] = [None] * count

    def runner(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = work(index)
        except BaseException as error:  # handed to the test thread below
            outcomes[index] = error

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    finished: list[T] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        finished.append(outcome)  # type: ignore[arg-type]
    return finished


def test_concurrent_submits_score_once_and_agree(committed: Committed) -> None:
    def submit(_index: int) -> datetime:
        with Session(committed.engine) as session:
            assessment = session.get_one(Assessment, committed.assessment_id)
            result = candidate_service.submit(session, assessment, T0 + timedelta(minutes=1))
            computed_at = result.computed_at
            session.commit()
            return computed_at

    first_at, second_at = run_together(2, submit)

    assert first_at == second_at
    with Session(committed.engine) as session:
        results = session.scalars(
            select(AssessmentResult).where(
                AssessmentResult.assessment_id == committed.assessment_id
            )
        ).all()
        assert len(results) == 1
        assert results[0].computed_at == first_at
        assert session.get_one(Assessment, committed.assessment_id).status == Status.SCORED


def test_concurrent_autosaves_of_one_item_leave_one_answer(
    committed: Committed, settings: Settings
) -> None:
    with Session(committed.engine) as session:
        assessment = session.get_one(Assessment, committed.assessment_id)
        item = first(drawn(session, assessment), ItemType.WORK_SAMPLE)

    def save(index: int) -> None:
        with Session(committed.engine) as session:
            assessment = session.get_one(Assessment, committed.assessment_id)
            candidate_service.save_answers(session, assessment, {item.id: f"版本 {index}"}, T0)
            session.commit()

    run_together(4, save)

    with Session(committed.engine) as session:
        rows = session.scalars(
            select(Answer.text).where(Answer.assessment_id == committed.assessment_id)
        ).all()
    assert len(rows) == 1
    assert rows[0] in {f"版本 {i}" for i in range(4)}
