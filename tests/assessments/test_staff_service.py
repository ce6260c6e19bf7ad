"""HR and rater operations: invitations and links, raters, ratings, rescoring, lists, results."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.accounts.secrets import hash_token
from app.assessments import service as assessment_service
from app.assessments.drawing import draw_items
from app.assessments.models import Assessment, AssessmentResult
from app.assessments.states import Status
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Base
from app.rubrics import service as rubric_service
from app.rubrics.spec import ItemUse
from tests.assessments.staff_helpers import (
    RUBRIC,
    answer_all,
    levels,
    make_assessment,
    make_candidate,
    make_submitted,
    rubric_of,
    submit,
    work_samples,
)
from tests.conftest import MakeUser


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR, name="王芳")


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


# ── candidates ──────────────────────────────────────────────────────────────────────────


def test_candidate_is_stored_trimmed_with_lowercase_email(db: Session, hr: User) -> None:
    candidate = assessment_service.create_candidate(
        db, hr, "  李娜 ", " Li.Na@Example.COM ", "内推"
    )

    detail = assessment_service.get_candidate(db, hr, candidate.id)
    assert (detail.candidate.name, detail.candidate.email, detail.candidate.note) == (
        "李娜",
        "li.na@example.com",
        "内推",
    )
    assert detail.assessments == ()


@pytest.mark.parametrize(
    ("name", "email", "note", "field"),
    [
        ("", "a@example.com", "", "name"),
        ("x" * 201, "a@example.com", "", "name"),
        ("李娜", "not-an-email", "", "email"),
        ("李娜", "a@b", "", "email"),
        ("李娜", "a@example.com", "n" * 2001, "note"),
    ],
)
def test_candidate_fields_are_validated(
    db: Session, hr: User, name: str, email: str, note: str, field: str
) -> None:
    with pytest.raises(assessment_service.FieldErrors) as caught:
        assessment_service.create_candidate(db, hr, name, email, note)
    assert list(caught.value.errors) == [field]
    assert caught.value.field == field


def test_every_wrong_candidate_field_is_reported_at_once(db: Session, hr: User) -> None:
    with pytest.raises(assessment_service.FieldErrors) as caught:
        assessment_service.create_candidate(db, hr, " ", "nope", "n" * 2001)
    assert set(caught.value.errors) == {"name", "email", "note"}


@pytest.mark.parametrize("role", [Role.MEMBER, Role.LEAD])
def test_only_hr_creates_and_reads_candidates(
    db: Session, hr: User, make_user: MakeUser, role: Role
) -> None:
    other = make_user(role)
    candidate = make_candidate(db, hr)
    with pytest.raises(Forbidden):
        assessment_service.create_candidate(db, other, "李娜", "l@example.com")
    with pytest.raises(Forbidden):
        assessment_service.get_candidate(db, other, candidate.id)


# ── invitations and links ───────────────────────────────────────────────────────────────


def every_stored_value(db: Session) -> Iterator[str]:
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)):
            yield from (str(value) for value in row)


def test_invite_token_has_128_bits_and_only_its_hash_is_stored(
    db: Session, hr: User, settings: Settings
) -> None:
    assessment, url = make_assessment(db, hr, settings)

    assert url.startswith("https://yardstick.example/take/")
    token = token_of(url)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    assert assessment.token_hash == hash_token(token)
    db.flush()
    assert not any(token in value for value in every_stored_value(db))


def test_each_invitation_gets_its_own_token(db: Session, hr: User, settings: Settings) -> None:
    tokens = {token_of(make_assessment(db, hr, settings)[1]) for _ in range(5)}
    assert len(tokens) == 5


def test_invite_url_ignores_a_trailing_slash_in_the_configured_base(
    db: Session, hr: User, settings: Settings
) -> None:
    configured = settings.model_copy(update={"public_base_url": "https://jobs.example/ys/"})
    _, url = make_assessment(db, hr, configured)
    assert url.startswith("https://jobs.example/ys/take/")


def test_draw_is_reproducible_from_the_stored_seed_and_only_hiring_items(
    db: Session, hr: User, settings: Settings
) -> None:
    assessment, _ = make_assessment(db, hr, settings, role="specialist")
    rubric = rubric_of(db, assessment)
    role = rubric.role("specialist")

    assert draw_items(rubric, role, assessment.seed) == assessment.item_ids
    index = rubric.item_index()
    assert all(ItemUse.HIRING in index[i].use for i in assessment.item_ids)
    assert len(assessment.item_ids) == sum(entry.count for entry in role.blueprint)
    current = rubric_service.get_current(settings.rubrics_dir, RUBRIC)
    assert assessment.rubric_version == current.version
    assert assessment.status == Status.INVITED


def test_time_limit_and_link_expiry_are_stored(db: Session, hr: User, settings: Settings) -> None:
    assessment, _ = make_assessment(db, hr, settings, time_limit_minutes=45, link_valid_days=3)
    assert assessment.time_limit_minutes == 45
    assert assessment.link_expires_at is not None
    left = assessment.link_expires_at - utcnow()
    assert timedelta(days=2, hours=23) < left <= timedelta(days=3)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"candidate_id": 99999}, "candidate_id"),
        ({"rubric_id": "nope"}, "rubric_id"),
        ({"role_id": "astronaut"}, "role_id"),
        ({"time_limit_minutes": 0}, "time_limit_minutes"),
        ({"time_limit_minutes": 601}, "time_limit_minutes"),
        ({"link_valid_days": 0}, "link_valid_days"),
    ],
)
def test_create_assessment_names_the_wrong_field(
    db: Session, hr: User, settings: Settings, changes: dict[str, Any], field: str
) -> None:
    candidate = make_candidate(db, hr)
    arguments: dict[str, Any] = {
        "candidate_id": candidate.id,
        "rubric_id": RUBRIC,
        "role_id": "assistant",
        "time_limit_minutes": None,
        "link_valid_days": 7,
    } | changes
    with pytest.raises(InvalidInput) as caught:
        assessment_service.create_assessment(db, hr, settings=settings, **arguments)
    assert caught.value.field == field


def test_reissue_kills_the_old_token(db: Session, hr: User, settings: Settings) -> None:
    assessment, old_url = make_assessment(db, hr, settings)

    _, new_url = assessment_service.reissue_link(db, hr, assessment.id, 7, settings)

    assert token_of(new_url) != token_of(old_url)
    assert assessment.token_hash == hash_token(token_of(new_url))
    old_hash = hash_token(token_of(old_url))
    assert db.scalar(select(Assessment).where(Assessment.token_hash == old_hash)) is None


@pytest.mark.parametrize("dead_end", [Status.EXPIRED, Status.REVOKED])
def test_reissue_revives_an_invitation_that_was_never_started(
    db: Session, hr: User, settings: Settings, dead_end: Status
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    assessment.status = dead_end

    assessment_service.reissue_link(db, hr, assessment.id, 5, settings)

    assert assessment.status == Status.INVITED
    assert assessment.link_expires_at is not None
    assert assessment.link_expires_at > utcnow() + timedelta(days=4)


def test_reissue_in_progress_resumes_on_a_new_device_keeping_the_deadline(
    db: Session, hr: User, settings: Settings
) -> None:
    assessment, _ = make_assessment(db, hr, settings, time_limit_minutes=30)
    assessment.status = Status.IN_PROGRESS
    assessment.started_at = utcnow()
    deadline = assessment.deadline_at = utcnow() + timedelta(minutes=30)

    assessment_service.reissue_link(db, hr, assessment.id, None, settings)

    assert assessment.status == Status.IN_PROGRESS
    assert assessment.deadline_at == deadline
    assert assessment.link_expires_at is None


def test_reissue_is_refused_after_submission_and_for_a_revoked_started_sitting(
    db: Session, hr: User, settings: Settings
) -> None:
    submitted = make_submitted(db, hr, settings)
    with pytest.raises(Conflict):
        assessment_service.reissue_link(db, hr, submitted.id, 7, settings)

    started, _ = make_assessment(db, hr, settings)
    started.status, started.started_at = Status.IN_PROGRESS, utcnow()
    assessment_service.revoke(db, hr, started.id)
    with pytest.raises(Conflict, match="started"):
        assessment_service.reissue_link(db, hr, started.id, 7, settings)


def test_revoke_closes_the_link_but_not_a_finished_assessment(
    db: Session, hr: User, settings: Settings
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    assessment_service.revoke(db, hr, assessment.id)
    assert assessment.status == Status.REVOKED
    assert assessment.revoked_at is not None
    view = assessment_service.get_assessment_view(db, hr, assessment.id)
    assert view.link_active is False

    submitted = make_submitted(db, hr, settings)
    with pytest.raises(Conflict):
        assessment_service.revoke(db, hr, submitted.id)


def test_extend_pushes_the_expiry_and_revives_an_expired_invitation(
    db: Session, hr: User, settings: Settings
) -> None:
    assessment, _ = make_assessment(db, hr, settings, link_valid_days=2)
    assert assessment.link_expires_at is not None
    before = assessment.link_expires_at

    assessment_service.extend(db, hr, assessment.id, 3)
    assert assessment.link_expires_at == before + timedelta(days=3)

    assessment.status = Status.EXPIRED
    assessment.link_expires_at = utcnow() - timedelta(days=1)
    assessment_service.extend(db, hr, assessment.id, 2)
    assert assessment.status == Status.INVITED
    assert utcnow() + timedelta(days=1) < assessment.link_expires_at


def test_extend_leaves_a_running_sittings_deadline_alone(
    db: Session, hr: User, settings: Settings
) -> None:
    assessment, _ = make_assessment(db, hr, settings, time_limit_minutes=20, link_valid_days=1)
    assessment.status, assessment.started_at = Status.IN_PROGRESS, utcnow()
    deadline = assessment.deadline_at = utcnow() + timedelta(minutes=20)

    assessment_service.extend(db, hr, assessment.id, 1)

    assert assessment.deadline_at == deadline
    assert assessment.status == Status.IN_PROGRESS


def test_extend_refusals(db: Session, hr: User, settings: Settings) -> None:
    never, _ = make_assessment(db, hr, settings, link_valid_days=None)
    with pytest.raises(Conflict, match="does not expire"):
        assessment_service.extend(db, hr, never.id, 3)
    with pytest.raises(InvalidInput) as caught:
        assessment_service.extend(db, hr, never.id, 0)
    assert caught.value.field == "days"
    submitted = make_submitted(db, hr, settings)
    with pytest.raises(Conflict):
        assessment_service.extend(db, hr, submitted.id, 3)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.LEAD])
def test_links_are_managed_by_hr_only(
    db: Session, hr: User, settings: Settings, make_user: MakeUser, role: Role
) -> None:
    other = make_user(role)
    assessment, _ = make_assessment(db, hr, settings)
    with pytest.raises(Forbidden):
        assessment_service.revoke(db, other, assessment.id)
    with pytest.raises(Forbidden):
        assessment_service.extend(db, other, assessment.id, 2)
    with pytest.raises(Forbidden):
        assessment_service.reissue_link(db, other, assessment.id, 2, settings)
    assert assessment.status == Status.INVITED


# ── who sees which assessment ───────────────────────────────────────────────────────────


def test_get_for_hr_admin_and_assigned_raters_only(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    admin, lead, member = make_user(Role.ADMIN), make_user(Role.LEAD), make_user(Role.MEMBER)
    assessment_service.assign_rater(db, hr, assessment.id, member.id)

    assert assessment_service.get_for(db, hr, assessment.id) is assessment
    assert assessment_service.get_for(db, admin, assessment.id) is assessment
    assert assessment_service.get_for(db, member, assessment.id) is assessment
    with pytest.raises(NotFound):
        assessment_service.get_for(db, lead, assessment.id)


def test_a_rater_sees_the_assessment_blind(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    member = make_user(Role.MEMBER)
    assessment = make_submitted(db, hr, settings)
    assessment_service.assign_rater(db, hr, assessment.id, member.id)

    blind = assessment_service.get_assessment_view(db, member, assessment.id)
    full = assessment_service.get_assessment_view(db, hr, assessment.id)

    assert (blind.candidate, blind.raters, blind.result) == (None, (), None)
    assert full.candidate is not None
    assert full.result is not None
    assert [r.user_id for r in full.raters] == [member.id]


# ── raters ──────────────────────────────────────────────────────────────────────────────


def test_assigning_raters(db: Session, hr: User, settings: Settings, make_user: MakeUser) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    member, lead = make_user(Role.MEMBER), make_user(Role.LEAD)

    assessment_service.assign_rater(db, hr, assessment.id, member.id)
    assessment_service.assign_rater(db, hr, assessment.id, lead.id, adjudicator=True)
    with pytest.raises(Conflict) as twice:
        assessment_service.assign_rater(db, hr, assessment.id, member.id)
    assert twice.value.field == "user_id"

    raters = assessment_service.list_raters(db, hr, assessment.id)
    assert [(r.user_id, r.adjudicator) for r in raters] == [(member.id, False), (lead.id, True)]

    assessment_service.unassign_rater(db, hr, assessment.id, member.id)
    assert [r.user_id for r in assessment_service.list_raters(db, hr, assessment.id)] == [lead.id]
    with pytest.raises(NotFound):
        assessment_service.unassign_rater(db, hr, assessment.id, member.id)


def test_raters_must_be_active_staff(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    gone = make_user(Role.MEMBER)
    gone.is_active = False
    for user_id in (gone.id, 99999):
        with pytest.raises(InvalidInput) as caught:
            assessment_service.assign_rater(db, hr, assessment.id, user_id)
        assert caught.value.field == "user_id"


def test_only_hr_assigns_raters(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    assessment, _ = make_assessment(db, hr, settings)
    lead = make_user(Role.LEAD)
    with pytest.raises(Forbidden):
        assessment_service.assign_rater(db, lead, assessment.id, lead.id)


# ── rating ──────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def rated_setup(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> tuple[Assessment, User, User, User]:
    """A submitted assistant assessment with two raters and an adjudicator."""
    assessment = make_submitted(db, hr, settings)
    first, second = make_user(Role.MEMBER, name="赵一"), make_user(Role.LEAD, name="钱二")
    adjudicator = make_user(Role.LEAD, name="孙三")
    assessment_service.assign_rater(db, hr, assessment.id, first.id)
    assessment_service.assign_rater(db, hr, assessment.id, second.id)
    assessment_service.assign_rater(db, hr, assessment.id, adjudicator.id, adjudicator=True)
    return assessment, first, second, adjudicator


def test_queue_lists_answered_work_samples_until_rated(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    rater = make_user(Role.MEMBER)
    answered = make_submitted(db, hr, settings)
    blank_one, _ = make_assessment(db, hr, settings)
    samples = work_samples(db, blank_one)
    answer_all(db, blank_one, blank=samples[:1])
    submit(db, blank_one)
    waiting, _ = make_assessment(db, hr, settings)
    for assessment in (answered, blank_one, waiting):
        assessment_service.assign_rater(db, hr, assessment.id, rater.id)

    queue = assessment_service.rating_queue(db, rater)

    expected = {(answered.id, i) for i in work_samples(db, answered)} | {(blank_one.id, samples[1])}
    assert {(e.assessment_id, e.item_id) for e in queue} == expected
    assert all(not e.adjudication for e in queue)

    first = queue[0]
    assessment_service.save_rating(
        db,
        rater,
        first.assessment_id,
        first.item_id,
        levels(db, answered, first.item_id, 1),
        "",
    )
    after = {(e.assessment_id, e.item_id) for e in assessment_service.rating_queue(db, rater)}
    assert after == expected - {(first.assessment_id, first.item_id)}


def test_someone_not_assigned_has_an_empty_queue_and_no_tasks(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    assessment = make_submitted(db, hr, settings)
    outsider = make_user(Role.LEAD)
    item = work_samples(db, assessment)[0]

    assert assessment_service.rating_queue(db, outsider) == []
    for user in (outsider, hr):
        with pytest.raises(NotFound):
            assessment_service.get_rating_task(db, user, assessment.id, item)
        with pytest.raises(NotFound):
            assessment_service.save_rating(
                db, user, assessment.id, item, levels(db, assessment, item, 0)
            )


def test_rating_task_shows_what_to_rate_and_nothing_else(
    db: Session, rated_setup: tuple[Assessment, User, User, User]
) -> None:
    assessment, first, second, _ = rated_setup
    item_id = work_samples(db, assessment)[0]
    assessment_service.save_rating(
        db, second, assessment.id, item_id, levels(db, assessment, item_id, -1), "钱二的意见"
    )

    task = assessment_service.get_rating_task(db, first, assessment.id, item_id)

    item = rubric_of(db, assessment).item_index()[item_id]
    assert task.prompt == item.prompt
    assert [c.id for c in task.criteria] == [c.id for c in item.criteria]
    assert [lv.id for lv in task.criteria[0].levels] == [lv.id for lv in item.criteria[0].levels]
    assert [a.level for a in task.anchors] == [1, 2, 3, 4, 5]
    assert task.answer_text.startswith("熬夜急救面膜")
    assert task.own_rating is None
    assert "钱二的意见" not in repr(task)
    assert not {"raw", "fit", "points", "overall_level", "score"} & set(vars(task))


def test_rating_task_of_the_rater_shows_their_earlier_rating(
    db: Session, rated_setup: tuple[Assessment, User, User, User]
) -> None:
    assessment, first, _, _ = rated_setup
    item_id = work_samples(db, assessment)[0]
    chosen = levels(db, assessment, item_id, 1)
    assessment_service.save_rating(db, first, assessment.id, item_id, chosen, "  清楚  ")

    own = assessment_service.get_rating_task(db, first, assessment.id, item_id).own_rating

    assert own is not None
    assert (dict(own.criteria), own.note, own.adjudication) == (chosen, "清楚", False)


def test_only_answered_work_samples_of_submitted_assessments_are_rateable(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    rater = make_user(Role.MEMBER)
    assessment, _ = make_assessment(db, hr, settings)
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    sample = work_samples(db, assessment)[0]
    answer_all(db, assessment, blank=[sample])

    with pytest.raises(Conflict, match="not submitted"):
        assessment_service.get_rating_task(db, rater, assessment.id, sample)
    submit(db, assessment)
    choice = next(i for i in assessment.item_ids if i not in work_samples(db, assessment))
    for item_id in (sample, choice, "cc_w4", "no_such_item"):
        with pytest.raises(NotFound):
            assessment_service.get_rating_task(db, rater, assessment.id, item_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.pop(next(iter(c))), "criteria.{first}"),
        (lambda c: c.update({next(iter(c)): "brilliant"}), "criteria.{first}"),
        (lambda c: c.update({"charm": "high"}), "criteria.charm"),
    ],
)
def test_save_rating_names_each_wrong_criterion(
    db: Session,
    rated_setup: tuple[Assessment, User, User, User],
    change: Callable[[dict[str, str]], object],
    field: str,
) -> None:
    assessment, first, _, _ = rated_setup
    item_id = work_samples(db, assessment)[0]
    criteria = levels(db, assessment, item_id, 0)
    wanted = field.format(first=next(iter(criteria)))
    change(criteria)

    with pytest.raises(assessment_service.FieldErrors) as caught:
        assessment_service.save_rating(db, first, assessment.id, item_id, criteria)
    assert wanted in caught.value.errors


def test_save_rating_limits_the_note(
    db: Session, rated_setup: tuple[Assessment, User, User, User]
) -> None:
    assessment, first, _, _ = rated_setup
    item_id = work_samples(db, assessment)[0]
    with pytest.raises(assessment_service.FieldErrors) as caught:
        assessment_service.save_rating(
            db, first, assessment.id, item_id, levels(db, assessment, item_id, 0), "x" * 2001
        )
    assert list(caught.value.errors) == ["note"]


def test_ratings_rescore_and_finish_the_result(
    db: Session, rated_setup: tuple[Assessment, User, User, User]
) -> None:
    assessment, first, second, _ = rated_setup
    cc_item = work_samples(db, assessment, "content_creation")[0]
    po_item = work_samples(db, assessment, "platform_operations")[0]
    before = db.get(AssessmentResult, assessment.id)
    assert before is not None
    assert before.final is False
    assert set(before.result["pending"]) == {cc_item, po_item}

    assessment_service.save_rating(
        db, first, assessment.id, cc_item, levels(db, assessment, cc_item, 0)
    )
    low = db.get(AssessmentResult, assessment.id)
    assert low is not None
    assert low.final is False
    # cc_item counts provisionally on the first rating but waits for the second rater.
    assert set(low.result["pending"]) == {cc_item, po_item}
    level_low = low.result["competencies"]["content_creation"]["level"]
    assert level_low is not None

    for rater in (first, second):
        for item_id in (cc_item, po_item):
            assessment_service.save_rating(
                db, rater, assessment.id, item_id, levels(db, assessment, item_id, -1)
            )
    done = db.get(AssessmentResult, assessment.id)
    assert done is not None
    assert done.final is True
    assert done.result["pending"] == []
    assert done.result["competencies"]["content_creation"]["level"] > level_low
    assert assessment.status == Status.SCORED


def test_disagreement_goes_to_the_adjudicator_who_resolves_it(
    db: Session, hr: User, rated_setup: tuple[Assessment, User, User, User]
) -> None:
    assessment, first, second, adjudicator = rated_setup
    cc_item = work_samples(db, assessment, "content_creation")[0]
    po_item = work_samples(db, assessment, "platform_operations")[0]
    for rater in (first, second):
        assessment_service.save_rating(
            db, rater, assessment.id, po_item, levels(db, assessment, po_item, 1)
        )
    assert assessment_service.rating_queue(db, adjudicator) == []
    with pytest.raises(NotFound):
        assessment_service.get_rating_task(db, adjudicator, assessment.id, po_item)

    assessment_service.save_rating(
        db, first, assessment.id, cc_item, levels(db, assessment, cc_item, 0)
    )
    assessment_service.save_rating(
        db, second, assessment.id, cc_item, levels(db, assessment, cc_item, -1)
    )
    flagged = assessment_service.get_result_view(db, hr, assessment.id)
    assert flagged.final is False
    assert [f.item_id for f in flagged.flags if f.code == "needs_adjudication"] == [cc_item]
    assert any("adjudicator" in reason["en"] for reason in flagged.provisional_reasons)
    assert [
        (e.item_id, e.adjudication) for e in assessment_service.rating_queue(db, adjudicator)
    ] == [(cc_item, True)]

    assessment_service.save_rating(
        db, adjudicator, assessment.id, cc_item, levels(db, assessment, cc_item, -1), "同意钱二"
    )

    resolved = assessment_service.get_result_view(db, hr, assessment.id)
    assert resolved.final is True
    assert resolved.provisional_reasons == ()
    trace = next(i for c in resolved.competencies for i in c.items if i.item_id == cc_item)
    assert trace.status == "adjudicated"
    # Mean of the adjudicator (maximum) and the rating closest to it (also the maximum).
    assert trace.raw == trace.max_points
    assert [r.adjudication for r in trace.ratings] == [False, False, True]
    assert assessment.status == Status.SCORED
    assert assessment_service.rating_queue(db, adjudicator) == []


# ── the candidate list ──────────────────────────────────────────────────────────────────


def finish(db: Session, hr: User, assessment: Assessment, position: int, rater: User) -> None:
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    for item_id in work_samples(db, assessment):
        assessment_service.save_rating(
            db, rater, assessment.id, item_id, levels(db, assessment, item_id, position)
        )


def test_list_sorts_and_filters(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    rater = make_user(Role.MEMBER)
    strong = make_submitted(db, hr, settings, candidate=make_candidate(db, hr, "Anna Zhou"))
    finish(db, hr, strong, -1, rater)
    weak = make_submitted(
        db, hr, settings, candidate=make_candidate(db, hr, "Bob Li"), quality="worst"
    )
    finish(db, hr, weak, 0, rater)
    invited, _ = make_assessment(
        db, hr, settings, candidate=make_candidate(db, hr, "Carol Wu", "carol@corp.example")
    )
    other_role, _ = make_assessment(db, hr, settings, role="lead")

    def ids(**filters: Any) -> list[int]:
        return [r.id for r in assessment_service.list_assessments(db, hr, **filters)]

    assert ids(role_id="assistant") == [strong.id, weak.id, invited.id]
    assert ids(role_id="assistant", sort="name", descending=True) == [
        invited.id,
        weak.id,
        strong.id,
    ]
    # Without a level, the invitation goes last whichever way levels are sorted.
    assert ids(role_id="assistant", sort="level") == [weak.id, strong.id, invited.id]
    assert ids(role_id="assistant", sort="fit", descending=True) == [
        strong.id,
        weak.id,
        invited.id,
    ]
    assert ids(sort="status") == [invited.id, other_role.id, strong.id, weak.id]
    assert ids(status="invited", role_id="assistant") == [invited.id]
    assert ids(search="carol@CORP") == [invited.id]
    assert ids(search="li") == [weak.id]
    assert ids(role_id="lead") == [other_role.id]

    rows = {r.id: r for r in assessment_service.list_assessments(db, hr)}
    assert rows[strong.id].final is True
    assert rows[strong.id].recommendation == "strong_yes"
    assert rows[strong.id].role_name["zh"] == "新媒体运营助理"
    assert rows[invited.id].overall_level is None
    assert rows[invited.id].final is None


@pytest.mark.parametrize(
    ("filters", "field"), [({"sort": "salary"}, "sort"), ({"status": "hired"}, "status")]
)
def test_list_refuses_unknown_sort_or_status(
    db: Session, hr: User, filters: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        assessment_service.list_assessments(db, hr, **filters)
    assert caught.value.field == field


def test_list_is_hr_only(db: Session, make_user: MakeUser) -> None:
    with pytest.raises(Forbidden):
        assessment_service.list_assessments(db, make_user(Role.LEAD))


@contextmanager
def counting(db: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = db.get_bind().engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_list_query_count_does_not_grow_with_rows(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    rater = make_user(Role.MEMBER)

    def add(count: int) -> None:
        for n in range(count):
            assessment = make_submitted(db, hr, settings)
            if n % 2:
                finish(db, hr, assessment, 1, rater)

    def queries() -> int:
        db.expunge_all()
        with counting(db) as statements:
            rows = assessment_service.list_assessments(db, hr, sort="fit")
        assert rows
        return len(statements)

    add(3)
    few = queries()
    add(27)
    many = queries()
    assert len(assessment_service.list_assessments(db, hr)) == 30
    assert many == few <= 2


# ── the result page ─────────────────────────────────────────────────────────────────────


def test_result_view_explains_the_recommendation_and_the_critical_cap(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    rater = make_user(Role.MEMBER, name="周评")
    assessment = make_submitted(db, hr, settings, weak=["content_creation"])
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    cc_item = work_samples(db, assessment, "content_creation")[0]
    po_item = work_samples(db, assessment, "platform_operations")[0]
    assessment_service.save_rating(
        db, rater, assessment.id, cc_item, levels(db, assessment, cc_item, 0), "没有场景"
    )
    assessment_service.save_rating(
        db, rater, assessment.id, po_item, levels(db, assessment, po_item, -1)
    )

    view = assessment_service.get_result_view(db, hr, assessment.id)

    assert view.final is True
    assert view.assessment.candidate is not None
    assert view.assessment.role_name["en"] == "New-media operations assistant"
    content = next(c for c in view.competencies if c.id == "content_creation")
    assert (content.level, content.gap, content.critical) == (1.0, 1.0, True)
    assert content.anchor_level == 1
    assert content.anchor == rubric_of(db, assessment).competency("content_creation").anchors[1]

    recommendation = view.recommendation
    assert recommendation is not None
    assert (recommendation.fit_band, recommendation.band, recommendation.capped) == (
        "yes",
        "maybe",
        True,
    )
    assert [c.competency_id for c in recommendation.caps] == ["content_creation"]
    assert recommendation.caps[0].gap == 1.0
    assert recommendation.caps[0].tolerance == 0.5
    assert "Content creation" in recommendation.reason["en"]
    assert "内容创作能力" in recommendation.reason["zh"]

    risky = {a.id: a for a in view.areas_at_risk}
    assert "content" in risky
    assert risky["content"].focus
    assert [g.competency_id for g in risky["content"].competencies] == ["content_creation"]
    assert next(iter(risky)) in rubric_of(db, assessment).role("assistant").focus_areas

    professional = next(d for d in view.dimensions if d.id == "professional")
    leveled = [c for c in view.competencies if c.dimension_id == "professional" and c.level]
    expected = sum(c.weight * c.target for c in leveled) / sum(c.weight for c in leveled)
    assert professional.target == pytest.approx(expected)

    assert [(n.rater_name, n.note) for n in view.rater_notes] == [("周评", "没有场景")]
    cc_trace = next(i for i in content.items if i.item_id == cc_item)
    assert cc_trace.answer_text is not None
    assert cc_trace.answer_text.startswith("熬夜")
    assert cc_trace.ratings[0].rater_name == "周评"
    choice = next(i for i in content.items if i.type != "work_sample")
    assert choice.selected
    assert "zh" in choice.selected[0]
    assert choice.raw == 0.0


def test_result_is_provisional_until_rated_and_says_why(
    db: Session, hr: User, settings: Settings
) -> None:
    assessment = make_submitted(db, hr, settings)

    view = assessment_service.get_result_view(db, hr, assessment.id)

    assert view.final is False
    assert view.pending == tuple(work_samples(db, assessment))
    assert view.provisional_reasons[0]["en"].startswith("2 work sample(s)")
    assert any(c.provisional for c in view.competencies)


def test_result_needs_a_submission_and_hr(
    db: Session, hr: User, settings: Settings, make_user: MakeUser
) -> None:
    invited, _ = make_assessment(db, hr, settings)
    with pytest.raises(NotFound, match="no result yet"):
        assessment_service.get_result_view(db, hr, invited.id)
    submitted = make_submitted(db, hr, settings)
    rater = make_user(Role.LEAD)
    assessment_service.assign_rater(db, hr, submitted.id, rater.id)
    with pytest.raises(Forbidden):
        assessment_service.get_result_view(db, rater, submitted.id)
