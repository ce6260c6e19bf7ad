"""Who may call what, for every route the app has, generated from its route table.

A route without a row in `route_matrix.EXPECTED` fails here, and so does a row whose route is
gone. Each role walks every route over the same world of real objects owned by others.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.deps import SESSION_COOKIE
from app.main import create_app
from tests.conftest import MakeUser
from tests.security.route_matrix import (
    API,
    CALLS,
    EXPECTED,
    Who,
    allowed,
    app_routes,
    build_world,
    header_problems,
    is_api,
    mismatch,
    prepare,
    send,
)


def test_every_route_has_a_row_and_every_row_a_route(settings: Settings) -> None:
    routes = app_routes(create_app(settings))

    unlisted = sorted(routes - EXPECTED.keys())
    gone = sorted(EXPECTED.keys() - routes)

    assert not unlisted, f"routes nobody said who may call (add them to EXPECTED): {unlisted}"
    assert not gone, f"rows for routes the app no longer has: {gone}"
    assert not CALLS.keys() - routes, sorted(CALLS.keys() - routes)
    assert {who for row in EXPECTED.values() for who in row} == set(Who)
    assert all(len(row) == len(Who) for row in EXPECTED.values())


@pytest.mark.parametrize("who", list(Who))
def test_who_may_call_what(
    client: TestClient, db: Session, settings: Settings, make_user: MakeUser, who: Who
) -> None:
    world = build_world(db, settings, make_user)
    wrong = []
    for key in sorted(EXPECTED, key=lambda k: (k[1], k[0])):
        method, path = key
        response = send(client, db, prepare(key, world, who))
        problem = mismatch(EXPECTED[key][who], response)
        if problem:
            wrong.append(f"{method} {path}: {problem}")
        private = not allowed(EXPECTED[key][Who.ANONYMOUS])
        for missing in header_problems(path, response, private=private):
            wrong.append(f"{method} {path}: {missing}")

    assert not wrong, f"{len(wrong)} problems for {who}:\n" + "\n".join(wrong)


def test_ids_of_another_team_in_the_query_reveal_nothing(
    client: TestClient, db: Session, settings: Settings, make_user: MakeUser
) -> None:
    """A lead naming their own team with a cycle of another team gets nothing of that cycle."""
    world = build_world(db, settings, make_user)
    own, foreign = world.ids["other_team"], world.ids["released_cycle"]
    paths = [
        f"{API}/teams/{own}/heat-map",
        f"{API}/reports/teams/{own}.pdf",
        f"/staff/teams/{own}/heatmap",
        f"/staff/reports/teams/{own}.html",
    ]
    credentials = world.credentials[Who.OTHER_LEAD]

    client.cookies.set(SESSION_COOKIE, credentials.cookie)
    for path in paths:
        # Pages go by the session cookie; a bearer token is for the API only.
        headers = {"Authorization": f"Bearer {credentials.bearer}"} if is_api(path) else {}
        chosen = client.get(f"{path}?cycle_id={foreign}", headers=headers)
        latest = client.get(path, headers=headers)

        assert chosen.status_code == 404, (path, chosen.text[:200])
        assert latest.status_code == 200, (path, latest.text[:200])
