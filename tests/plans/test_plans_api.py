"""The plans API: who gets what (404 for objects out of reach, 403 for roles), and the flows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.config import Settings
from app.plans import practice
from app.rubrics import service as rubric_service
from tests.conftest import MakeUser, Signed
from tests.plans.plan_helpers import all_at, make_review, make_scored, make_team, plans_client

__all__ = ["plans_client"]

API = "/api/v1"
Headers = Callable[[User], dict[str, str]]


@pytest.fixture
def cast(db: Session, settings: Settings, make_user: MakeUser) -> dict[str, Any]:
    people = {
        "hr": make_user(Role.HR),
        "lead": make_user(Role.LEAD),
        "member": make_user(Role.MEMBER),
        "peer": make_user(Role.MEMBER),
        "other_lead": make_user(Role.LEAD),
    }
    team = make_team(db, people["lead"], people["member"], people["peer"])
    review = make_review(db, settings, team, people["member"], all_at(4, data_analysis=1))
    return {**people, "team": team, "review": review}


def create(client: TestClient, headers: dict[str, str], ratee_id: int, **extra: Any) -> Any:
    return client.post(
        f"{API}/plans", json={"source": "review", "source_id": ratee_id, **extra}, headers=headers
    )


def test_a_lead_makes_a_plan_the_member_follows(
    plans_client: TestClient, cast: dict[str, Any], token_for: Headers
) -> None:
    lead, member = token_for(cast["lead"]), token_for(cast["member"])

    made = create(plans_client, lead, cast["review"].ratee.id, title="Q1 plan")
    assert made.status_code == 201, made.text
    plan = made.json()
    assert plan["person"]["id"] == cast["member"].id
    assert plan["steps"][0]["competency"] == "data_analysis"
    assert plan["can_edit"]
    assert not plan["can_update"]
    item = plan["steps"][0]["items"][0]
    base = f"{API}/plans/{plan['id']}/items/{item['id']}"

    changed = plans_client.patch(base, json={"due_date": "2026-12-31"}, headers=lead)
    assert changed.status_code == 200
    assert changed.json()["due_date"] == "2026-12-31"
    # Fields left out stay as they were; null clears the date.
    noted = plans_client.patch(base, json={"note": "先看案例"}, headers=lead)
    assert (noted.json()["due_date"], noted.json()["owner_note"]) == ("2026-12-31", "先看案例")
    cleared = plans_client.patch(base, json={"due_date": None}, headers=lead)
    assert cleared.json()["due_date"] is None
    assert cleared.json()["owner_note"] == "先看案例"

    assert (
        plans_client.put(f"{base}/status", json={"status": "done"}, headers=lead).status_code == 403
    )
    status = plans_client.put(f"{base}/status", json={"status": "in_progress"}, headers=member)
    assert status.status_code == 200
    assert status.json()["status"] == "in_progress"
    noted = plans_client.post(f"{base}/evidence", json={"text": "上完第一课"}, headers=member)
    assert noted.status_code == 201
    assert [n["text"] for n in noted.json()["evidence"]] == ["上完第一课"]
    assert plans_client.patch(base, json={"note": "x"}, headers=member).status_code == 403

    mine = plans_client.get(f"{API}/plans", headers=member).json()
    assert [p["id"] for p in mine] == [plan["id"]]
    assert mine[0]["totals"]["in_progress"] == 1

    assert plans_client.delete(base, headers=lead).status_code == 204
    after = plans_client.get(f"{API}/plans/{plan['id']}", headers=member).json()
    assert item["id"] not in [i["id"] for s in after["steps"] for i in s["items"]]


def test_objects_out_of_reach_are_404_and_roles_that_never_may_are_403(
    plans_client: TestClient, cast: dict[str, Any], token_for: Headers
) -> None:
    plan = create(plans_client, token_for(cast["hr"]), cast["review"].ratee.id).json()
    item = plan["steps"][0]["items"][0]["id"]
    for name in ("peer", "other_lead"):
        headers = token_for(cast[name])
        assert plans_client.get(f"{API}/plans/{plan['id']}", headers=headers).status_code == 404
        assert (
            plans_client.put(
                f"{API}/plans/{plan['id']}/items/{item}/status",
                json={"status": "done"},
                headers=headers,
            ).status_code
            == 404
        )
    assert plans_client.get(f"{API}/plans/999999", headers=token_for(cast["hr"])).status_code == 404
    member = token_for(cast["member"])
    assert create(plans_client, member, cast["review"].ratee.id).status_code == 403
    assert plans_client.get(f"{API}/catalogue/needs", headers=member).status_code == 403
    assert (
        plans_client.get(f"{API}/catalogue/needs", headers=token_for(cast["lead"])).status_code
        == 403
    )
    team = cast["team"].id
    assert plans_client.get(f"{API}/plans/teams/{team}", headers=member).status_code == 403
    other = token_for(cast["other_lead"])
    assert plans_client.get(f"{API}/plans/teams/{team}", headers=other).status_code == 404
    progress = plans_client.get(f"{API}/plans/teams/{team}", headers=token_for(cast["lead"]))
    assert progress.status_code == 200
    assert {m["person"]["id"] for m in progress.json()["members"]} == {
        cast["member"].id,
        cast["peer"].id,
    }
    assert plans_client.get(f"{API}/plans").status_code == 401


def test_inputs_refuse_unknown_fields_and_say_which_field_is_wrong(
    plans_client: TestClient, cast: dict[str, Any], token_for: Headers
) -> None:
    lead = token_for(cast["lead"])
    sneaky = create(plans_client, lead, cast["review"].ratee.id, user_id=cast["peer"].id)
    assert sneaky.status_code == 422
    over = create(plans_client, lead, cast["review"].ratee.id, hours_budget=0)
    assert over.status_code == 422
    plan = create(plans_client, lead, cast["review"].ratee.id).json()
    again = create(plans_client, lead, cast["review"].ratee.id)
    assert again.status_code == 409
    assert again.json()["detail"]["field"] == "source_id"
    unknown = plans_client.post(
        f"{API}/plans/{plan['id']}/items", json={"module_id": "nope"}, headers=lead
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == {
        "code": "invalid_input",
        "message": "no module 'nope' in this role's catalogue",
        "field": "module_id",
    }
    item = plan["steps"][0]["items"][0]["id"]
    status = plans_client.put(
        f"{API}/plans/{plan['id']}/items/{item}/status",
        json={"status": "done", "done_at": "2026-01-01"},
        headers=token_for(cast["member"]),
    )
    assert status.status_code == 422


def test_an_assessment_plan_and_the_sources_list(
    db: Session,
    settings: Settings,
    plans_client: TestClient,
    cast: dict[str, Any],
    token_for: Headers,
) -> None:
    assessment = make_scored(db, cast["hr"], settings, cast["member"], weak=("communication",))
    lead = token_for(cast["lead"])

    listed = plans_client.get(
        f"{API}/plans/sources", params={"user_id": cast["member"].id}, headers=lead
    ).json()
    assert {(s["source"]["kind"], s["source"]["id"]) for s in listed["sources"]} == {
        ("assessment", assessment.id),
        ("review", cast["review"].ratee.id),
    }
    made = plans_client.post(
        f"{API}/plans",
        json={"source": "assessment", "source_id": assessment.id, "hours_budget": 40},
        headers=lead,
    )
    assert made.status_code == 201
    assert [s["competency"] for s in made.json()["steps"]] == ["communication"]
    assert made.json()["totals"]["hours"] <= 40


def test_catalogue_and_needs(
    plans_client: TestClient, cast: dict[str, Any], token_for: Headers
) -> None:
    create(plans_client, token_for(cast["lead"]), cast["review"].ratee.id)
    member = token_for(cast["member"])
    found = plans_client.get(
        f"{API}/catalogue", params={"competency": "communication", "level": 1}, headers=member
    )
    assert found.status_code == 200
    (group,) = found.json()["groups"]
    assert all(m["from_level"] <= 1 < m["to_level"] for m in group["modules"])
    bad = plans_client.get(f"{API}/catalogue", params={"competency": "x"}, headers=member)
    assert bad.status_code == 422
    assert bad.json()["detail"]["field"] == "competency"
    needs = plans_client.get(f"{API}/catalogue/needs", headers=token_for(cast["hr"])).json()
    assert needs["plans"] == 1
    assert needs["competencies"][0]["competency"] == "data_analysis"


def test_practice_through_the_api(
    db: Session,
    settings: Settings,
    plans_client: TestClient,
    cast: dict[str, Any],
    token_for: Headers,
) -> None:
    create(plans_client, token_for(cast["lead"]), cast["review"].ratee.id)
    member = token_for(cast["member"])
    topics = plans_client.get(f"{API}/practice", headers=member).json()["topics"]
    assert [t["competency"] for t in topics] == ["data_analysis"]

    started = plans_client.post(
        f"{API}/practice/sessions", json={"competency": "data_analysis"}, headers=member
    )
    assert started.status_code == 201
    run = started.json()
    question = run["next_question"]
    assert all(set(o) == {"id", "text"} for o in question["options"])
    rubric = rubric_service.get_current(settings.rubrics_dir, "new_media_operator").rubric
    item = rubric.item_index()[question["id"]]
    answered = plans_client.post(
        f"{API}/practice/sessions/{run['id']}/answers",
        json={"item_id": item.id, "selected": sorted(practice.best_options(item))},
        headers=member,
    )
    assert answered.status_code == 200
    feedback = answered.json()["feedback"]
    assert feedback["correct"]
    assert feedback["explanation"] == dict(item.explanation)
    assert answered.json()["session"]["score"] == 1.0

    peer = token_for(cast["peer"])
    assert plans_client.get(f"{API}/practice/sessions/{run['id']}", headers=peer).status_code == 404
    refused = plans_client.post(
        f"{API}/practice/sessions", json={"competency": "data_analysis"}, headers=peer
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["field"] == "competency"


def test_cookie_sessions_need_the_csrf_header(
    plans_client: TestClient, cast: dict[str, Any], sign_in: Callable[[User], Signed]
) -> None:
    signed = sign_in(cast["lead"])
    body = {"source": "review", "source_id": cast["review"].ratee.id}
    refused = plans_client.post(f"{API}/plans", json=body)
    assert refused.status_code == 403
    made = plans_client.post(f"{API}/plans", json=body, headers={"X-CSRF-Token": signed.csrf})
    assert made.status_code == 201
