"""HR switches the candidate feedback report on and off, by page and by API."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.config import Settings
from tests.conftest import Signed


def invitation(db: Session, settings: Settings, hr: User) -> Assessment:
    candidate = assessment_service.create_candidate(db, hr, "李雷", "li.lei@example.com")
    assessment, _ = assessment_service.create_assessment(
        db, hr, candidate.id, "new_media_operator", "assistant", None, 7, settings
    )
    return assessment


def test_hr_turns_the_feedback_report_on_and_off_on_the_page(
    client: TestClient,
    db: Session,
    settings: Settings,
    make_user: Callable[..., User],
    sign_in: Callable[[User], Signed],
) -> None:
    hr = make_user(Role.HR)
    assessment = invitation(db, settings, hr)
    signed = sign_in(hr)
    url = f"/staff/assessments/{assessment.id}/feedback"

    refused = client.post(url, data={"enabled": "on"}, follow_redirects=False)
    assert refused.status_code == 403
    assert assessment.candidate_feedback is False

    on = client.post(url, data={"enabled": "on", "csrf_token": signed.csrf}, follow_redirects=False)
    assert on.status_code == 303
    assert assessment.candidate_feedback is True
    page = client.get(on.headers["location"])
    assert "feedback report is now available" in page.text

    client.post(url, data={"csrf_token": signed.csrf}, follow_redirects=False)
    assert assessment.candidate_feedback is False


def test_only_hr_may_switch_it_through_the_api(
    client: TestClient,
    db: Session,
    settings: Settings,
    make_user: Callable[..., User],
    token_for: Callable[[User], dict[str, str]],
) -> None:
    hr = make_user(Role.HR)
    assessment = invitation(db, settings, hr)
    url = f"/api/v1/assessments/{assessment.id}/candidate-feedback"

    member = client.put(url, json={"enabled": True}, headers=token_for(make_user(Role.MEMBER)))
    assert member.status_code == 403
    anonymous = client.put(url, json={"enabled": True})
    assert anonymous.status_code == 401
    unknown_field = client.put(
        url, json={"enabled": True, "status": "scored"}, headers=token_for(hr)
    )
    assert unknown_field.status_code == 422

    done = client.put(url, json={"enabled": True}, headers=token_for(hr))
    assert done.status_code == 200
    assert done.json()["candidate_feedback"] is True
    assert assessment.candidate_feedback is True
