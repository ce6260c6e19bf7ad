"""The review JSON API: a whole cycle through HTTP, every route against every role, input rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.config import Settings
from app.db import utcnow
from app.reviews import service as review_service
from app.reviews.models import ReviewRequest
from tests.conftest import Signed
from tests.reviews.review_helpers import (
    MakeUser,
    competencies,
    make_team,
    open_cycle,
    rate,
    request_of,
    with_reviews_router,
)

Headers = dict[str, str]
API = "/api/v1"
CONTENT = "content_creation"


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return with_reviews_router(client)


def full_answers(settings: Settings, level: int = 3) -> dict[str, Any]:
    return {"answers": {c: {"level": level} for c in competencies(settings)}}


# ── a whole cycle through HTTP ──────────────────────────────────────────────────────────


def test_a_cycle_from_team_to_released_result_through_the_api(
    api: TestClient,
    settings: Settings,
    make_user: MakeUser,
    token_for: Callable[[User], Headers],
) -> None:
    hr, lead = make_user(Role.HR), make_user(Role.LEAD, name="王主管")
    anna, *peers = [make_user(Role.MEMBER, name=n) for n in ("李安娜", "周宁", "陈可", "赵一")]
    as_hr, as_lead, as_anna = token_for(hr), token_for(lead), token_for(anna)

    team = api.post(f"{API}/teams", json={"name": "内容组", "lead_id": lead.id}, headers=as_hr)
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    for member in (anna, *peers):
        added = api.post(
            f"{API}/teams/{team_id}/members",
            json={"user_id": member.id, "role_id": "specialist"},
            headers=as_hr,
        )
        assert added.status_code == 201, added.text
    assert [t["name"] for t in api.get(f"{API}/teams", headers=as_anna).json()] == ["内容组"]

    opened = api.post(
        f"{API}/teams/{team_id}/review-cycles",
        json={
            "name": "2026 Q1",
            "due_at": (utcnow() + timedelta(days=7)).isoformat(),
            "ratees": [{"user_id": anna.id, "peer_ids": [p.id for p in peers[:2]]}],
        },
        headers=as_lead,
    )
    assert opened.status_code == 201, opened.text
    cycle_id = opened.json()["cycle"]["id"]
    assert opened.headers["cache-control"] == "no-store"

    # Anna nominates a third peer; the lead approves.
    nominated = api.post(
        f"{API}/review-cycles/{cycle_id}/nominations",
        json={"rater_id": peers[2].id},
        headers=as_anna,
    )
    assert nominated.status_code == 201, nominated.text
    request_id = next(
        r["id"] for r in nominated.json()["ratees"][0]["requests"] if r["status"] == "nominated"
    )
    approved = api.post(f"{API}/review-requests/{request_id}/approve", headers=as_lead)
    assert approved.status_code == 200, approved.text

    for rater, level in ((anna, 5), (lead, 3), (peers[0], 3), (peers[1], 3), (peers[2], 3)):
        headers = token_for(rater)
        (task,) = api.get(f"{API}/review-tasks", headers=headers).json()
        assert task["state"] == "to_do"
        path = f"{API}/review-requests/{task['request_id']}"
        first = {"answers": {CONTENT: {"level": level, "comment": f"{rater.name}的看法"}}}
        saved = api.put(f"{path}/answers", json=first, headers=headers)
        assert saved.json()["answered"] == 1
        submitted = api.post(f"{path}/submit", json=full_answers(settings, level), headers=headers)
        assert submitted.json()["state"] == "done", submitted.text

    reminders = api.get(f"{API}/review-cycles/{cycle_id}/reminders", headers=as_lead).json()
    assert reminders["pending_total"] == 0
    assert api.get(f"{API}/review-cycles/{cycle_id}/my-result", headers=as_anna).status_code == 404

    closed = api.post(f"{API}/review-cycles/{cycle_id}/close", headers=as_lead)
    assert closed.json()["cycle"]["status"] == "released"
    result = api.get(f"{API}/review-cycles/{cycle_id}/my-result", headers=as_anna).json()
    content = next(c for c in result["competencies"] if c["id"] == CONTENT)
    groups = {g["group"]: g["level"] for g in content["groups"]}
    assert groups == {"self": 5.0, "manager": 3.0, "peer": 3.0, "report": None}
    assert content["blind_spot"] is True
    assert content["explanation"]["en"] == "Self 5.0, others 3.0: self 2.0 higher"
    heat = api.get(f"{API}/teams/{team_id}/heat-map", headers=as_lead).json()
    assert heat["rows"][0]["ratee"]["name"] == "李安娜"
    trend = api.get(f"{API}/people/{anna.id}/trend", headers=as_lead).json()
    assert trend["sources"][0]["id"] == cycle_id


# ── every route against every role ──────────────────────────────────────────────────────


@dataclass
class World:
    ids: dict[str, int]
    headers: dict[str, Headers]


@pytest.fixture
def world(
    db: Session,
    settings: Settings,
    make_user: MakeUser,
    token_for: Callable[[User], Headers],
) -> World:
    """An open and a released cycle of Anna's, a pending nomination, and a user per role.

    `teammate` is in the team but not in any cycle; `outsider` is a member of another team,
    led by `other_lead`.
    """
    names = ["李安娜", "周宁", "陈可", "赵一", "孙二", "钱三"]
    team = make_team(db, settings, make_user, names=names, size=len(names))
    anna, ning, ke, yi, teammate, nominee = team.members
    spec = review_service.RateeSpec(anna.id, peer_ids=(ning.id, ke.id, yi.id))
    released = open_cycle(db, settings, team, [spec]).cycle.id
    for rater in (anna, team.lead, ning, ke, yi):
        rate(db, settings, released, anna, rater, 3)
    review_service.close_cycle(db, team.lead, released)
    opened = open_cycle(db, settings, team, [spec]).cycle.id
    review_service.nominate(db, anna, opened, nominee.id)
    users = {
        "hr": team.hr,
        "admin": team.admin,
        "lead": team.lead,
        "other_lead": team.other_lead,
        "outsider": team.outsider,
        "teammate": teammate,
        "ratee": anna,
        "rater": ning,
    }
    ids = {
        "team": team.id,
        "open": opened,
        "released": released,
        "anna": anna.id,
        "teammate": teammate.id,
        "newbie": make_user(Role.MEMBER).id,
        "lead_user": make_user(Role.LEAD).id,
        "nomination": request_of(db, opened, anna, nominee).id,
        "form": request_of(db, opened, anna, ning).id,
    }
    headers = {name: token_for(user) for name, user in users.items()} | {"anonymous": {}}
    return World(ids, headers)


DUE = (utcnow() + timedelta(days=30)).isoformat()
# (method, path, body, [(role, status)…]): refusals first, the one success last, so a route
# that changes state changes it only once per test.
ROUTES: list[tuple[str, str, Any, list[tuple[str, int]]]] = [
    (
        "POST",
        "/teams",
        {"name": "新组", "lead_id": "{lead_user}"},
        [("outsider", 403), ("lead", 403), ("hr", 201)],
    ),
    (
        "GET",
        "/teams/{team}",
        None,
        [("outsider", 404), ("other_lead", 404), ("teammate", 200), ("hr", 200)],
    ),
    (
        "PATCH",
        "/teams/{team}",
        {"name": "改名"},
        [("teammate", 403), ("lead", 403), ("other_lead", 403), ("admin", 200), ("hr", 200)],
    ),
    (
        "POST",
        "/teams/{team}/members",
        {"user_id": "{newbie}", "role_id": "specialist"},
        [("teammate", 403), ("lead", 403), ("hr", 201)],
    ),
    (
        "DELETE",
        "/teams/{team}/members/{teammate}",
        None,
        [("teammate", 403), ("lead", 403), ("hr", 200)],
    ),
    (
        "GET",
        "/teams/{team}/heat-map",
        None,
        [("outsider", 403), ("ratee", 403), ("other_lead", 404), ("lead", 200), ("hr", 200)],
    ),
    (
        "POST",
        "/teams/{team}/review-cycles",
        {"name": "Q3", "due_at": DUE, "ratees": [{"user_id": "{teammate}"}]},
        [("outsider", 403), ("teammate", 403), ("other_lead", 404), ("hr", 201)],
    ),
    (
        "GET",
        "/review-cycles/{open}",
        None,
        [("outsider", 404), ("teammate", 404), ("other_lead", 404), ("rater", 200), ("hr", 200)],
    ),
    (
        "POST",
        "/review-cycles/{open}/raters",
        {"ratee_id": "{anna}", "rater_id": "{newbie}", "group": "report"},
        [("outsider", 403), ("ratee", 403), ("other_lead", 404), ("hr", 201)],
    ),
    (
        "POST",
        "/review-cycles/{open}/nominations",
        {"rater_id": "{teammate}"},
        [("outsider", 404), ("teammate", 404), ("other_lead", 404), ("hr", 403), ("ratee", 201)],
    ),
    (
        "POST",
        "/review-requests/{nomination}/approve",
        None,
        [("outsider", 403), ("ratee", 403), ("other_lead", 404), ("hr", 200)],
    ),
    (
        "POST",
        "/review-requests/{nomination}/decline",
        None,
        [("teammate", 403), ("rater", 403), ("other_lead", 404), ("lead", 200)],
    ),
    (
        "GET",
        "/review-cycles/{open}/reminders",
        None,
        [("outsider", 403), ("ratee", 403), ("other_lead", 404), ("lead", 200), ("hr", 200)],
    ),
    (
        "POST",
        "/review-cycles/{open}/close",
        None,
        [("outsider", 403), ("rater", 403), ("other_lead", 404), ("hr", 200)],
    ),
    (
        "GET",
        "/review-requests/{form}/form",
        None,
        [("outsider", 404), ("ratee", 404), ("lead", 404), ("hr", 404), ("rater", 200)],
    ),
    (
        "PUT",
        "/review-requests/{form}/answers",
        {"answers": {CONTENT: {"level": 2}}},
        [("teammate", 404), ("ratee", 404), ("lead", 404), ("admin", 404), ("rater", 200)],
    ),
    (
        "POST",
        "/review-requests/{form}/submit",
        "full",
        [("other_lead", 404), ("lead", 404), ("hr", 404), ("rater", 200)],
    ),
    (
        "GET",
        "/review-cycles/{released}/my-result",
        None,
        [("outsider", 404), ("rater", 404), ("lead", 404), ("hr", 404), ("ratee", 200)],
    ),
    (
        "GET",
        "/review-cycles/{released}/results",
        None,
        [("teammate", 403), ("ratee", 403), ("other_lead", 404), ("lead", 200), ("hr", 200)],
    ),
    (
        "GET",
        "/review-cycles/{released}/results/{anna}",
        None,
        [
            ("outsider", 404),
            ("teammate", 404),
            ("rater", 404),
            ("other_lead", 404),
            ("ratee", 200),
            ("lead", 200),
            ("hr", 200),
            ("admin", 200),
        ],
    ),
    (
        "GET",
        "/review-cycles/{open}/results/{anna}",
        None,
        [("ratee", 404), ("lead", 404), ("hr", 404)],
    ),
    (
        "GET",
        "/review-cycles/{released}/agreement",
        None,
        [("outsider", 403), ("ratee", 403), ("other_lead", 404), ("lead", 200), ("hr", 200)],
    ),
    (
        "GET",
        "/people/{anna}/trend",
        None,
        [
            ("outsider", 404),
            ("teammate", 404),
            ("rater", 404),
            ("other_lead", 404),
            ("ratee", 200),
            ("lead", 200),
            ("hr", 200),
        ],
    ),
    ("GET", "/review-cycles", None, [("outsider", 200), ("hr", 200)]),
    ("GET", "/review-tasks", None, [("outsider", 200), ("rater", 200)]),
    ("GET", "/review-results/mine", None, [("outsider", 200), ("ratee", 200)]),
    ("GET", "/teams", None, [("outsider", 200), ("hr", 200)]),
]


def fill(template: Any, ids: dict[str, int]) -> Any:
    if isinstance(template, str):
        for name, value in ids.items():
            if template == "{" + name + "}":
                return value
            template = template.replace("{" + name + "}", str(value))
        return template
    if isinstance(template, dict):
        return {fill(k, ids): fill(v, ids) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, ids) for v in template]
    return template


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
def test_every_role_against_every_route(
    api: TestClient,
    settings: Settings,
    world: World,
    method: str,
    path: str,
    body: Any,
    expected: list[tuple[str, int]],
) -> None:
    url = API + fill(path, world.ids)
    payload = full_answers(settings) if body == "full" else fill(body, world.ids)
    for role, status in [("anonymous", 401), *expected]:
        response = api.request(method, url, json=payload, headers=world.headers[role])
        assert response.status_code == status, (role, response.text)
        if status in (403, 404):
            # Refusals say nothing about the object.
            assert set(response.json()["detail"]) <= {"code", "message", "field"}


def test_lists_show_each_role_only_its_own(
    api: TestClient, world: World, settings: Settings
) -> None:
    def cycles(role: str) -> set[int]:
        found = api.get(f"{API}/review-cycles", headers=world.headers[role]).json()
        return {c["id"] for c in found}

    both = {world.ids["open"], world.ids["released"]}
    assert cycles("hr") == both
    assert cycles("lead") == both
    assert cycles("ratee") == both
    assert cycles("rater") == both
    assert cycles("teammate") == set()
    assert cycles("other_lead") == set()
    tasks = api.get(f"{API}/review-tasks", headers=world.headers["rater"]).json()
    assert [t["state"] for t in tasks] == ["to_do", "done"]
    mine = api.get(f"{API}/review-results/mine", headers=world.headers["ratee"]).json()
    assert [c["id"] for c in mine] == [world.ids["released"]]


# ── input rules ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/teams/{team}/review-cycles", {"status": "released"}),
        ("/teams/{team}/review-cycles", {"comment_seed": "0"}),
        ("/review-cycles/{open}/nominations", {"status": "approved"}),
        ("/review-cycles/{open}/raters", {"group": "self"}),
    ],
)
def test_clients_can_never_set_status_seed_or_owner(
    api: TestClient, world: World, path: str, body: dict[str, Any]
) -> None:
    base: dict[str, Any] = {
        "/teams/{team}/review-cycles": {
            "name": "Q4",
            "due_at": DUE,
            "ratees": [{"user_id": world.ids["anna"]}],
        },
        "/review-cycles/{open}/nominations": {"rater_id": world.ids["teammate"]},
        "/review-cycles/{open}/raters": {
            "ratee_id": world.ids["anna"],
            "rater_id": world.ids["newbie"],
            "group": "peer",
        },
    }[path]
    response = api.post(
        API + fill(path, world.ids), json=base | body, headers=world.headers["lead"]
    )
    assert response.status_code == 422, response.text
    mine = API + fill("/review-requests/{form}/answers", world.ids)
    sneaky = {"answers": {}, "submitted_at": "2026-01-01T00:00:00Z"}
    assert api.put(mine, json=sneaky, headers=world.headers["rater"]).status_code == 422


def test_input_errors_name_the_field(api: TestClient, world: World) -> None:
    url = API + fill("/teams/{team}/review-cycles", world.ids)
    past = {"name": "Q4", "due_at": "2020-01-01T00:00:00+00:00", "ratees": [{"user_id": 1}]}
    response = api.post(url, json=past, headers=world.headers["lead"])
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "due_at"
    assert "due_at" in response.json()["detail"]["message"]

    naive = past | {"due_at": "2099-01-01T00:00:00"}
    assert api.post(url, json=naive, headers=world.headers["lead"]).status_code == 422

    form = API + fill("/review-requests/{form}", world.ids)
    bad = {"answers": {CONTENT: {"level": 9}}}
    response = api.put(f"{form}/answers", json=bad, headers=world.headers["rater"])
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == f"answers.{CONTENT}.level"
    incomplete = api.post(f"{form}/submit", headers=world.headers["rater"])
    assert incomplete.status_code == 422
    assert incomplete.json()["detail"]["field"].startswith("answers.")
    twice = api.post(
        API + fill("/review-cycles/{open}/nominations", world.ids),
        json={"rater_id": world.ids["teammate"]},
        headers=world.headers["ratee"],
    )
    assert twice.status_code == 201
    again = api.post(
        API + fill("/review-cycles/{open}/nominations", world.ids),
        json={"rater_id": world.ids["teammate"]},
        headers=world.headers["ratee"],
    )
    assert again.status_code == 409
    assert again.json()["detail"]["field"] == "rater_id"


def test_submit_twice_answers_as_the_first_time(
    api: TestClient, world: World, settings: Settings
) -> None:
    url = API + fill("/review-requests/{form}/submit", world.ids)
    first = api.post(url, json=full_answers(settings, 4), headers=world.headers["rater"])
    second = api.post(url, json=full_answers(settings, 1), headers=world.headers["rater"])
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    levels = {c["answer"]["level"] for d in second.json()["dimensions"] for c in d["competencies"]}
    assert levels == {4}


def test_browser_sessions_need_the_csrf_header_to_change_anything(
    api: TestClient, world: World, db: Session, sign_in: Callable[[User], Signed]
) -> None:
    request = db.get(ReviewRequest, world.ids["form"])
    assert request is not None
    signed = sign_in(db.get_one(User, request.rater_id))
    url = API + fill("/review-requests/{form}/answers", world.ids)
    body = {"answers": {CONTENT: {"level": 2}}}
    assert api.put(url, json=body).status_code == 403
    assert api.put(url, json=body, headers={"X-CSRF-Token": signed.csrf}).status_code == 200
    assert api.get(API + fill("/review-requests/{form}/form", world.ids)).status_code == 200
