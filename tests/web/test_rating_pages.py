"""Raters' pages: the queue and the rating form, blind and limited to assigned tasks."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import candidate as candidate_service
from app.assessments import service as assessment_service
from app.assessments.models import Answer, Assessment, Rating
from app.config import Settings
from app.db import utcnow
from tests.assessments.staff_helpers import (
    answer_all,
    levels,
    make_assessment,
    make_candidate,
    rubric_of,
    work_samples,
)
from tests.conftest import MakeUser, SignIn

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR)


@pytest.fixture
def rater(make_user: MakeUser) -> User:
    return make_user(Role.MEMBER, name="Mo Member")


def submitted(db: Session, hr: User, settings: Settings, name: str = "Candidate Cui") -> Assessment:
    candidate = make_candidate(db, hr, name=name)
    assessment, _ = make_assessment(db, hr, settings, candidate=candidate)
    candidate_service.start(db, assessment, utcnow())
    answer_all(db, assessment)
    candidate_service.submit(db, assessment, utcnow())
    return assessment


def rating_fields(
    db: Session, assessment: Assessment, item_id: str, position: int
) -> dict[str, str]:
    return {
        f"criteria.{criterion}": level
        for criterion, level in levels(db, assessment, item_id, position).items()
    }


def test_a_rater_sees_only_their_tasks_and_never_the_candidate(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    rater: User,
    sign_in: SignIn,
) -> None:
    mine = submitted(db, hr, settings, name="Candidate Cui")
    submitted(db, hr, settings, name="Other Ou")
    assessment_service.assign_rater(db, hr, mine.id, rater.id)
    sign_in(rater)

    queue = client.get("/staff/ratings")

    assert queue.status_code == 200
    tasks = set(re.findall(r'href="/staff/ratings/(\d+)/(\w+)"', queue.text))
    assert tasks == {(str(mine.id), item) for item in work_samples(db, mine)}
    assert "Candidate Cui" not in queue.text
    assert "Other Ou" not in queue.text


def test_tasks_not_assigned_to_the_rater_are_404(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    rater: User,
    sign_in: SignIn,
) -> None:
    mine = submitted(db, hr, settings)
    other = submitted(db, hr, settings)
    assessment_service.assign_rater(db, hr, mine.id, rater.id)
    signed = sign_in(rater)
    theirs = work_samples(db, other)[0]
    choice_item = next(i for i in mine.item_ids if i not in work_samples(db, mine))

    for path in (
        f"/staff/ratings/{other.id}/{theirs}",
        f"/staff/ratings/{mine.id}/{choice_item}",
        f"/staff/ratings/{mine.id}/no_such_item",
        "/staff/ratings/999999/x",
    ):
        assert client.get(path).status_code == 404, path

    posted = client.post(
        f"/staff/ratings/{other.id}/{theirs}",
        data={"csrf_token": signed.csrf, **rating_fields(db, other, theirs, -1)},
    )
    assert posted.status_code == 404
    assert db.scalar(select(func.count()).select_from(Rating)) == 0


def test_the_rating_page_shows_the_task_blind_with_the_answer_escaped(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    rater: User,
    make_user: MakeUser,
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings, name="Candidate Cui")
    item_id = work_samples(db, assessment)[0]
    db.execute(
        update(Answer)
        .where(Answer.assessment_id == assessment.id, Answer.item_id == item_id)
        .values(text=f"第一行 {SCRIPT}\n<img src=x onerror=alert(2)>")
    )
    colleague = make_user(Role.LEAD)
    for user in (colleague, rater):
        assessment_service.assign_rater(db, hr, assessment.id, user.id)
    assessment_service.save_rating(
        db,
        colleague,
        assessment.id,
        item_id,
        levels(db, assessment, item_id, -1),
        "colleague's private note",
    )
    result = assessment_service.get_result_view(db, hr, assessment.id)
    sign_in(rater)

    page = client.get(f"/staff/ratings/{assessment.id}/{item_id}")

    assert page.status_code == 200
    text = page.text
    assert SCRIPT not in text
    assert "<img src=x" not in text
    assert (
        "第一行 &lt;script&gt;alert(1)&lt;/script&gt;\n&lt;img src=x onerror=alert(2)&gt;" in text
    )
    item = rubric_of(db, assessment).item_index()[item_id]
    assert str(escape(item.prompt["en"])) in text
    for criterion in item.criteria:
        for level in criterion.levels:
            assert f'name="criteria.{criterion.id}" value="{level.id}"' in text
    # Blind: no candidate, no other rater, no score.
    assert "Candidate Cui" not in text
    assert "colleague" not in text
    assert result.overall_level is not None
    assert f"{result.overall_level:.1f}" not in text
    assert "Recommendation" not in text
    assert client.get(f"/staff/assessments/{assessment.id}/result").status_code == 403


def test_saving_a_rating_goes_to_the_next_task_and_then_back_to_the_queue(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    rater: User,
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings)
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    signed = sign_in(rater)
    items = [e.item_id for e in assessment_service.rating_queue(db, rater)]
    assert len(items) >= 2

    for n, item_id in enumerate(items):
        response = client.post(
            f"/staff/ratings/{assessment.id}/{item_id}",
            data={
                "csrf_token": signed.csrf,
                "note": f"note {n}",
                **rating_fields(db, assessment, item_id, -1),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        if n + 1 < len(items):
            expected = f"/staff/ratings/{assessment.id}/{items[n + 1]}?notice=rated"
        else:
            expected = "/staff/ratings?notice=rated_last"
        assert response.headers["location"] == expected

    done = client.get("/staff/ratings?notice=rated_last")
    assert "You have no more tasks to rate." in done.text
    assert "Nothing is waiting for your rating." in done.text
    saved = db.scalars(select(Rating).where(Rating.rater_id == rater.id)).all()
    assert sorted(r.item_id for r in saved) == sorted(items)
    assert {r.note for r in saved} == {f"note {n}" for n in range(len(items))}


def test_a_rating_with_a_criterion_missing_is_shown_again_with_what_was_picked(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    rater: User,
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings)
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    signed = sign_in(rater)
    item_id = work_samples(db, assessment)[0]
    fields = rating_fields(db, assessment, item_id, 0)
    missing, *kept = list(fields)

    response = client.post(
        f"/staff/ratings/{assessment.id}/{item_id}",
        data={"csrf_token": signed.csrf, "note": "half done", **{k: fields[k] for k in kept}},
    )

    assert response.status_code == 422
    assert re.search(
        rf'id="field-{re.escape(missing)}-error">Pick a level for this criterion', response.text
    )
    for key in kept:
        assert f'name="{key}" value="{fields[key]}" checked' in response.text
    assert ">half done</textarea>" in response.text
    assert db.scalar(select(func.count()).select_from(Rating)) == 0


def test_a_rating_without_the_csrf_token_is_refused(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    rater: User,
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings)
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    sign_in(rater)
    item_id = work_samples(db, assessment)[0]

    response = client.post(
        f"/staff/ratings/{assessment.id}/{item_id}", data=rating_fields(db, assessment, item_id, 0)
    )

    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(Rating)) == 0


def test_a_rater_sees_their_own_earlier_rating_to_revise(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    rater: User,
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings)
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    item_id = work_samples(db, assessment)[0]
    chosen = levels(db, assessment, item_id, 1)
    assessment_service.save_rating(db, rater, assessment.id, item_id, chosen, "my first go")
    sign_in(rater)

    page = client.get(f"/staff/ratings/{assessment.id}/{item_id}")

    assert page.status_code == 200
    assert "Saving again replaces your earlier rating." in page.text
    for criterion, level in chosen.items():
        assert f'name="criteria.{criterion}" value="{level}" checked' in page.text
    assert ">my first go</textarea>" in page.text
