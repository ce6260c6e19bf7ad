"""HR's result page (levels against targets, recommendation, provisional state, trace) and
rater agreement per campaign."""

from __future__ import annotations

import re
from collections.abc import Collection

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import candidate as candidate_service
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.config import Settings
from app.db import utcnow
from tests.assessments.staff_helpers import (
    Quality,
    answer_all,
    levels,
    make_assessment,
    make_candidate,
    work_samples,
)
from tests.conftest import MakeUser, SignIn

LOWEST, HIGHEST = 0, -1


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR)


@pytest.fixture
def raters(make_user: MakeUser) -> tuple[User, User]:
    return make_user(Role.MEMBER, name="Mei Member"), make_user(Role.LEAD, name="Lu Lead")


def submitted(
    db: Session,
    hr: User,
    settings: Settings,
    *,
    role: str = "assistant",
    quality: Quality = "best",
    weak: Collection[str] = (),
) -> Assessment:
    candidate = make_candidate(db, hr, name="Result Ren")
    assessment, _ = make_assessment(db, hr, settings, role=role, candidate=candidate)
    candidate_service.start(db, assessment, utcnow())
    answer_all(db, assessment, quality=quality, weak=weak)
    candidate_service.submit(db, assessment, utcnow())
    return assessment


def rate_all(
    db: Session,
    hr: User,
    assessment: Assessment,
    given: list[tuple[User, int]],
    note: str = "",
) -> None:
    """Each rater rates every work sample at one level position on every criterion."""
    for user, position in given:
        assessment_service.assign_rater(db, hr, assessment.id, user.id)
        for item_id in work_samples(db, assessment):
            chosen = levels(db, assessment, item_id, position)
            assessment_service.save_rating(db, user, assessment.id, item_id, chosen, note)


def row_of(text: str, label: str) -> str:
    """The table row whose header cell starts with `label`."""
    shown = re.escape(str(escape(label)))
    found = re.search(rf'<th scope="row">{shown}.*?</tr>', text, re.S)
    assert found is not None, label
    return found.group(0)


def test_a_provisional_result_names_what_is_pending_and_shows_the_trace(
    client: TestClient, db: Session, settings: Settings, hr: User, sign_in: SignIn
) -> None:
    assessment = submitted(db, hr, settings)
    result = assessment_service.get_result_view(db, hr, assessment.id)
    assert not result.final
    pending = work_samples(db, assessment)
    sign_in(hr)

    page = client.get(f"/staff/assessments/{assessment.id}/result")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert "provisional-banner" in text
    assert f"{len(pending)} work sample(s) still await a rating" in text
    for item_id in pending:
        assert f"<code>{item_id}</code> — Awaiting a rating" in text
    assert result.rubric_version[:12] in text
    # Levels and targets per competency, one decimal.
    for competency in result.competencies:
        row = row_of(text, competency.name["en"])
        level = "—" if competency.level is None else f"{competency.level:.1f}"
        assert f">{level}</td>" in row
        assert f">{competency.target:.1f}</td>" in row
    for dimension in result.dimensions:
        row = row_of(text, dimension.name["en"])
        assert dimension.level is not None
        assert f">{dimension.level:.1f}</td>" in row
    # Two charts (competencies, dimensions), each also drawn narrow for phones.
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 4
    # The trace reaches every drawn item, without JS.
    assert text.count('<details class="trace">') == len(result.competencies)
    for item_id in assessment.item_ids:
        assert f"<code>{item_id}</code> ·" in text


def test_a_final_result_shows_fit_recommendation_with_its_reason_and_rater_notes(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    raters: tuple[User, User],
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings)
    rate_all(db, hr, assessment, [(r, HIGHEST) for r in raters], note="Clear <b>hook</b>\nline 2")
    result = assessment_service.get_result_view(db, hr, assessment.id)
    assert result.final
    assert result.recommendation is not None
    assert result.fit is not None
    sign_in(hr)

    text = client.get(f"/staff/assessments/{assessment.id}/result").text

    assert "provisional-banner" not in text
    assert f">{result.fit * 100:.0f}%<" in text
    assert f'<span class="tile-number">{escape(result.recommendation.label["en"])}</span>' in text
    assert str(escape(result.recommendation.reason["en"])) in text
    assert "not applied" in text  # no critical cap
    assert "Clear &lt;b&gt;hook&lt;/b&gt;\nline 2" in text
    assert "<b>hook</b>" not in text
    assert "Mei Member" in text
    assert "Lu Lead" in text


