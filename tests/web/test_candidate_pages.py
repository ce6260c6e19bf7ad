"""The candidate's pages through the invite link: start, answer, review, submit."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assessments import candidate as candidate_service
from app.assessments.models import Assessment, AssessmentResult
from app.assessments.states import Status
from app.config import Settings
from app.db import utcnow
from app.rubrics.spec import Item, ItemType
from tests.assessments.test_candidate_service import make_invited_assessment


def drawn(db: Session, assessment: Assessment) -> list[Item]:
    index = candidate_service.rubric_of(db, assessment).item_index()
    return [index[i] for i in assessment.item_ids]


def section_items(db: Session, assessment: Assessment, number: int) -> list[Item]:
    return list(candidate_service.progress(db, assessment).section(number).items)


def first_work_sample_section(db: Session, assessment: Assessment) -> int:
    sections = candidate_service.progress(db, assessment).sections
    return next(s.number for s in sections if s.kind is ItemType.WORK_SAMPLE)


def assert_candidate_headers(response: Response) -> None:
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


# --- the link and the landing page --------------------------------------------------------------


def test_opening_the_link_shows_what_to_expect_and_starts_nothing(
    client: TestClient, invited: tuple[Assessment, str]
) -> None:
    assessment, raw = invited

    page = client.get(f"/take/{raw}", headers={"Accept-Language": "en"})

    assert page.status_code == 200
    assert_candidate_headers(page)
    text = html.unescape(page.text)
    assert "Wang Fang has invited you" in text
    assert "New-media operations assistant" in text
    assert "Section 1: Knowledge, 12 questions" in text
    assert "23 questions in all" in text
    assert "Time limit: 45 minutes" in text
    assert "used only for this hiring assessment" in text
    assert 'name="consent"' in text
    assert assessment.status == Status.INVITED
    assert assessment.started_at is None
    # Nothing to see before the start either.
    section = client.get(f"/take/{raw}/section/1", follow_redirects=False)
    assert section.status_code == 303
    assert section.headers["location"] == f"/take/{raw}"


def test_an_unknown_link_gets_a_friendly_not_found_page(client: TestClient) -> None:
    page = client.get("/take/not-a-real-token", headers={"Accept-Language": "en"})

    assert page.status_code == 404
    assert_candidate_headers(page)
    assert "This link is not valid" in page.text


def test_a_withdrawn_link_says_to_contact_hr(
    client: TestClient, invited: tuple[Assessment, str]
) -> None:
    assessment, raw = invited
    assessment.status = Status.REVOKED.value
    assessment.revoked_at = utcnow()

    page = client.get(f"/take/{raw}", headers={"Accept-Language": "en"})

    assert page.status_code == 410
    assert "withdrawn" in page.text
    assert "HR team" in page.text


def test_an_expired_link_is_recorded_as_expired(
    client: TestClient, db: Session, settings: Settings
) -> None:
    assessment, raw = make_invited_assessment(
        db, settings, link_expires_at=utcnow() - timedelta(minutes=1)
    )

    page = client.get(f"/take/{raw}", headers={"Accept-Language": "en"})

    assert page.status_code == 410
    assert "This link has expired" in page.text
    db.refresh(assessment)
    assert assessment.status == Status.EXPIRED
    refused = client.post(f"/take/{raw}/start", data={"consent": "yes"}, follow_redirects=False)
    assert refused.status_code == 410
    assert assessment.started_at is None


def test_starting_needs_consent(client: TestClient, invited: tuple[Assessment, str]) -> None:
    assessment, raw = invited

    refused = client.post(f"/take/{raw}/start", data={}, headers={"Accept-Language": "en"})

    assert refused.status_code == 422
    assert "tick the box to agree" in refused.text
    assert assessment.status == Status.INVITED

    started = client.post(f"/take/{raw}/start", data={"consent": "yes"}, follow_redirects=False)
    assert started.status_code == 303
    assert started.headers["location"] == f"/take/{raw}/section/1"
    assert assessment.status == Status.IN_PROGRESS
    # Once started, the landing page offers to continue instead of starting again.
    landing = client.get(f"/take/{raw}", headers={"Accept-Language": "en"})
    assert "Continue where you left off" in landing.text
    assert 'name="consent"' not in landing.text


# --- answering ---------------------------------------------------------------------------------


def test_next_without_javascript_saves_the_section_and_moves_on(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    items = section_items(db, assessment, 1)
    single = next(i for i in items if i.select == "single")
    multiple = next(i for i in items if i.select == "multiple")
    ticked = [multiple.options[0].id, multiple.options[2].id]

    moved = client.post(
        f"/take/{raw}/section/1",
        data={single.id: single.options[1].id, multiple.id: ticked, "_go": "next"},
        follow_redirects=False,
    )

    assert moved.status_code == 303
    assert moved.headers["location"] == f"/take/{raw}/section/2"
    assert candidate_service.saved_answers(db, assessment) == {
        single.id: [single.options[1].id],
        multiple.id: ticked,
        **{i.id: [] for i in items if i.id not in {single.id, multiple.id}},
    }
    back = client.get(f"/take/{raw}/section/1", headers={"Accept-Language": "en"})
    assert f'id="{single.id}--{single.options[1].id}" name="{single.id}"' in back.text
    checked = back.text.split(f'id="{single.id}--{single.options[1].id}"')[1].split(">")[0]
    assert "checked" in checked
    assert "Answered 2 of 12 in this section" in back.text
    # Reopening the link resumes at the first section with unanswered questions.
    resumed = client.post(f"/take/{raw}/start", data={}, follow_redirects=False)
    assert resumed.headers["location"] == f"/take/{raw}/section/1"


def test_previous_goes_back_and_the_last_section_leads_to_review(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    _, raw = started

    back = client.post(f"/take/{raw}/section/2", data={"_go": "prev"}, follow_redirects=False)
    last = client.post(f"/take/{raw}/section/3", data={"_go": "review"}, follow_redirects=False)

    assert back.headers["location"] == f"/take/{raw}/section/1"
    assert last.headers["location"] == f"/take/{raw}/review"
    assert client.get(f"/take/{raw}/section/4").status_code == 404


def test_markup_in_an_answer_is_stored_as_text_and_shown_escaped(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    number = first_work_sample_section(db, assessment)
    sample = section_items(db, assessment, number)[0]
    markup = "<script>alert(1)</script>\n<img src=x onerror=alert(2)>"

    client.post(f"/take/{raw}/section/{number}", data={sample.id: markup, "_go": "stay"})

    assert candidate_service.saved_answers(db, assessment)[sample.id] == markup
    page = client.get(f"/take/{raw}/section/{number}")
    assert "<script>alert(1)" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\n&lt;img src=x onerror=alert(2)&gt;" in page.text


def test_too_long_text_gets_a_message_by_the_field_and_keeps_what_was_typed(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    number = first_work_sample_section(db, assessment)
    sample, other = section_items(db, assessment, number)[:2]
    typed = "长" * (sample.max_length + 5)

    page = client.post(
        f"/take/{raw}/section/{number}",
        data={sample.id: typed, other.id: "另一题的答案", "_go": "next"},
        headers={"Accept-Language": "en"},
    )

    assert page.status_code == 422
    assert f"at most {sample.max_length} characters; yours has {sample.max_length + 5}" in (
        page.text
    )
    field = page.text.split(f'id="q-{sample.id}"')[1].split("</fieldset>")[0]
    assert f'id="error-{sample.id}">This answer can have at most' in field
    assert typed in field
    assert 'aria-invalid="true"' in field
    # The other answer on the page was saved; the refused one was not.
    assert candidate_service.saved_answers(db, assessment) == {other.id: "另一题的答案"}


def test_autosave_takes_json_and_reports_progress_and_problems(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    single = next(i for i in drawn(db, assessment) if i.select == "single" and i.is_choice)

    saved = client.post(
        f"/take/{raw}/autosave", json={"answers": {single.id: [single.options[0].id]}}
    )

    assert saved.status_code == 200
    assert_candidate_headers(saved)
    assert saved.json()["answered"] == 1
    assert saved.json()["total"] == 23
    refused = client.post(
        f"/take/{raw}/autosave",
        json={"answers": {single.id: ["nope"]}},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["problems"] == {
        single.id: "That option is not one of this question's."
    }
    unreadable = client.post(f"/take/{raw}/autosave", json={"answers": [], "status": "scored"})
    assert unreadable.status_code == 422
    assert candidate_service.saved_answers(db, assessment) == {single.id: [single.options[0].id]}


def test_the_page_never_shows_the_answer_key(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    page = html.unescape(client.get(f"/take/{raw}/section/2").text)

    for item in section_items(db, assessment, 2):
        assert item.prompt["en"] in page
        assert item.explanation["en"] not in page
        for option in item.options:
            assert option.rationale is None or option.rationale["en"] not in page


def test_a_timed_section_shows_the_server_countdown(
    client: TestClient, started: tuple[Assessment, str]
) -> None:
    _, raw = started

    page = client.get(f"/take/{raw}/section/1")

    remaining = int(page.text.split('data-remaining="')[1].split('"')[0])
    assert 44 * 60 < remaining <= 45 * 60
    assert 'role="timer"' in page.text


# --- review and submit -------------------------------------------------------------------------


def test_submit_asks_for_confirmation_then_is_idempotent(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    single = next(i for i in drawn(db, assessment) if i.is_choice)
    client.post(f"/take/{raw}/autosave", json={"answers": {single.id: [single.options[0].id]}})

    review = client.get(f"/take/{raw}/review", headers={"Accept-Language": "en"})
    assert "1 of 23 questions answered" in review.text
    assert "22 questions are still unanswered" in review.text

    unconfirmed = client.post(f"/take/{raw}/submit", data={}, headers={"Accept-Language": "en"})
    assert unconfirmed.status_code == 422
    assert "tick the box to confirm" in unconfirmed.text
    assert assessment.status == Status.IN_PROGRESS

    done = client.post(
        f"/take/{raw}/submit", data={"confirm": "yes"}, headers={"Accept-Language": "en"}
    )
    assert done.status_code == 200
    assert "your answers were received" in done.text
    assert assessment.status in {Status.SUBMITTED, Status.SCORED}
    first_computed = db.get_one(AssessmentResult, assessment.id).computed_at

    again = client.post(f"/take/{raw}/submit", data={"confirm": "yes"})
    assert again.status_code == 200
    assert db.get_one(AssessmentResult, assessment.id).computed_at == first_computed
    count = db.scalar(
        select(func.count())
        .select_from(AssessmentResult)
        .where(AssessmentResult.assessment_id == assessment.id)
    )
    assert count == 1


def test_after_submit_answers_are_read_only(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    single = next(i for i in section_items(db, assessment, 1) if i.select == "single")
    client.post(f"/take/{raw}/section/1", data={single.id: single.options[0].id, "_go": "stay"})
    client.post(f"/take/{raw}/submit", data={"confirm": "yes"})

    landing = client.get(f"/take/{raw}", headers={"Accept-Language": "en"})
    assert "your answers were received" in landing.text
    section = client.get(f"/take/{raw}/section/1", headers={"Accept-Language": "en"})
    assert "shown here read-only" in section.text
    assert "data-autosave" not in section.text
    assert 'name="_go"' not in section.text
    option = section.text.split(f'id="{single.id}--{single.options[0].id}"')[1].split(">")[0]
    assert "checked" in option
    assert "disabled" in option

    changed = client.post(
        f"/take/{raw}/section/1", data={single.id: single.options[1].id, "_go": "next"}
    )
    assert changed.status_code == 409
    autosaved = client.post(
        f"/take/{raw}/autosave", json={"answers": {single.id: [single.options[1].id]}}
    )
    assert autosaved.status_code == 409
    assert candidate_service.saved_answers(db, assessment)[single.id] == [single.options[0].id]
    assert client.get(f"/take/{raw}/review", follow_redirects=False).status_code == 303


def test_coming_back_after_the_deadline_shows_the_confirmation(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    sample_section = first_work_sample_section(db, assessment)
    sample = section_items(db, assessment, sample_section)[0]
    client.post(f"/take/{raw}/section/{sample_section}", data={sample.id: "写好的部分"})
    assessment.deadline_at = utcnow() - candidate_service.GRACE - timedelta(seconds=1)
    db.flush()

    page = client.get(f"/take/{raw}/section/1", headers={"Accept-Language": "en"})

    assert "your answers were received" in page.text
    assert "Time ran out at" in page.text
    assert assessment.status == Status.SUBMITTED
    assert db.get(AssessmentResult, assessment.id) is not None
    refused = client.post(f"/take/{raw}/autosave", json={"answers": {sample.id: "更多"}})
    assert refused.status_code == 409


# --- cross-site requests and language ----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({}, True),
        ({"Origin": "https://yardstick.example"}, True),
        ({"Origin": "https://yardstick.example:443"}, True),
        # Our pages send no referrer, so the browser sends `Origin: null` on our own forms.
        ({"Origin": "null", "Sec-Fetch-Site": "same-origin"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "http://yardstick.example"}, False),
        ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "cross-site"}, False),
    ],
)
def test_posts_from_other_sites_are_refused(
    client: TestClient,
    invited: tuple[Assessment, str],
    headers: dict[str, str],
    allowed: bool,
) -> None:
    assessment, raw = invited

    response = client.post(
        f"/take/{raw}/start", data={"consent": "yes"}, headers=headers, follow_redirects=False
    )

    assert_candidate_headers(response)
    if allowed:
        assert response.status_code == 303
        assert assessment.status == Status.IN_PROGRESS
    else:
        assert response.status_code == 403
        assert "another site" in response.text
        assert assessment.status == Status.INVITED


def test_cross_site_autosave_is_refused_as_json(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    single = next(i for i in drawn(db, assessment) if i.is_choice)

    response = client.post(
        f"/take/{raw}/autosave",
        json={"answers": {single.id: [single.options[0].id]}},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "cross_origin"
    assert candidate_service.saved_answers(db, assessment) == {}


def test_the_candidate_can_switch_language_and_it_is_remembered(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    item = section_items(db, assessment, 1)[0]

    chinese = client.get(
        f"/take/{raw}/section/1", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    )
    assert '<html lang="zh-CN"' in chinese.text  # Accept-Language decides at first
    switched = client.get(f"/take/{raw}/section/1?lang=en")
    assert '<html lang="en"' in switched.text
    assert item.prompt["en"] in html.unescape(switched.text)
    assert "lang=en" in switched.headers["set-cookie"]

    remembered = client.get(f"/take/{raw}/section/1", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="en"' in remembered.text
    back = client.get(f"/take/{raw}/section/1?lang=zh")
    assert item.prompt["zh"] in html.unescape(back.text)
    assert "第 1 部分，共 3 部分" in back.text
    assert f'href="/take/{raw}/section/1?lang=en"' in back.text


def test_a_form_with_a_file_is_refused_as_unreadable(
    client: TestClient, invited: tuple[Assessment, str]
) -> None:
    assessment, raw = invited

    response = client.post(
        f"/take/{raw}/start",
        data={"consent": "yes"},
        files={"upload": ("a.txt", b"hello", "text/plain")},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 400
    assert_candidate_headers(response)
    assert "could not be read" in response.text
    assert assessment.status == Status.INVITED
