"""The staff JSON API: every route, every refusal per role, and what each role gets to see."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.accounts.secrets import hash_token
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.config import Settings
from tests.assessments.staff_helpers import (
    RUBRIC,
    levels,
    make_assessment,
    make_candidate,
    make_submitted,
    work_samples,
)
from tests.conftest import MakeUser, Signed

Headers = dict[str, str]
API = "/api/v1"


@dataclass
class World:
    hr: User
    admin: User
    lead: User
    member: User
    rater: User
    headers: dict[str, Headers]
    assessment: Assessment
    invited: Assessment
    candidate_id: int
    item_id: str

    def as_(self, who: str) -> Headers:
        return self.headers[who]


@pytest.fixture
def world(
    db: Session,
    settings: Settings,
    make_user: MakeUser,
    token_for: Callable[[User], Headers],
) -> World:
    """A submitted assessment with one assigned rater, an open invitation, a user per role."""
    hr, admin = make_user(Role.HR), make_user(Role.ADMIN)
    lead, member = make_user(Role.LEAD), make_user(Role.MEMBER)
    rater = make_user(Role.MEMBER, name="吴评")
    candidate = make_candidate(db, hr, "张伟", "zhang.wei@example.com")
    assessment = make_submitted(db, hr, settings, candidate=candidate)
    assessment_service.assign_rater(db, hr, assessment.id, rater.id)
    users = {"hr": hr, "admin": admin, "lead": lead, "member": member, "rater": rater}
    return World(
        **users,
        headers={name: token_for(user) for name, user in users.items()} | {"anonymous": {}},
        assessment=assessment,
        invited=make_assessment(db, hr, settings, role="specialist", candidate=candidate)[0],
        candidate_id=candidate.id,
        item_id=work_samples(db, assessment)[0],
    )


def keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys(inner)


# ── refusals ────────────────────────────────────────────────────────────────────────────

HR_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/candidates", {"name": "李娜", "email": "li.na@example.com"}),
    ("GET", "/candidates", None),
    ("GET", "/candidates/{candidate}", None),
    (
        "POST",
        "/assessments",
        {"candidate_id": "{candidate}", "rubric_id": RUBRIC, "role_id": "assistant"},
    ),
    ("GET", "/assessments", None),
    ("POST", "/assessments/{invited}/revoke", None),
    ("POST", "/assessments/{invited}/extend", {"days": 3}),
    ("POST", "/assessments/{invited}/reissue", {}),
    ("POST", "/assessments/{assessment}/raters", {"user_id": "{member}"}),
    ("DELETE", "/assessments/{assessment}/raters/{rater}", None),
    ("GET", "/assessments/{assessment}/result", None),
    ("GET", f"/campaigns/{RUBRIC}/assistant/agreement", None),
    ("GET", "/assessments/export.csv?role=assistant", None),
    ("GET", "/assessments/export.xlsx?role=assistant", None),
]


def fill(template: Any, world: World) -> Any:
    ids = {
        "{candidate}": world.candidate_id,
        "{assessment}": world.assessment.id,
        "{invited}": world.invited.id,
        "{member}": world.member.id,
        "{rater}": world.rater.id,
    }
    if isinstance(template, dict):
        return {k: fill(v, world) for k, v in template.items()}
    if isinstance(template, str):
        if template in ids:
            return ids[template]
        for marker, value in ids.items():
            template = template.replace(marker, str(value))
    return template


@pytest.mark.parametrize(("method", "path", "body"), HR_ROUTES)
@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 401), ("member", 403), ("lead", 403), ("rater", 403)]
)
def test_hr_routes_refuse_everyone_else(
    client: TestClient,
    world: World,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    who: str,
    status: int,
) -> None:
    response = client.request(
        method, API + fill(path, world), json=fill(body, world), headers=world.as_(who)
    )
    assert response.status_code == status, response.text
    assert world.invited.status == "invited"


@pytest.mark.parametrize(("method", "path", "body"), HR_ROUTES)
@pytest.mark.parametrize("who", ["hr", "admin"])
def test_hr_routes_serve_hr_and_admins(
    client: TestClient,
    world: World,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    who: str,
) -> None:
    response = client.request(
        method, API + fill(path, world), json=fill(body, world), headers=world.as_(who)
    )
    assert 200 <= response.status_code < 300, response.text


@pytest.mark.parametrize("who", ["lead", "member"])
def test_an_unassigned_rater_finds_nothing(client: TestClient, world: World, who: str) -> None:
    base = f"{API}/assessments/{world.assessment.id}"
    task = f"{base}/items/{world.item_id}"
    criteria = {"criteria": {"x": "y"}}
    headers = world.as_(who)

    assert client.get(base, headers=headers).status_code == 404
    assert client.get(f"{task}/rating-task", headers=headers).status_code == 404
    assert client.put(f"{task}/rating", json=criteria, headers=headers).status_code == 404
    assert client.get(f"{API}/ratings/queue", headers=headers).json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/assessments/{assessment}"),
        ("GET", "/ratings/queue"),
        ("GET", "/assessments/{assessment}/items/{item}/rating-task"),
        ("PUT", "/assessments/{assessment}/items/{item}/rating"),
    ],
)
def test_rater_routes_need_a_signed_in_user(
    client: TestClient, world: World, method: str, path: str
) -> None:
    url = API + fill(path, world).replace("{item}", world.item_id)
    response = client.request(method, url, json={"criteria": {}})
    assert response.status_code == 401


def test_unknown_ids_are_404_for_hr(client: TestClient, world: World) -> None:
    headers = world.as_("hr")
    assert client.get(f"{API}/assessments/999999", headers=headers).status_code == 404
    assert client.get(f"{API}/candidates/999999", headers=headers).status_code == 404
    assert client.get(f"{API}/assessments/999999/result", headers=headers).status_code == 404


# ── HR flows ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("who", ["hr", "admin"])
def test_hr_invites_a_candidate_and_sees_the_url_only_once(
    client: TestClient, world: World, db: Session, who: str
) -> None:
    headers = world.as_(who)
    created = client.post(
        f"{API}/candidates",
        json={"name": "李娜", "email": "Li.Na@Example.com", "note": "校招"},
        headers=headers,
    )
    assert created.status_code == 201
    candidate = created.json()
    assert (candidate["name"], candidate["email"]) == ("李娜", "li.na@example.com")

    invited = client.post(
        f"{API}/assessments",
        json={
            "candidate_id": candidate["id"],
            "rubric_id": RUBRIC,
            "role_id": "assistant",
            "time_limit_minutes": 60,
            "link_valid_days": 7,
        },
        headers=headers,
    )
    assert invited.status_code == 201
    body = invited.json()
    url = body["invite_url"]
    assert url.startswith("https://yardstick.example/take/")
    token = url.rsplit("/", 1)[1]
    assessment = body["assessment"]
    assert assessment["status"] == "invited"
    assert assessment["link_active"] is True
    assert assessment["time_limit_minutes"] == 60
    assert assessment["item_count"] == len(
        db.scalar(select(Assessment.item_ids).where(Assessment.id == assessment["id"])) or []
    )

    again = client.get(f"{API}/assessments/{assessment['id']}", headers=headers)
    assert again.status_code == 200
    assert token not in again.text
    assert "invite_url" not in again.json()
    detail = client.get(f"{API}/candidates/{candidate['id']}", headers=headers).json()
    assert [a["id"] for a in detail["assessments"]] == [assessment["id"]]
    assert token not in client.get(f"{API}/assessments", headers=headers).text


def test_invite_links_ignore_the_request_host(client: TestClient, world: World) -> None:
    response = client.post(
        f"{API}/assessments",
        json={"candidate_id": world.candidate_id, "rubric_id": RUBRIC, "role_id": "lead"},
        headers=world.as_("hr") | {"Host": "attacker.example"},
    )
    assert response.json()["invite_url"].startswith("https://yardstick.example/take/")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/candidates", {"name": "李娜", "email": "x@example.com", "owner": 1}, "owner"),
        (
            "/assessments",
            {
                "candidate_id": 1,
                "rubric_id": RUBRIC,
                "role_id": "assistant",
                "status": "scored",
            },
            "status",
        ),
        (
            "/assessments/{assessment}/extend",
            {"days": 2, "deadline_at": "2100-01-01"},
            "deadline_at",
        ),
    ],
)
def test_inputs_refuse_fields_a_client_must_not_set(
    client: TestClient, world: World, path: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(API + fill(path, world), json=body, headers=world.as_("hr"))
    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])


def test_service_validation_errors_name_the_field(client: TestClient, world: World) -> None:
    response = client.post(
        f"{API}/candidates",
        json={"name": "李娜", "email": "not-an-email"},
        headers=world.as_("hr"),
    )
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "email"

    response = client.post(
        f"{API}/assessments",
        json={"candidate_id": world.candidate_id, "rubric_id": RUBRIC, "role_id": "astronaut"},
        headers=world.as_("hr"),
    )
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "role_id"


def test_hr_revokes_extends_and_reissues(client: TestClient, world: World, db: Session) -> None:
    headers = world.as_("hr")
    created = client.post(
        f"{API}/assessments",
        json={"candidate_id": world.candidate_id, "rubric_id": RUBRIC, "role_id": "assistant"},
        headers=headers,
    ).json()
    assessment_id = created["assessment"]["id"]
    old_token = created["invite_url"].rsplit("/", 1)[1]
    base = f"{API}/assessments/{assessment_id}"

    extended = client.post(f"{base}/extend", json={"days": 5}, headers=headers)
    assert extended.status_code == 200
    assert extended.json()["link_expires_at"] > created["assessment"]["link_expires_at"]

    revoked = client.post(f"{base}/revoke", headers=headers)
    assert revoked.status_code == 200
    assert (revoked.json()["status"], revoked.json()["link_active"]) == ("revoked", False)
    assert client.post(f"{base}/revoke", headers=headers).status_code == 409

    reissued = client.post(f"{base}/reissue", json={"link_valid_days": 2}, headers=headers)
    assert reissued.status_code == 200
    new_token = reissued.json()["invite_url"].rsplit("/", 1)[1]
    assert new_token != old_token
    assert reissued.json()["assessment"]["status"] == "invited"
    stored = db.scalar(select(Assessment.token_hash).where(Assessment.id == assessment_id))
    assert stored == hash_token(new_token)

    submitted = f"{API}/assessments/{world.assessment.id}"
    assert client.post(f"{submitted}/reissue", json={}, headers=headers).status_code == 409
    assert client.post(f"{submitted}/extend", json={"days": 1}, headers=headers).status_code == 409


def test_hr_assigns_and_removes_raters(client: TestClient, world: World) -> None:
    headers = world.as_("hr")
    base = f"{API}/assessments/{world.assessment.id}/raters"

    added = client.post(base, json={"user_id": world.lead.id, "adjudicator": True}, headers=headers)
    assert added.status_code == 201
    assert [(r["user_id"], r["adjudicator"]) for r in added.json()] == [
        (world.rater.id, False),
        (world.lead.id, True),
    ]
    twice = client.post(base, json={"user_id": world.lead.id}, headers=headers)
    assert twice.status_code == 409
    assert twice.json()["detail"]["field"] == "user_id"

    removed = client.delete(f"{base}/{world.lead.id}", headers=headers)
    assert removed.status_code == 200
    assert [r["user_id"] for r in removed.json()] == [world.rater.id]
    assert client.delete(f"{base}/{world.lead.id}", headers=headers).status_code == 404


def test_list_filters_and_sorts_through_query_parameters(
    client: TestClient, world: World, db: Session, settings: Settings
) -> None:
    other = make_submitted(
        db, settings=settings, hr=world.hr, candidate=make_candidate(db, world.hr, "Anna")
    )
    headers = world.as_("hr")

    by_name = client.get(
        f"{API}/assessments",
        params={"role": "assistant", "sort": "name", "descending": "true"},
        headers=headers,
    ).json()
    assert [r["candidate_name"] for r in by_name["items"]] == ["张伟", "Anna"]
    found = client.get(f"{API}/assessments", params={"search": "anna"}, headers=headers).json()
    assert [r["id"] for r in found["items"]] == [other.id]
    nothing = client.get(f"{API}/assessments", params={"role": "lead"}, headers=headers).json()
    assert (nothing["items"], nothing["total"], nothing["pages"]) == ([], 0, 1)
    assert (
        client.get(f"{API}/assessments", params={"sort": "salary"}, headers=headers).status_code
        == 422
    )
    bad_status = client.get(f"{API}/assessments", params={"status": "hired"}, headers=headers)
    assert bad_status.json()["detail"]["field"] == "status"


# ── rating and results ──────────────────────────────────────────────────────────────────


def test_assigned_rater_sees_only_their_tasks_and_never_scores(
    client: TestClient, world: World, db: Session, make_user: MakeUser
) -> None:
    colleague = make_user(Role.LEAD)
    assessment_service.assign_rater(db, world.hr, world.assessment.id, colleague.id)
    assessment_service.save_rating(
        db,
        colleague,
        world.assessment.id,
        world.item_id,
        levels(db, world.assessment, world.item_id, -1),
        "同事的私评",
    )
    headers = world.as_("rater")

    queue = client.get(f"{API}/ratings/queue", headers=headers).json()
    assert {(e["assessment_id"], e["item_id"]) for e in queue} == {
        (world.assessment.id, i) for i in work_samples(db, world.assessment)
    }
    blind = client.get(f"{API}/assessments/{world.assessment.id}", headers=headers).json()
    assert (blind["candidate"], blind["raters"], blind["result"]) == (None, [], None)
    task = client.get(
        f"{API}/assessments/{world.assessment.id}/items/{world.item_id}/rating-task",
        headers=headers,
    )
    assert task.status_code == 200
    body = task.json()
    assert body["answer_text"].startswith("熬夜急救面膜")
    assert body["own_rating"] is None
    assert "同事的私评" not in task.text
    assert "张伟" not in task.text
    forbidden = {"raw", "fit", "overall_level", "points", "score", "gap", "ratings"}
    assert not forbidden & set(keys(body))
    assert (
        client.get(f"{API}/assessments/{world.assessment.id}/result", headers=headers).status_code
        == 403
    )


def test_a_rating_rescores_the_result_hr_reads(
    client: TestClient, world: World, db: Session
) -> None:
    rater, hr = world.as_("rater"), world.as_("hr")
    result_url = f"{API}/assessments/{world.assessment.id}/result"
    before = client.get(result_url, headers=hr).json()
    assert before["final"] is False
    assert world.item_id in before["pending"]

    for item_id in work_samples(db, world.assessment):
        saved = client.put(
            f"{API}/assessments/{world.assessment.id}/items/{item_id}/rating",
            json={"criteria": levels(db, world.assessment, item_id, -1), "note": "很好"},
            headers=rater,
        )
        assert saved.status_code == 200
        assert saved.json()["note"] == "很好"
        assert not {"raw", "fit", "score"} & set(saved.json())

    after = client.get(result_url, headers=hr).json()
    assert after["final"] is True
    assert after["pending"] == []
    assert after["provisional_reasons"] == []
    assert after["assessment"]["status"] == "scored"
    assert after["recommendation"]["band"] == "strong_yes"
    assert {n["rater_name"] for n in after["rater_notes"]} == {"吴评"}
    traced = [i for c in after["competencies"] for i in c["items"] if i["item_id"] == world.item_id]
    assert traced[0]["ratings"][0]["rater_name"] == "吴评"
    admin = client.get(result_url, headers=world.as_("admin"))
    assert admin.status_code == 200


def test_rating_errors_name_the_criterion(client: TestClient, world: World, db: Session) -> None:
    criteria = levels(db, world.assessment, world.item_id, 0)
    first = next(iter(criteria))
    criteria[first] = "brilliant"
    url = f"{API}/assessments/{world.assessment.id}/items/{world.item_id}/rating"

    response = client.put(url, json={"criteria": criteria}, headers=world.as_("rater"))

    assert response.status_code == 422
    assert response.json()["detail"]["field"] == f"criteria.{first}"
    assert "brilliant" in response.json()["detail"]["message"]
    extra = client.put(url, json={"criteria": criteria, "score": 7}, headers=world.as_("rater"))
    assert extra.status_code == 422


def test_campaign_agreement_route(client: TestClient, world: World) -> None:
    response = client.get(f"{API}/campaigns/{RUBRIC}/assistant/agreement", headers=world.as_("hr"))
    assert response.status_code == 200
    body = response.json()
    assert (body["alpha"], body["doubly_rated_items"], body["threshold"]) == (None, 0, 0.667)
    missing = client.get(f"{API}/campaigns/{RUBRIC}/astronaut/agreement", headers=world.as_("hr"))
    assert missing.status_code == 404


def test_exports_download_the_filtered_list(client: TestClient, world: World) -> None:
    headers = world.as_("hr")

    csv_response = client.get(
        f"{API}/assessments/export.csv", params={"role": "assistant", "lang": "zh"}, headers=headers
    )
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert 'filename="candidates-assistant-' in csv_response.headers["content-disposition"]
    assert csv_response.headers["cache-control"] == "no-store"
    lines = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert [line[1] for line in lines] == ["候选人", "张伟"]

    xlsx = client.get(f"{API}/assessments/export.xlsx", params={"role": "lead"}, headers=headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet.max_row == 1
    hostile_name = client.get(
        f"{API}/assessments/export.csv", params={"role": '"; evil'}, headers=headers
    )
    assert 'filename="candidates-all-' in hostile_name.headers["content-disposition"]


# ── browser sessions and the OpenAPI document ───────────────────────────────────────────


def test_cookie_sessions_need_the_csrf_header_to_change_anything(
    client: TestClient, world: World, sign_in: Callable[[User], Signed]
) -> None:
    signed = sign_in(world.hr)
    body = {"name": "李娜", "email": "li.na@example.com"}

    refused = client.post(f"{API}/candidates", json=body)
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "csrf_failed"
    accepted = client.post(f"{API}/candidates", json=body, headers={"X-CSRF-Token": signed.csrf})
    assert accepted.status_code == 201
    assert client.get(f"{API}/assessments").status_code == 200


def test_every_route_is_tagged_and_documents_its_response(client: TestClient) -> None:
    document = client.get(f"{API}/openapi.json").json()
    ours = {
        path: operations
        for path, operations in document["paths"].items()
        if path.startswith(
            (f"{API}/candidates", f"{API}/assessments", f"{API}/ratings", f"{API}/campaigns")
        )
    }
    assert len(ours) == 16  # export.{fmt} serves both CSV and XLSX
    for path, operations in ours.items():
        for method, operation in operations.items():
            assert operation["tags"], (method, path)
            success = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            content = success.get("content", {})
            assert content, (method, path)
            if "application/json" in content:
                assert content["application/json"]["schema"], (method, path)
