"""Nobody learns who gave which rating: not from stored results, the API, forms or reminders."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.config import Settings
from app.errors import NotFound
from app.reviews import service as review_service
from app.reviews.models import ReviewCycle, ReviewRequest, ReviewResult
from tests.reviews.review_helpers import (
    MakeUser,
    Team,
    make_team,
    open_cycle,
    rate,
    request_of,
    with_reviews_router,
)

Headers = dict[str, str]
API = "/api/v1"
CONTENT = "content_creation"
PEER_NAMES = ["欧阳知秋", "司马青衫", "上官晓月"]


@dataclass
class Released:
    team: Team
    ratee: User
    peers: list[User]
    cycle_id: int

    def secrets(self) -> list[str]:
        """Strings that would identify a peer: names, emails, and the opaque rater keys."""
        return [*(p.name for p in self.peers), *(p.email for p in self.peers), "request-"]


@pytest.fixture
def released(db: Session, settings: Settings, make_user: MakeUser) -> Released:
    team = make_team(db, settings, make_user, names=["李安娜", *PEER_NAMES, "孙二"])
    anna, peers = team.member(0), team.members[1:4]
    spec = review_service.RateeSpec(anna.id, peer_ids=tuple(p.id for p in peers))
    cycle_id = open_cycle(db, settings, team, [spec]).cycle.id
    rate(db, settings, cycle_id, anna, anna, 4, comment={CONTENT: "自评"})
    rate(db, settings, cycle_id, anna, team.lead, 3, comment={CONTENT: "上级评语"})
    for n, peer in enumerate(peers):
        rate(db, settings, cycle_id, anna, peer, 2 + n, comment={CONTENT: f"同事评语{n}"})
    review_service.close_cycle(db, team.lead, cycle_id)
    return Released(team, anna, list(peers), cycle_id)


def keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys(inner)


def user_ids(value: Any) -> Iterator[int]:
    """Every value under a `user_id` key: the only place a response names a person by id."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "user_id":
                yield inner
            yield from user_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from user_ids(inner)


def assert_anonymous(data: Any, released: Released) -> None:
    text = json.dumps(data, ensure_ascii=False)
    for secret in released.secrets():
        assert secret not in text, f"{secret!r} found in {text[:300]}…"
    # `min_raters` is policy; a key naming a rater (rater, rater_id, raters…) is a leak.
    assert not [k for k in keys(data) if k.startswith("rater")]
    assert not {p.id for p in released.peers} & set(user_ids(data))


def test_the_stored_result_names_no_rater(db: Session, released: Released) -> None:
    ratee_id = request_of(db, released.cycle_id, released.ratee, released.ratee).ratee_id
    stored = db.get(ReviewResult, ratee_id)
    assert stored is not None
    assert stored.result["competencies"][CONTENT]["groups"]["peer"]["count"] == 3
    assert_anonymous(stored.result, released)
    request_ids = {
        str(r.id)
        for r in db.scalars(select(ReviewRequest).where(ReviewRequest.ratee_id == ratee_id))
    }
    assert not request_ids & set(keys(stored.result))


def test_every_result_response_is_anonymous(
    client: TestClient,
    db: Session,
    released: Released,
    token_for: Callable[[User], Headers],
) -> None:
    api = with_reviews_router(client)
    team, anna, cycle = released.team, released.ratee, released.cycle_id
    reads = [
        (anna, f"/review-cycles/{cycle}/my-result"),
        (anna, f"/review-cycles/{cycle}/results/{anna.id}"),
        (anna, "/review-results/mine"),
        (anna, f"/people/{anna.id}/trend"),
        (team.lead, f"/review-cycles/{cycle}/results/{anna.id}"),
        (team.lead, f"/review-cycles/{cycle}/results"),
        (team.lead, f"/teams/{team.id}/heat-map"),
        (team.lead, f"/review-cycles/{cycle}/agreement"),
        (team.hr, f"/review-cycles/{cycle}/results/{anna.id}"),
        (team.admin, f"/people/{anna.id}/trend"),
    ]
    for viewer, path in reads:
        response = api.get(API + path, headers=token_for(viewer))
        assert response.status_code == 200, (path, response.text)
        assert_anonymous(response.json(), released)
    result = api.get(f"{API}/review-cycles/{cycle}/my-result", headers=token_for(anna)).json()
    content = next(c for c in result["competencies"] if c["id"] == CONTENT)
    assert sorted(c["text"] for c in content["comments"]) == [
        "上级评语",
        "同事评语0",
        "同事评语1",
        "同事评语2",
        "自评",
    ]