def test_a_critical_gap_names_the_cap_and_the_areas_at_risk(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    raters: tuple[User, User],
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings, weak={"content_creation"})
    rate_all(db, hr, assessment, [(r, LOWEST) for r in raters])
    result = assessment_service.get_result_view(db, hr, assessment.id)
    assert result.recommendation is not None
    assert [c.competency_id for c in result.recommendation.caps] == ["content_creation"]
    assert result.areas_at_risk
    sign_in(hr)

    text = client.get(f"/staff/assessments/{assessment.id}/result").text

    assert "Critical cap</dt>" in text
    assert "Content creation" in text
    if result.recommendation.capped:
        assert "so the recommendation is capped at" in text
    for area in result.areas_at_risk:
        assert f"<strong>{escape(area.name['en'])}</strong>" in text
    assert "focus of this role" in text


def test_raters_who_disagree_make_the_result_wait_for_adjudication(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    raters: tuple[User, User],
    sign_in: SignIn,
) -> None:
    assessment = submitted(db, hr, settings)
    first, second = raters
    rate_all(db, hr, assessment, [(first, HIGHEST), (second, LOWEST)])
    sign_in(hr)

    text = client.get(f"/staff/assessments/{assessment.id}/result").text

    assert "provisional-banner" in text
    assert "await an adjudicator" in text
    assert "Raters disagree too much; adjudication needed" in text


def test_there_is_no_result_page_before_submission_and_none_for_raters(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    raters: tuple[User, User],
    sign_in: SignIn,
) -> None:
    invited, _ = make_assessment(db, hr, settings)
    done = submitted(db, hr, settings)
    assessment_service.assign_rater(db, hr, done.id, raters[0].id)
    sign_in(hr)
    assert client.get(f"/staff/assessments/{invited.id}/result").status_code == 404
    assert (
        f"/staff/assessments/{invited.id}/result"
        not in client.get(f"/staff/assessments/{invited.id}").text
    )
    assert (
        f'href="/staff/assessments/{done.id}/result"'
        in client.get(f"/staff/assessments/{done.id}").text
    )

    sign_in(raters[0])
    assert client.get(f"/staff/assessments/{done.id}/result").status_code == 403


def test_campaign_agreement_shows_alpha_flags_low_and_says_when_data_is_missing(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    raters: tuple[User, User],
    sign_in: SignIn,
) -> None:
    first, second = raters
    # Assistant: the raters contradict each other on every work sample.
    rate_all(db, hr, submitted(db, hr, settings), [(first, HIGHEST), (second, LOWEST)])
    rate_all(db, hr, submitted(db, hr, settings), [(first, LOWEST), (second, HIGHEST)])
    # Specialist: they agree, at different levels on different sittings.
    specialist_a = submitted(db, hr, settings, role="specialist")
    specialist_b = submitted(db, hr, settings, role="specialist")
    rate_all(db, hr, specialist_a, [(first, HIGHEST), (second, HIGHEST)])
    rate_all(db, hr, specialist_b, [(first, LOWEST), (second, LOWEST)])
    sign_in(hr)

    text = client.get("/staff/campaigns").text

    assistant = row_of(text, "New-media operations assistant")
    specialist = row_of(text, "New-media operations specialist")
    lead = row_of(text, "New-media operations lead")
    assert "badge-danger" in assistant
    assert "Low agreement" in assistant
    assert "<strong>1.000</strong>" in specialist
    assert "badge-ok" in specialist
    doubly = len(work_samples(db, specialist_a)) + len(work_samples(db, specialist_b))
    assert f'data-label="Doubly-rated items" class="num">{doubly}</td>' in specialist
    assert "not enough data" in lead
