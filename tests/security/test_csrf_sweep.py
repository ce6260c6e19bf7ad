"""CSRF on every state change, generated from the route table (ARCHITECTURE §9).

Cookie-authenticated writes (pages, and the API used with the browser session) without the
session's CSRF token, or with another session's, are refused and change nothing; candidate
writes, which carry no session, are refused when another site sends them; reads change
nothing but the audit log and the "last used" times of the credentials.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Base
from tests.conftest import MakeUser
from tests.security.route_matrix import (
    EXPECTED,
    STAFF,
    Prepared,
    RouteKey,
    Who,
    World,
    allowed,
    build_world,
    is_api,
    is_invite,
    mismatch,
    prepare,
    send,
)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Who tries each write: the first role the route lets do it, so a refusal can only be the
# token's doing.
CALLERS = (Who.OWNER, Who.TEAM_LEAD, Who.HR, Who.ADMIN, Who.MEMBER, Who.OTHER_LEAD)
CSRF_REFUSAL = "did not come from this site"
# The login form has its own pre-session token (tests/accounts/test_login.py).
COOKIE_WRITES = sorted(
    k for k in EXPECTED if k[0] in UNSAFE and not is_invite(k[1]) and k != ("POST", "/login")
)
INVITE_WRITES = sorted(k for k in EXPECTED if k[0] in UNSAFE and is_invite(k[1]))
READS = sorted(k for k in EXPECTED if k[0] == "GET")

Snapshot = dict[str, list[tuple[Any, ...]]]
# Any request may note when a session or token was last used (at most once a minute).
CREDENTIAL_TRACES = frozenset({"web_session.last_seen_at", "api_token.last_used_at"})


def snapshot(db: Session, *, leave_out: frozenset[str] = frozenset()) -> Snapshot:
    """Every row of every table; tables and `table.column`s in `leave_out` left out."""
    db.flush()
    found = {}
    for table in Base.metadata.sorted_tables:
        if table.name in leave_out:
            continue
        columns = [c for c in table.columns if f"{table.name}.{c.name}" not in leave_out]
        if not columns:
            continue
        rows = db.execute(select(*columns)).all()
        found[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    return [
        f"{name}: {len(before[name])} rows before, {len(after[name])} after"
        if len(before[name]) != len(after[name])
        else f"{name}: rows changed"
        for name in before
        if before[name] != after[name]
    ]


def caller_of(key: RouteKey) -> Who:
    return next(who for who in CALLERS if allowed(EXPECTED[key][who]))


def cookie_request(key: RouteKey, world: World, who: Who, csrf: str | None) -> Prepared:
    return prepare(key, world, who, csrf=csrf, use_cookie_for_api=True)


def refusal_problem(key: RouteKey, response: Response) -> str | None:
    if response.status_code != 403:
        return f"expected 403, got {response.status_code}: {response.text[:160]!r}"
    if is_api(key[1]):
        if response.json()["detail"]["code"] != "csrf_failed":
            return f"refused, but not for the token: {response.text[:160]!r}"
    elif CSRF_REFUSAL not in response.text:
        return "refused, but the page does not say the form did not come from this site"
    if response.headers.get_list("set-cookie"):
        return f"a refusal set cookies: {response.headers.get_list('set-cookie')}"
    return None


@pytest.mark.parametrize("token", ["missing", "another session's"])
def test_cookie_writes_without_the_sessions_csrf_token_are_refused_and_change_nothing(
    client: TestClient, db: Session, settings: Settings, make_user: MakeUser, token: str
) -> None:
    world = build_world(db, settings, make_user)
    before = snapshot(db, leave_out=CREDENTIAL_TRACES)
    wrong = []
    for key in COOKIE_WRITES:
        who = caller_of(key)
        # A token that is real, just not this session's: what an attacker signed in has.
        other = next(w for w in STAFF if w is not who)
        supplied = None if token == "missing" else world.credentials[other].csrf

        # Not rolled back: whatever a refused request wrote would stay for `snapshot`.
        refused = send(client, db, cookie_request(key, world, who, supplied), keep=True)
        after = snapshot(db, leave_out=CREDENTIAL_TRACES)
        problem = refusal_problem(key, refused) or "; ".join(changes(before, after))
        # The same request with the session's own token does what the matrix says it does.
        accepted = send(client, db, cookie_request(key, world, who, "session"))
        control = mismatch(EXPECTED[key][who], accepted)

        if problem:
            wrong.append(f"{key[0]} {key[1]} as {who}: {problem}")
            before = after
        if control:
            wrong.append(f"{key[0]} {key[1]} as {who} with the right token: {control}")

    assert not wrong, f"{len(COOKIE_WRITES)} writes, {len(wrong)} problems:\n" + "\n".join(wrong)


CROSS_SITE = {
    "another site's Origin": {"Origin": "https://evil.example"},
    "plain http": {"Origin": "http://yardstick.example"},
    "cross-site fetch": {"Sec-Fetch-Site": "cross-site"},
}


@pytest.mark.parametrize("headers", CROSS_SITE.values(), ids=CROSS_SITE.keys())
def test_candidate_writes_from_another_site_are_refused_and_change_nothing(
    client: TestClient,
    db: Session,
    settings: Settings,
    make_user: MakeUser,
    headers: dict[str, str],
) -> None:
    """The invite pages carry no session for a forgery to ride on, but the link's token is in
    their URL: another site's page that learnt it must still not write through it."""
    world = build_world(db, settings, make_user)
    before = snapshot(db)
    wrong = []
    for key in INVITE_WRITES:
        request = prepare(key, world, Who.CANDIDATE)

        forged = replace(request, headers={**request.headers, **headers})
        refused = send(client, db, forged, keep=True)
        after = snapshot(db)
        ours = {**request.headers, "Origin": settings.public_base_url}
        accepted = send(client, db, replace(request, headers=ours))

        if refused.status_code != 403 or after != before:
            found = "; ".join(changes(before, after))
            wrong.append(f"{key[0]} {key[1]}: {refused.status_code} {found}".rstrip())
            before = after
        if problem := mismatch(EXPECTED[key][Who.CANDIDATE], accepted):
            wrong.append(f"{key[0]} {key[1]} from our own pages: {problem}")

    assert not wrong, "\n".join(wrong)


# What a read may write: who looked at which results, and when a credential was last used.
READ_TRACES = frozenset({"audit_event", *CREDENTIAL_TRACES})


@pytest.mark.parametrize("who", [Who.OWNER, Who.HR])
def test_reads_change_nothing(
    client: TestClient, db: Session, settings: Settings, make_user: MakeUser, who: Who
) -> None:
    world = build_world(db, settings, make_user)
    before = snapshot(db, leave_out=READ_TRACES)

    for key in READS:
        send(client, db, prepare(key, world, who), keep=True)

    assert changes(before, snapshot(db, leave_out=READ_TRACES)) == []