def test_comments_follow_a_keyed_hash_not_the_order_they_were_given(
    db: Session, released: Released
) -> None:
    result = review_service.get_result(db, released.ratee, released.cycle_id, released.ratee.id)
    content = next(c for c in result.competencies if c.id == CONTENT)
    cycle = db.get(ReviewCycle, released.cycle_id)
    assert cycle is not None

    def digest(text: str) -> str:
        message = f"{CONTENT}\x00{text}".encode()
        return hmac.new(cycle.comment_seed.encode(), message, hashlib.sha256).hexdigest()

    texts = [c.text for c in content.comments]
    assert texts == sorted(texts, key=digest)


def test_a_peer_asking_for_another_peers_answers_gets_404(
    client: TestClient, db: Session, released: Released, token_for: Callable[[User], Headers]
) -> None:
    api = with_reviews_router(client)
    first, second = released.peers[:2]
    theirs = request_of(db, released.cycle_id, released.ratee, second).id
    mine = request_of(db, released.cycle_id, released.ratee, first).id
    headers = token_for(first)

    assert api.get(f"{API}/review-requests/{theirs}/form", headers=headers).status_code == 404
    assert api.get(f"{API}/review-requests/{mine}/form", headers=headers).status_code == 200
    answers = {"answers": {CONTENT: {"level": 1}}}
    put = api.put(f"{API}/review-requests/{theirs}/answers", json=answers, headers=headers)
    assert put.status_code == 404
    peek = api.get(
        f"{API}/review-cycles/{released.cycle_id}/results/{released.ratee.id}", headers=headers
    )
    assert peek.status_code == 404
    # Not even the lead, HR or an admin opens a rater's form.
    for boss in (released.team.lead, released.team.hr, released.team.admin):
        response = api.get(f"{API}/review-requests/{theirs}/form", headers=token_for(boss))
        assert response.status_code == 404


def test_a_rater_sees_only_what_they_gave(
    client: TestClient, db: Session, released: Released, token_for: Callable[[User], Headers]
) -> None:
    api = with_reviews_router(client)
    first = released.peers[0]
    mine = request_of(db, released.cycle_id, released.ratee, first).id
    form = api.get(f"{API}/review-requests/{mine}/form", headers=token_for(first)).json()
    given = [c["answer"] for d in form["dimensions"] for c in d["competencies"]]
    assert {a["level"] for a in given} == {2}
    assert json.dumps(form, ensure_ascii=False).count("同事评语") == 1
    assert "同事评语1" not in json.dumps(form, ensure_ascii=False)


def test_reminders_and_the_ratees_cycle_view_reveal_no_answer(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user, names=["李安娜", *PEER_NAMES])
    anna, peers = team.member(0), team.members[1:4]
    spec = review_service.RateeSpec(anna.id, peer_ids=tuple(p.id for p in peers))
    cycle_id = open_cycle(db, settings, team, [spec]).cycle.id
    rate(db, settings, cycle_id, anna, peers[0], 1, comment={CONTENT: "很私密的评语"})

    reminders = review_service.reminders(db, team.lead, cycle_id)
    assert "很私密的评语" not in repr(reminders)
    assert "level=" not in repr(reminders)
    view = review_service.get_cycle(db, anna, cycle_id)
    assert {r.submitted for r in view.ratees[0].requests if r.group == "peer"} == {None}
    # Before release nobody gets any result, so nothing can be compared over time either.
    for viewer in (anna, team.lead, team.hr):
        with pytest.raises(NotFound):
            review_service.get_result(db, viewer, cycle_id, anna.id)


def test_a_member_outside_the_cycle_gets_404_for_every_result(
    client: TestClient, released: Released, token_for: Callable[[User], Headers]
) -> None:
    api = with_reviews_router(client)
    outsider = released.team.outsider
    for path in (
        f"/review-cycles/{released.cycle_id}/my-result",
        f"/review-cycles/{released.cycle_id}/results/{released.ratee.id}",
        f"/people/{released.ratee.id}/trend",
    ):
        response = api.get(API + path, headers=token_for(outsider))
        assert response.status_code == 404, path
