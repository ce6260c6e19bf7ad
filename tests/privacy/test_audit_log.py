"""Viewing and changing results leaves an audit event; only admins read the log (API and page)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments import candidate as candidate_service
from app.assessments import service as assessment_service
from app.config import Settings
from app.db import utcnow
from app.privacy import audit
from tests.assessments.staff_helpers import make_assessment, work_samples
from tests.conftest import SignIn
from tests.privacy.privacy_helpers import candidate_of, events, scored
from tests.reports.report_helpers import released_review
from tests.reviews.review_helpers import MakeUser, make_team

Headers = Callable[[User], dict[str, str]]
API = "/api/v1/audit"


@pytest.fixture
def admin(make_user: MakeUser) -> User:
    return make_user(Role.ADMIN, name="管理员 甲")


@pytest.fixture
def hr(make_user: MakeUser) -> User:
    return make_user(Role.HR, name="人事 乙")


def test_viewing_a_result_by_api_page_or_report_writes_an_event(
    client: TestClient,
    db: Session,
    settings: Settings,
    hr: User,
    token_for: Headers,
    sign_in: SignIn,
) -> None:
    assessment = scored(db, hr, settings)
    candidate = candidate_of(db, assessment)
    before = len(events(db, "assessment.result_viewed"))

    assert client.get(
        f"/api/v1/assessments/{assessment.id}/result", headers=token_for(hr)
    ).is_success
    pdf = client.get(f"/api/v1/reports/candidates/{assessment.id}.pdf", headers=token_for(hr))
    assert pdf.is_success
    sign_in(hr)
    assert client.get(f"/staff/assessments/{assessment.id}/result").is_success

    viewed = events(db, "assessment.result_viewed")[before:]
    assert [e.detail["via"] for e in viewed] == ["api", "page"]
    [report] = events(db, "assessment.report_viewed")
    assert report.detail == {"report": "candidate", "format": "pdf"}
    for event in [*viewed, report]:
        assert (event.actor_id, event.actor_label) == (hr.id, f"hr #{hr.id}")
        assert (event.object_type, event.object_id) == ("assessment", str(assessment.id))
        assert (event.subject_kind, event.subject_id) == ("candidate", candidate.id)


def test_a_refused_view_writes_no_event(
    client: TestClient, db: Session, settings: Settings, hr: User, make_user: MakeUser,
    token_for: Headers,
) -> None:  # fmt: skip
    assessment = scored(db, hr, settings)
    member = make_user(Role.MEMBER)
    before = len(events(db))

    response = client.get(f"/api/v1/assessments/{assessment.id}/result", headers=token_for(member))

    assert response.status_code == 403
    assert len(events(db)) == before


def test_review_result_views_name_the_ratee_and_ratings_are_logged_against_the_rater(
    client: TestClient, db: Session, settings: Settings, make_user: MakeUser, token_for: Headers
) -> None:
    team = make_team(db, settings, make_user)
    review = released_review(db, settings, team, peers=(1, 2, 3))

    url = f"/api/v1/review-cycles/{review.cycle_id}/results/{review.ratee.id}"
    assert client.get(url, headers=token_for(team.lead)).is_success

    [viewed] = events(db, "review.result_viewed")
    assert (viewed.actor_id, viewed.subject_kind, viewed.subject_id) == (
        team.lead.id,
        "user",
        review.ratee.id,
    )
    submitted = events(db, "review.rating_submitted")
    assert len(submitted) == 5  # self, the lead and three peers
    # Never "rater X rated person Y": each rating event is about the rater alone.
    assert all(e.subject_id == e.actor_id for e in submitted)
    assert {e.object_id for e in submitted} == {str(review.cycle_id)}
    [closed] = events(db, "review.cycle_closed")
    assert closed.actor_id == team.lead.id


def test_changes_are_logged_by_the_services(db: Session, settings: Settings, hr: User) -> None:
    assessment = scored(db, hr, settings)
    samples = len(work_samples(db, assessment))
    sitting, _ = make_assessment(db, hr, settings)
    candidate_service.start(db, sitting, utcnow())
    candidate_service.submit(db, sitting, utcnow())

    assessment_service.set_candidate_feedback(db, hr, assessment.id, True)
    assessment_service.revoke(db, hr, make_assessment(db, hr, settings)[0].id)

    assert len(events(db, "assessment.invited")) == 3
    assert len(events(db, "assessment.rating_saved")) == samples
    [submitted] = events(db, "assessment.submitted")
    assert (submitted.actor_id, submitted.actor_label) == (None, "candidate")
    assert submitted.object_id == str(sitting.id)
    [feedback] = events(db, "assessment.feedback_changed")
    assert feedback.detail == {"on": True}
    [revoked] = events(db, "assessment.revoked")
    assert revoked.detail == {"was": "invited"}


@pytest.mark.parametrize("role", [Role.HR, Role.LEAD, Role.MEMBER])
def test_only_admins_read_the_log_by_api(
    client: TestClient, make_user: MakeUser, token_for: Headers, role: Role
) -> None:
    assert client.get(API).status_code == 401
    assert client.get(API, headers=token_for(make_user(role))).status_code == 403


@pytest.mark.parametrize("role", [Role.HR, Role.LEAD, Role.MEMBER])
def test_only_admins_see_the_log_page_and_its_link(
    client: TestClient, make_user: MakeUser, sign_in: SignIn, role: Role
) -> None:
    assert client.get("/admin/audit", follow_redirects=False).status_code == 303
    sign_in(make_user(role))

    assert client.get("/admin/audit").status_code == 403
    assert 'href="/admin/audit"' not in client.get("/account").text


def test_the_api_lists_events_newest_first_with_filters_and_pages(
    client: TestClient,
    db: Session,
    settings: Settings,
    admin: User,
    hr: User,
    token_for: Headers,
) -> None:
    first = scored(db, hr, settings, name="张伟", email="zhang@example.com")
    second = scored(db, hr, settings, name="李娜", email="li@example.com")
    headers = token_for(admin)
    for assessment in (first, second, first):
        client.get(f"/api/v1/assessments/{assessment.id}/result", headers=token_for(hr))

    body = client.get(
        API, params={"action": "assessment.result_viewed", "per_page": 2}, headers=headers
    ).json()

    assert (body["total"], body["pages"], body["page"]) == (3, 2, 1)
    assert [e["object_id"] for e in body["events"]] == [str(first.id), str(second.id)]
    assert body["events"][0]["subject_name"] == "张伟"
    assert body["events"][0]["actor_name"] == "人事 乙"
    older = client.get(
        API,
        params={"action": "assessment.result_viewed", "per_page": 2, "page": 2},
        headers=headers,
    ).json()
    assert [e["object_id"] for e in older["events"]] == [str(first.id)]
    by_email = client.get(API, params={"person": "li@example.com"}, headers=headers).json()
    assert by_email["total"] > 0
    assert {e["subject"] for e in by_email["events"]} == {
        f"candidate:{candidate_of(db, second).id}"
    }
    by_id = client.get(
        API, params={"person": f"candidate:{candidate_of(db, first).id}"}, headers=headers
    ).json()
    assert {e["subject_name"] for e in by_id["events"]} == {"张伟"}
    nobody = client.get(API, params={"person": "nobody@example.com"}, headers=headers).json()
    assert nobody["total"] == 0
    today = utcnow().date().isoformat()
    assert (
        client.get(API, params={"date_from": today, "date_to": today}, headers=headers).json()[
            "total"
        ]
        == (client.get(API, headers=headers).json()["total"])
    )
    assert client.get(API, params={"date_to": "2000-01-01"}, headers=headers).json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 201}, "per_page"),
        ({"page": 0}, "page"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"action": "result.peeked"}, "action"),
        ({"person": "just a name"}, "person"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_from"),
    ],
)
def test_bad_paging_and_filter_values_are_refused_naming_the_field(
    client: TestClient, admin: User, token_for: Headers, params: dict[str, object], field: str
) -> None:
    response = client.get(API, params=params, headers=token_for(admin))

    assert response.status_code == 422
    assert field in response.text


def test_the_admin_page_lists_an_event_in_either_language(
    client: TestClient,
    db: Session,
    settings: Settings,
    admin: User,
    hr: User,
    token_for: Headers,
    sign_in: SignIn,
) -> None:
    assessment = scored(db, hr, settings, name="张伟")
    client.get(f"/api/v1/assessments/{assessment.id}/result", headers=token_for(hr))
    sign_in(admin)

    english = client.get("/admin/audit", headers={"Accept-Language": "en"})
    chinese = client.get(
        "/admin/audit",
        params={"action": "assessment.result_viewed"},
        headers={"Accept-Language": "zh"},
    )

    assert english.status_code == 200
    assert english.headers["cache-control"] == "no-store"
    assert "Audit log" in english.text
    assert "Assessment result viewed" in english.text
    assert 'href="/admin/audit"' in english.text  # in the admin's navigation
    assert chinese.status_code == 200
    assert "审计日志" in chinese.text
    assert "查看测评结果" in chinese.text
    assert "张伟" in chinese.text
    assert "人事 乙" in chinese.text
    assert (
        "1 event(s)"
        in client.get(
            "/admin/audit",
            params={"action": "assessment.result_viewed"},
            headers={"Accept-Language": "en"},
        ).text
    )


def test_the_admin_page_explains_bad_filters(
    client: TestClient, admin: User, sign_in: SignIn
) -> None:
    sign_in(admin)

    response = client.get(
        "/admin/audit", params={"date_from": "31/12/2026", "page": "x"},
        headers={"Accept-Language": "en"},
    )  # fmt: skip

    assert response.status_code == 422
    assert "Give a date as YYYY-MM-DD" in response.text
    assert "The page number must be a whole number" in response.text


def test_record_refuses_an_action_it_does_not_know(db: Session) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(db, "command line", "result.peeked", "assessment", 1)
    assert events(db) == []
