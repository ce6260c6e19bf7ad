"""The app's route table, a world of real objects for every path parameter, and how each route
is called: what the authorization matrix and the CSRF sweep are generated from.

Who is who: the objects are about `owner` (a member); `team_lead` leads the owner's team and
`other_lead` another one; `member` is a teammate reviewed in the same cycle who rates the
owner as a peer, so sees the cycle but must never see the owner's answers or results.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.routing import APIRoute, _IncludedRouter
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Mount, Route

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.assessments import candidate as candidate_service
from app.assessments import service as assessment_service
from app.config import Settings
from app.db import utcnow
from app.deps import SESSION_COOKIE
from app.plans import catalogue as plan_catalogue
from app.plans import practice, practice_service
from app.plans import progress as plan_progress
from app.plans import service as plan_service
from app.reviews import service as review_service
from app.rubrics import service as rubric_service
from app.web.accounts import LOGIN_CSRF_COOKIE
from tests.assessments.staff_helpers import RUBRIC, levels, make_assessment, work_samples
from tests.conftest import TEST_PASSWORD
from tests.plans.plan_helpers import make_scored
from tests.reports.report_helpers import released_cycle, scored_assessment
from tests.reviews.review_helpers import competencies, in_days, make_team, request_of

RouteKey = tuple[str, str]
"""(method, path template), e.g. ("GET", "/api/v1/teams/{team_id}")."""

API = "/api/v1"
STATIC_FILE = "candidate.js"


class Who(StrEnum):
    ANONYMOUS = "anonymous"
    CANDIDATE = "candidate"  # holds a live invite link of their own, nothing else
    MEMBER = "member"
    OTHER_LEAD = "other_lead"
    TEAM_LEAD = "team_lead"
    OWNER = "owner"
    HR = "hr"
    ADMIN = "admin"


STAFF = (Who.MEMBER, Who.OTHER_LEAD, Who.TEAM_LEAD, Who.OWNER, Who.HR, Who.ADMIN)


# ── the route table ─────────────────────────────────────────────────────────────────────


def _walk(routes: list[BaseRoute], prefix: str) -> Iterator[RouteKey]:
    for route in routes:
        if isinstance(route, _IncludedRouter):
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            for method in route.methods:
                yield method, prefix + route.path
        elif isinstance(route, Route):
            # Starlette answers HEAD wherever it answers GET; GET stands for both.
            for method in (route.methods or set()) - {"HEAD"}:
                yield method, prefix + route.path
        elif isinstance(route, Mount):
            yield "GET", prefix + route.path + "/{path}"
        else:
            raise AssertionError(f"a kind of route the matrix does not know: {route!r}")


def app_routes(app: FastAPI) -> set[RouteKey]:
    """Every (method, path) the app answers, routers included at any depth."""
    return set(_walk(app.routes, ""))


def is_api(path: str) -> bool:
    return path.startswith(API + "/")


def is_invite(path: str) -> bool:
    return path.startswith("/take/")


# ── the world ───────────────────────────────────────────────────────────────────────────


@dataclass
class Credentials:
    bearer: str
    cookie: str
    csrf: str


@dataclass
class World:
    """Real objects for every path parameter; `ids` holds them by name."""

    users: dict[Who, User]
    credentials: dict[Who, Credentials]
    ids: dict[str, Any]
    invite_token: str
    competencies: list[str] = field(default_factory=list)

    def user_id(self, who: Who) -> int:
        return self.users[who].id


def _sign(db: Session, settings: Settings, user: User) -> Credentials:
    bearer, _ = account_service.create_token(db, user, "matrix")
    cookie, web_session = account_service.start_session(db, user, settings)
    return Credentials(bearer, cookie, web_session.csrf_token)


def build_world(db: Session, settings: Settings, make_user: Callable[..., User]) -> World:
    team = make_team(db, settings, make_user, size=5)
    owner, peer, bystander = team.member(0), team.member(1), team.member(4)
    users = {
        Who.MEMBER: peer,
        Who.OTHER_LEAD: team.other_lead,
        Who.TEAM_LEAD: team.lead,
        Who.OWNER: owner,
        Who.HR: team.hr,
        Who.ADMIN: team.admin,
    }
    spare_member = make_user(Role.MEMBER)

    # 360: a released cycle reviewing the owner and the peer, and an open one with the
    # owner's own (self) rating request and a peer nomination waiting for the lead.
    released = released_cycle(db, settings, team, {0: (1, 2, 3), 1: (0, 2, 3)}, others_levels=2)[0]
    opened = review_service.open_cycle(
        db,
        team.lead,
        team.id,
        settings,
        name="下半年 360",
        due_at=in_days(14),
        ratees=[review_service.RateeSpec(owner.id, peer_ids=(peer.id,))],
    ).cycle.id
    review_service.nominate(db, owner, opened, team.member(3).id)
    self_request = request_of(db, opened, owner, owner).id
    nomination = request_of(db, opened, owner, team.member(3)).id

    # Hiring: a scored assessment (HR and the owner rate it, feedback allowed), one still
    # only invited, and the candidate's own, started.
    scored = scored_assessment(db, team.hr, settings, name="韩梅梅")
    assessment_service.assign_rater(db, team.hr, scored.id, owner.id)
    assessment_service.set_candidate_feedback(db, team.hr, scored.id, True)
    invited, _ = make_assessment(db, team.hr, settings)
    taken, url = make_assessment(db, team.hr, settings)
    candidate_service.start(db, taken, utcnow())
    fresh_candidate = assessment_service.create_candidate(
        db, team.hr, "李雷", "lilei@example.com", ""
    )
    sample = work_samples(db, scored)[0]

    # Development: the lead's plan for the owner from the review, an item, a practice run,
    # and a scored assessment of the owner a new plan can be made from.
    plan = plan_service.create_plan(db, team.lead, "review", released.ratee_id, None, "计划")
    view = plan_progress.get_plan_view(db, team.lead, plan.id)
    items = [item for step in view.steps for item in step.items]
    planned = {item.module.id for item in items}
    module = next(
        (group.competency, m.id)
        for group in plan_catalogue.catalogue(settings, RUBRIC).groups
        for m in group.modules
        if m.id not in planned
    )
    topics = practice_service.practisable(db, owner)
    rubric = rubric_service.get_current(settings.rubrics_dir, RUBRIC).rubric
    topic = next(c for c in topics if practice.practice_items(rubric, c))
    run = practice_service.start(db, owner, settings, topic)
    question = practice_service.get_session_view(db, owner, run.id).next_question
    assert question is not None
    owners_assessment = make_scored(db, team.hr, settings, owner, weak=("data_analysis",))

    _, spare_token = account_service.create_token(db, owner, "spare")
    db.flush()
    ids: dict[str, Any] = {
        "team": team.id,
        "other_team": team.other_team_id,
        "released_cycle": released.cycle_id,
        "released_ratee": released.ratee_id,
        "open_cycle": opened,
        "self_request": self_request,
        "nomination": nomination,
        "scored": scored.id,
        "scored_candidate": scored.candidate_id,
        "invited": invited.id,
        "fresh_candidate": fresh_candidate.id,
        "work_sample": sample,
        "sample_rating": levels(db, scored, sample, -1),
        "plan": plan.id,
        "plan_item": items[0].id,
        "module": module,
        "practice": run.id,
        "practice_topic": topic,
        "practice_item": question.id,
        "practice_option": question.options[0].id,
        "owners_assessment": owners_assessment.id,
        "spare_token": spare_token.id,
        "spare_member": spare_member.id,
        "bystander": bystander.id,
        "peer_to_add": team.member(2).id,
        "hr_email": team.hr.email,
    }
    credentials = {who: _sign(db, settings, user) for who, user in users.items()}
    invite_token = url.rsplit("/", 1)[-1]
    credentials[Who.CANDIDATE] = Credentials(invite_token, invite_token, "")
    db.flush()
    return World(users, credentials, ids, invite_token, competencies(settings))


# ── how each route is called ────────────────────────────────────────────────────────────

Body = Callable[[World], Any]


@dataclass(frozen=True)
class Call:
    """Which world objects fill the path, and the body an allowed caller would send."""

    params: Mapping[str, str] = field(default_factory=dict)
    json: Body | None = None
    form: Body | None = None
    query: Body | None = None


# Path parameters by name; `Call.params` names another world object where the route needs it.
DEFAULT_PARAMS = {
    "token_id": "spare_token",
    "candidate_id": "scored_candidate",
    "assessment_id": "scored",
    "item_id": "work_sample",
    "user_id": "owner",
    "team_id": "team",
    "cycle_id": "released_cycle",
    "request_id": "self_request",
    "plan_id": "plan",
    "session_id": "practice",
    "ratee_id": "released_ratee",
}
FIXED_PARAMS = {
    "rubric_id": RUBRIC,
    "role_id": "assistant",
    "fmt": "csv",
    "number": "1",
    "rest": "nowhere",
    "path": STATIC_FILE,
}


def _answers_json(w: World) -> dict[str, Any]:
    return {"answers": {c: {"level": 3} for c in w.competencies}}


def _answers_form(w: World) -> dict[str, str]:
    return {f"level.{c}": "3" for c in w.competencies}


def _cycle_form(w: World) -> dict[str, Any]:
    return {
        "name": "临时周期",
        "due_at": in_days(10).strftime("%Y-%m-%dT%H:%M"),
        "role_id": "specialist",
        "ratees": str(w.ids["bystander"]),
        "min_peer": "3",
        "min_report": "3",
    }


def _rating_form(w: World) -> dict[str, str]:
    return {f"criteria.{k}": v for k, v in w.ids["sample_rating"].items()}


OPEN = {"cycle_id": "open_cycle"}
INVITED = {"assessment_id": "invited"}
PLAN_ITEM = {"item_id": "plan_item"}

CALLS: dict[RouteKey, Call] = {
    # Query parameters that name an object are authorization checks too.
    ("GET", f"{API}/plans"): Call(query=lambda w: {"user_id": w.user_id(Who.OWNER)}),
    ("GET", f"{API}/plans/sources"): Call(query=lambda w: {"user_id": w.user_id(Who.OWNER)}),
    ("GET", "/plans/new"): Call(query=lambda w: {"user_id": w.user_id(Who.OWNER)}),
    ("GET", f"{API}/review-cycles"): Call(query=lambda w: {"team_id": w.ids["team"]}),
    ("GET", f"{API}/teams/{{team_id}}/heat-map"): Call(
        query=lambda w: {"cycle_id": w.ids["released_cycle"]}
    ),
    ("GET", "/staff/teams/{team_id:rowid}/heatmap"): Call(
        query=lambda w: {"cycle_id": w.ids["released_cycle"]}
    ),
    ("GET", f"{API}/reports/teams/{{team_id:int}}.pdf"): Call(
        query=lambda w: {"cycle_id": w.ids["released_cycle"]}
    ),
    ("GET", "/staff/reports/teams/{team_id:int}.html"): Call(
        query=lambda w: {"cycle_id": w.ids["released_cycle"]}
    ),
    ("GET", f"{API}/audit"): Call(query=lambda w: {"person": f"user:{w.user_id(Who.OWNER)}"}),
    ("GET", "/admin/audit"): Call(query=lambda w: {"person": f"user:{w.user_id(Who.OWNER)}"}),
    ("POST", "/login"): Call(
        form=lambda w: {"email": w.ids["hr_email"], "password": TEST_PASSWORD}
    ),
    ("POST", "/language"): Call(form=lambda w: {"lang": "zh", "next": "/"}),
    ("POST", "/account/tokens"): Call(form=lambda w: {"name": "矩阵"}),
    ("POST", f"{API}/tokens"): Call(json=lambda w: {"name": "matrix"}),
    # hiring
    ("POST", f"{API}/candidates"): Call(
        json=lambda w: {"name": "王芳", "email": "wangfang@example.com"}
    ),
    ("POST", f"{API}/assessments"): Call(
        json=lambda w: {
            "candidate_id": w.ids["fresh_candidate"],
            "rubric_id": RUBRIC,
            "role_id": "assistant",
        }
    ),
    ("POST", f"{API}/assessments/{{assessment_id}}/revoke"): Call(INVITED),
    ("POST", f"{API}/assessments/{{assessment_id}}/extend"): Call(
        INVITED, json=lambda w: {"days": 7}
    ),
    ("POST", f"{API}/assessments/{{assessment_id}}/reissue"): Call(INVITED, json=lambda w: {}),
    ("PUT", f"{API}/assessments/{{assessment_id}}/candidate-feedback"): Call(
        json=lambda w: {"enabled": False}
    ),
    ("POST", f"{API}/assessments/{{assessment_id}}/raters"): Call(
        json=lambda w: {"user_id": w.user_id(Who.TEAM_LEAD)}
    ),
    ("PUT", f"{API}/assessments/{{assessment_id}}/items/{{item_id}}/rating"): Call(
        json=lambda w: {"criteria": w.ids["sample_rating"]}
    ),
    ("POST", "/staff/assessments/new"): Call(
        form=lambda w: {
            "name": "王芳",
            "email": "wangfang@example.com",
            "role": f"{RUBRIC}:assistant",
            "link_valid_days": "14",
        }
    ),
    ("POST", "/staff/assessments/{assessment_id:int}/raters"): Call(
        form=lambda w: {"user_id": str(w.user_id(Who.TEAM_LEAD))}
    ),
    ("POST", "/staff/assessments/{assessment_id:int}/feedback"): Call(form=lambda w: {}),
    ("POST", "/staff/assessments/{assessment_id:int}/revoke"): Call(INVITED),
    ("POST", "/staff/assessments/{assessment_id:int}/extend"): Call(
        INVITED, form=lambda w: {"days": "7"}
    ),
    ("POST", "/staff/assessments/{assessment_id:int}/reissue"): Call(
        INVITED, form=lambda w: {"link_valid_days": "14"}
    ),
    ("POST", "/staff/ratings/{assessment_id:int}/{item_id}"): Call(form=_rating_form),
    # teams and 360
    ("POST", f"{API}/teams"): Call(
        json=lambda w: {"name": "新团队", "lead_id": w.user_id(Who.OTHER_LEAD)}
    ),
    ("PATCH", f"{API}/teams/{{team_id}}"): Call(json=lambda w: {"name": "内容组"}),
    ("POST", f"{API}/teams/{{team_id}}/members"): Call(
        json=lambda w: {"user_id": w.ids["spare_member"], "role_id": "specialist"}
    ),
    ("DELETE", f"{API}/teams/{{team_id}}/members/{{user_id}}"): Call({"user_id": "bystander"}),
    ("POST", f"{API}/teams/{{team_id}}/review-cycles"): Call(
        json=lambda w: {
            "name": "临时周期",
            "due_at": in_days(10).isoformat(),
            "ratees": [{"user_id": w.ids["bystander"]}],
        }
    ),
    ("POST", f"{API}/review-cycles/{{cycle_id}}/raters"): Call(
        OPEN,
        json=lambda w: {
            "ratee_id": w.user_id(Who.OWNER),
            "rater_id": w.ids["peer_to_add"],
            "group": "peer",
        },
    ),
    ("POST", f"{API}/review-cycles/{{cycle_id}}/nominations"): Call(
        OPEN, json=lambda w: {"rater_id": w.ids["peer_to_add"]}
    ),
    ("POST", f"{API}/review-requests/{{request_id}}/approve"): Call({"request_id": "nomination"}),
    ("POST", f"{API}/review-requests/{{request_id}}/decline"): Call({"request_id": "nomination"}),
    ("GET", f"{API}/review-cycles/{{cycle_id}}/reminders"): Call(OPEN),
    ("POST", f"{API}/review-cycles/{{cycle_id}}/close"): Call(OPEN),
    ("PUT", f"{API}/review-requests/{{request_id}}/answers"): Call(json=_answers_json),
    ("POST", f"{API}/review-requests/{{request_id}}/submit"): Call(json=_answers_json),
    ("POST", "/staff/teams"): Call(
        form=lambda w: {"name": "新团队", "lead_id": str(w.user_id(Who.OTHER_LEAD))}
    ),
    ("POST", "/staff/teams/{team_id:rowid}"): Call(
        form=lambda w: {"name": "内容组", "lead_id": str(w.user_id(Who.TEAM_LEAD))}
    ),
    ("POST", "/staff/teams/{team_id:rowid}/members"): Call(
        form=lambda w: {"user_id": str(w.ids["spare_member"]), "role_id": "specialist"}
    ),
    ("POST", "/staff/teams/{team_id:rowid}/members/{user_id:rowid}/remove"): Call(
        {"user_id": "bystander"}
    ),
    ("POST", "/staff/teams/{team_id:rowid}/cycles"): Call(form=_cycle_form),
    ("GET", "/staff/cycles/{cycle_id:rowid}"): Call(OPEN),
    ("POST", "/staff/cycles/{cycle_id:rowid}/raters"): Call(
        OPEN,
        form=lambda w: {
            "ratee_id": str(w.user_id(Who.OWNER)),
            "rater_id": str(w.ids["peer_to_add"]),
            "group": "peer",
        },
    ),
    ("POST", "/staff/cycles/{cycle_id:rowid}/nominations/{request_id:rowid}/decide"): Call(
        {**OPEN, "request_id": "nomination"}, form=lambda w: {"decision": "approve"}
    ),
    ("POST", "/staff/cycles/{cycle_id:rowid}/close"): Call(OPEN, form=lambda w: {"confirm": "1"}),
    ("POST", "/staff/cycles/{cycle_id:rowid}/nominations"): Call(
        OPEN, form=lambda w: {"rater_id": str(w.ids["peer_to_add"])}
    ),
    ("POST", "/staff/reviews/requests/{request_id:rowid}"): Call(
        form=lambda w: {**_answers_form(w), "action": "save"}
    ),
    ("POST", "/staff/reviews/requests/{request_id:rowid}/autosave"): Call(form=_answers_form),
    # plans and practice
    ("POST", f"{API}/plans"): Call(
        json=lambda w: {"source": "assessment", "source_id": w.ids["owners_assessment"]}
    ),
    ("PATCH", f"{API}/plans/{{plan_id}}"): Call(json=lambda w: {"title": "新标题"}),
    ("POST", f"{API}/plans/{{plan_id}}/items"): Call(
        json=lambda w: {"module_id": w.ids["module"][1], "competency": w.ids["module"][0]}
    ),
    ("PATCH", f"{API}/plans/{{plan_id}}/items/{{item_id}}"): Call(
        PLAN_ITEM, json=lambda w: {"note": "先看案例"}
    ),
    ("DELETE", f"{API}/plans/{{plan_id}}/items/{{item_id}}"): Call(PLAN_ITEM),
    ("PUT", f"{API}/plans/{{plan_id}}/items/{{item_id}}/status"): Call(
        PLAN_ITEM, json=lambda w: {"status": "in_progress"}
    ),
    ("POST", f"{API}/plans/{{plan_id}}/items/{{item_id}}/evidence"): Call(
        PLAN_ITEM, json=lambda w: {"text": "上完第一课"}
    ),
    ("POST", f"{API}/practice/sessions"): Call(
        json=lambda w: {"competency": w.ids["practice_topic"]}
    ),
    ("POST", f"{API}/practice/sessions/{{session_id}}/answers"): Call(
        json=lambda w: {
            "item_id": w.ids["practice_item"],
            "selected": [w.ids["practice_option"]],
        }
    ),
    ("POST", "/plans"): Call(
        form=lambda w: {
            "user_id": str(w.user_id(Who.OWNER)),
            "source": f"assessment:{w.ids['owners_assessment']}",
        }
    ),
    ("POST", "/plans/{plan_id}/title"): Call(form=lambda w: {"title": "新标题"}),
    ("POST", "/plans/{plan_id}/items"): Call(
        form=lambda w: {"module_id": w.ids["module"][1], "competency": w.ids["module"][0]}
    ),
    ("POST", "/plans/{plan_id}/items/{item_id}"): Call(
        PLAN_ITEM, form=lambda w: {"due_date": "", "note": "先看案例"}
    ),
    ("POST", "/plans/{plan_id}/items/{item_id}/remove"): Call(PLAN_ITEM),
    ("POST", "/plans/{plan_id}/items/{item_id}/status"): Call(
        PLAN_ITEM, form=lambda w: {"status": "in_progress"}
    ),
    ("POST", "/plans/{plan_id}/items/{item_id}/evidence"): Call(
        PLAN_ITEM, form=lambda w: {"text": "上完第一课"}
    ),
    ("POST", "/practice"): Call(form=lambda w: {"competency": w.ids["practice_topic"]}),
    ("POST", "/practice/{session_id}/answer"): Call(
        form=lambda w: {"item_id": w.ids["practice_item"], "selected": w.ids["practice_option"]}
    ),
    # the candidate's own pages
    ("POST", "/take/{token}/start"): Call(form=lambda w: {"consent": "yes"}),
    ("POST", "/take/{token}/section/{number:int}"): Call(form=lambda w: {}),
    ("POST", "/take/{token}/autosave"): Call(json=lambda w: {"answers": {}}),
    ("POST", "/take/{token}/submit"): Call(form=lambda w: {"confirm": "yes"}),
    ("POST", "/take/{token}/{rest:path}"): Call(form=lambda w: {}),
}


def fill_path(template: str, world: World, who: Who, call: Call) -> str:
    """The template with each `{name[:convertor]}` replaced by a world object's id."""
    path = template
    while "{" in path:
        start = path.index("{")
        end = path.index("}", start)
        name = path[start + 1 : end].split(":")[0]
        if name == "token":
            # Only the candidate holds a live link; everyone else tries one that opens nothing.
            value = world.invite_token if who is Who.CANDIDATE else secrets.token_urlsafe(24)
        elif name in FIXED_PARAMS:
            value = FIXED_PARAMS[name]
        else:
            key = call.params.get(name, DEFAULT_PARAMS[name])
            found = world.ids.get(key)
            value = str(found if found is not None else world.user_id(Who(key)))
        path = path[:start] + value + path[end + 1 :]
    return path


@dataclass(frozen=True)
class Prepared:
    method: str
    url: str
    headers: dict[str, str]
    cookies: dict[str, str]
    json: Any = None
    data: dict[str, Any] | None = None


def prepare(
    key: RouteKey,
    world: World,
    who: Who,
    *,
    csrf: str | None = "session",
    use_cookie_for_api: bool = False,
) -> Prepared:
    """The request `who` makes to the route: bearer token on the API, session cookie on pages.

    `csrf="session"` sends the session's own token (form field and header); any other
    string sends that instead, None sends none.
    """
    method, template = key
    call = CALLS.get(key, Call())
    url = fill_path(template, world, who, call)
    if call.query:
        url += "?" + urlencode(call.query(world))
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    creds = world.credentials.get(who)
    token = (creds.csrf if creds else "") if csrf == "session" else csrf
    if creds is not None:
        if is_api(template) and not use_cookie_for_api:
            headers["Authorization"] = f"Bearer {creds.bearer}"
        elif not is_invite(template):
            cookies[SESSION_COOKIE] = creds.cookie
    json_body = call.json(world) if call.json else None
    form = dict(call.form(world)) if call.form else None
    if method not in {"GET", "HEAD"} and not is_invite(template):
        if token is not None and SESSION_COOKIE in cookies:
            headers["X-CSRF-Token"] = token
            if not is_api(template):
                form = {**(form or {}), "csrf_token": token}
        if key == ("POST", "/login"):
            login_csrf = secrets.token_urlsafe(32)
            cookies[LOGIN_CSRF_COOKIE] = login_csrf
            form = {**(form or {}), "login_csrf": login_csrf}
    return Prepared(method, url, headers, cookies, json_body, form)


def send(client: TestClient, db: Session, request: Prepared, *, keep: bool = False) -> Response:
    """Make the request with exactly its own cookies; unless `keep`, whatever it wrote is
    rolled back, so every route of a role's walk meets the same world."""
    client.cookies.clear()
    for name, value in request.cookies.items():
        client.cookies.set(name, value)
    savepoint = None if keep else db.begin_nested()
    try:
        return client.request(
            request.method,
            request.url,
            headers=request.headers,
            json=request.json,
            data=request.data,
            follow_redirects=False,
        )
    finally:
        if savepoint is not None:
            savepoint.rollback()
        db.expire_all()
        client.cookies.clear()


# ── who may call what ───────────────────────────────────────────────────────────────────

LOGIN: Literal["login"] = "login"
"""A redirect (303) to the sign-in page that brings the visitor back afterwards."""

Outcome = int | Literal["login"]
Expect = dict[Who, Outcome]


def api(member: int, other_lead: int, team_lead: int, owner: int, hr: int, admin: int) -> Expect:
    """A JSON route for signed-in staff: no credentials (or an invite token) is 401."""
    staff = (member, other_lead, team_lead, owner, hr, admin)
    return {Who.ANONYMOUS: 401, Who.CANDIDATE: 401, **dict(zip(STAFF, staff, strict=True))}


def page(member: int, other_lead: int, team_lead: int, owner: int, hr: int, admin: int) -> Expect:
    """A page for signed-in staff: everyone else is sent to sign in."""
    staff = (member, other_lead, team_lead, owner, hr, admin)
    return {Who.ANONYMOUS: LOGIN, Who.CANDIDATE: LOGIN, **dict(zip(STAFF, staff, strict=True))}


def everyone(status: int, *, signed_in: int | None = None) -> Expect:
    """A public route; `signed_in` when staff with a session get something else."""
    found: Expect = {who: status for who in Who}
    if signed_in is not None:
        found.update({who: signed_in for who in STAFF})
    return found


def invite(candidate: int) -> Expect:
    """A candidate page: only the invite link's own token opens it, whoever else asks."""
    return {who: candidate if who is Who.CANDIDATE else 404 for who in Who}


# 403: the role may never use the route; 404: the object is out of the caller's reach, so
# its id reveals nothing. HR reads plans but only the person's lead edits them and only the
# person updates their items; only assigned raters (here the owner and HR, not the admin)
# see a rating task; practice starts only on a competency of one's own plan (else 422).
EXPECTED: dict[RouteKey, Expect] = {
    # public, and signing in and out                          (roles: see `everyone`)
    ("GET", "/"): everyone(200),
    ("GET", "/static/{path}"): everyone(200),
    ("GET", "/api/docs"): everyone(200),
    ("GET", "/docs/oauth2-redirect"): everyone(200),
    ("GET", f"{API}/openapi.json"): everyone(200),
    ("GET", f"{API}/health"): everyone(200),
    ("GET", f"{API}/rubrics"): everyone(200),
    ("GET", f"{API}/rubrics/{{rubric_id}}"): everyone(200),
    ("GET", "/login"): everyone(200, signed_in=303),
    ("POST", "/login"): everyone(303),
    ("POST", "/logout"): everyone(303),
    ("POST", "/language"): everyone(303),
    #                                                          member other team  owner  hr  admin
    #                                                                 lead  lead
    # the signed-in user's own account
    ("GET", f"{API}/me"): api(200, 200, 200, 200, 200, 200),
    ("GET", f"{API}/tokens"): api(200, 200, 200, 200, 200, 200),
    ("POST", f"{API}/tokens"): api(201, 201, 201, 201, 201, 201),
    ("DELETE", f"{API}/tokens/{{token_id}}"): api(404, 404, 404, 204, 404, 404),
    ("GET", "/account"): page(200, 200, 200, 200, 200, 200),
    ("GET", "/account/tokens"): page(200, 200, 200, 200, 200, 200),
    ("POST", "/account/tokens"): page(201, 201, 201, 201, 201, 201),
    ("POST", "/account/tokens/{token_id}/revoke"): page(404, 404, 404, 303, 404, 404),
    # the audit log: admins only
    ("GET", f"{API}/audit"): api(403, 403, 403, 403, 403, 200),
    ("GET", "/admin/audit"): page(403, 403, 403, 403, 403, 200),
    # hiring: HR's, except rating tasks (assigned raters) and the blind assessment view
    ("GET", f"{API}/candidates"): api(403, 403, 403, 403, 200, 200),
    ("POST", f"{API}/candidates"): api(403, 403, 403, 403, 201, 201),
    ("GET", f"{API}/candidates/{{candidate_id}}"): api(403, 403, 403, 403, 200, 200),
    ("GET", f"{API}/assessments"): api(403, 403, 403, 403, 200, 200),
    ("POST", f"{API}/assessments"): api(403, 403, 403, 403, 201, 201),
    ("GET", f"{API}/assessments/export.{{fmt}}"): api(403, 403, 403, 403, 200, 200),
    ("GET", f"{API}/assessments/{{assessment_id}}"): api(404, 404, 404, 200, 200, 200),
    ("POST", f"{API}/assessments/{{assessment_id}}/revoke"): api(403, 403, 403, 403, 200, 200),
    ("POST", f"{API}/assessments/{{assessment_id}}/extend"): api(403, 403, 403, 403, 200, 200),
    ("POST", f"{API}/assessments/{{assessment_id}}/reissue"): api(403, 403, 403, 403, 200, 200),
    ("PUT", f"{API}/assessments/{{assessment_id}}/candidate-feedback"): api(
        403, 403, 403, 403, 200, 200
    ),
    ("POST", f"{API}/assessments/{{assessment_id}}/raters"): api(403, 403, 403, 403, 201, 201),
    ("DELETE", f"{API}/assessments/{{assessment_id}}/raters/{{user_id}}"): api(
        403, 403, 403, 403, 200, 200
    ),
    ("GET", f"{API}/ratings/queue"): api(200, 200, 200, 200, 200, 200),
    ("GET", f"{API}/assessments/{{assessment_id}}/items/{{item_id}}/rating-task"): api(
        404, 404, 404, 200, 200, 404
    ),
    ("PUT", f"{API}/assessments/{{assessment_id}}/items/{{item_id}}/rating"): api(
        404, 404, 404, 200, 200, 404
    ),
    ("GET", f"{API}/assessments/{{assessment_id}}/result"): api(403, 403, 403, 403, 200, 200),
    ("GET", f"{API}/campaigns/{{rubric_id}}/{{role_id}}/agreement"): api(
        403, 403, 403, 403, 200, 200
    ),
    ("GET", f"{API}/reports/candidates/{{assessment_id:int}}.pdf"): api(
        403, 403, 403, 403, 200, 200
    ),
    ("GET", f"{API}/reports/candidates/{{assessment_id:int}}/feedback.pdf"): api(
        403, 403, 403, 403, 200, 200
    ),
    ("GET", "/staff"): page(200, 200, 200, 200, 200, 200),
    ("GET", "/staff/assessments"): page(403, 403, 403, 403, 200, 200),
    ("GET", "/staff/assessments/export.{fmt}"): page(403, 403, 403, 403, 200, 200),
    ("GET", "/staff/assessments/new"): page(403, 403, 403, 403, 200, 200),
    ("POST", "/staff/assessments/new"): page(403, 403, 403, 403, 201, 201),
    ("GET", "/staff/assessments/{assessment_id:int}"): page(403, 403, 403, 403, 200, 200),
    ("POST", "/staff/assessments/{assessment_id:int}/raters"): page(403, 403, 403, 403, 303, 303),
    ("POST", "/staff/assessments/{assessment_id:int}/raters/{user_id:int}/remove"): page(
        403, 403, 403, 403, 303, 303
    ),
    ("POST", "/staff/assessments/{assessment_id:int}/feedback"): page(403, 403, 403, 403, 303, 303),
    ("POST", "/staff/assessments/{assessment_id:int}/revoke"): page(403, 403, 403, 403, 303, 303),
    ("POST", "/staff/assessments/{assessment_id:int}/extend"): page(403, 403, 403, 403, 303, 303),
    ("POST", "/staff/assessments/{assessment_id:int}/reissue"): page(403, 403, 403, 403, 200, 200),
    ("GET", "/staff/assessments/{assessment_id:int}/result"): page(403, 403, 403, 403, 200, 200),
    ("GET", "/staff/campaigns"): page(403, 403, 403, 403, 200, 200),
    ("GET", "/staff/ratings"): page(200, 200, 200, 200, 200, 200),
    ("GET", "/staff/ratings/{assessment_id:int}/{item_id}"): page(404, 404, 404, 200, 200, 404),
    ("POST", "/staff/ratings/{assessment_id:int}/{item_id}"): page(404, 404, 404, 303, 303, 404),
    ("GET", "/staff/reports/candidates/{assessment_id:int}.html"): page(
        403, 403, 403, 403, 200, 200
    ),
    ("GET", "/staff/reports/candidates/{assessment_id:int}/feedback.html"): page(
        403, 403, 403, 403, 200, 200
    ),
    # teams: HR manages them; members see their own team, other leads nothing of it
    ("GET", f"{API}/teams"): api(200, 200, 200, 200, 200, 200),
    ("POST", f"{API}/teams"): api(403, 403, 403, 403, 201, 201),
    ("GET", f"{API}/teams/{{team_id}}"): api(200, 404, 200, 200, 200, 200),
    ("PATCH", f"{API}/teams/{{team_id}}"): api(403, 403, 403, 403, 200, 200),
    ("POST", f"{API}/teams/{{team_id}}/members"): api(403, 403, 403, 403, 201, 201),
    ("DELETE", f"{API}/teams/{{team_id}}/members/{{user_id}}"): api(403, 403, 403, 403, 200, 200),
    ("GET", f"{API}/teams/{{team_id}}/heat-map"): api(403, 404, 200, 403, 200, 200),
    ("GET", f"{API}/reports/teams/{{team_id:int}}.pdf"): api(403, 404, 200, 403, 200, 200),
    ("GET", "/staff/teams"): page(200, 200, 200, 200, 200, 200),
    ("POST", "/staff/teams"): page(403, 403, 403, 403, 303, 303),
    ("GET", "/staff/teams/{team_id:rowid}"): page(200, 404, 200, 200, 200, 200),
    ("POST", "/staff/teams/{team_id:rowid}"): page(403, 403, 403, 403, 303, 303),
    ("POST", "/staff/teams/{team_id:rowid}/members"): page(403, 403, 403, 403, 303, 303),
    ("POST", "/staff/teams/{team_id:rowid}/members/{user_id:rowid}/remove"): page(
        403, 403, 403, 403, 303, 303
    ),
    ("GET", "/staff/teams/{team_id:rowid}/heatmap"): page(403, 404, 200, 403, 200, 200),
    ("GET", "/staff/reports/teams/{team_id:int}.html"): page(403, 404, 200, 403, 200, 200),
    # 360 cycles: the team's lead (and HR) run them; ratees see their own part
    ("POST", f"{API}/teams/{{team_id}}/review-cycles"): api(403, 404, 201, 403, 201, 201),
    ("GET", f"{API}/review-cycles"): api(200, 200, 200, 200, 200, 200),
    ("GET", f"{API}/review-cycles/{{cycle_id}}"): api(200, 404, 200, 200, 200, 200),
    ("POST", f"{API}/review-cycles/{{cycle_id}}/raters"): api(403, 404, 201, 403, 201, 201),
    ("POST", f"{API}/review-cycles/{{cycle_id}}/nominations"): api(403, 404, 403, 201, 403, 403),
    ("POST", f"{API}/review-requests/{{request_id}}/approve"): api(403, 404, 200, 403, 200, 200),
    ("POST", f"{API}/review-requests/{{request_id}}/decline"): api(403, 404, 200, 403, 200, 200),
    ("GET", f"{API}/review-cycles/{{cycle_id}}/reminders"): api(403, 404, 200, 403, 200, 200),
    ("POST", f"{API}/review-cycles/{{cycle_id}}/close"): api(403, 404, 200, 403, 200, 200),
    ("GET", "/staff/teams/{team_id:rowid}/cycles/new"): page(403, 404, 200, 403, 200, 200),
    ("POST", "/staff/teams/{team_id:rowid}/cycles"): page(403, 404, 303, 403, 303, 303),
    ("GET", "/staff/cycles/{cycle_id:rowid}"): page(200, 404, 200, 200, 200, 200),
    ("POST", "/staff/cycles/{cycle_id:rowid}/raters"): page(403, 404, 303, 403, 303, 303),
    ("POST", "/staff/cycles/{cycle_id:rowid}/nominations"): page(403, 404, 403, 303, 403, 403),
    ("POST", "/staff/cycles/{cycle_id:rowid}/nominations/{request_id:rowid}/decide"): page(
        403, 404, 303, 403, 303, 303
    ),
    ("POST", "/staff/cycles/{cycle_id:rowid}/close"): page(403, 404, 303, 403, 303, 303),
    # 360 rating: a form is its rater's alone (the owner's self rating here)
    ("GET", f"{API}/review-tasks"): api(200, 200, 200, 200, 200, 200),
    ("GET", f"{API}/review-requests/{{request_id}}/form"): api(404, 404, 404, 200, 404, 404),
    ("PUT", f"{API}/review-requests/{{request_id}}/answers"): api(404, 404, 404, 200, 404, 404),
    ("POST", f"{API}/review-requests/{{request_id}}/submit"): api(404, 404, 404, 200, 404, 404),
    ("GET", "/staff/reviews"): page(200, 200, 200, 200, 200, 200),
    ("GET", "/staff/reviews/requests/{request_id:rowid}"): page(404, 404, 404, 200, 404, 404),
    ("POST", "/staff/reviews/requests/{request_id:rowid}"): page(404, 404, 404, 303, 404, 404),
    ("POST", "/staff/reviews/requests/{request_id:rowid}/autosave"): page(
        404, 404, 404, 200, 404, 404
    ),
    # 360 results: the ratee, the cycle's lead and HR; `my-result` is the caller's own
    ("GET", f"{API}/review-results/mine"): api(200, 200, 200, 200, 200, 200),
    ("GET", f"{API}/review-cycles/{{cycle_id}}/my-result"): api(200, 404, 404, 200, 404, 404),
    ("GET", f"{API}/review-cycles/{{cycle_id}}/results"): api(403, 404, 200, 403, 200, 200),
    ("GET", f"{API}/review-cycles/{{cycle_id}}/results/{{user_id}}"): api(
        404, 404, 200, 200, 200, 200
    ),
    ("GET", f"{API}/review-cycles/{{cycle_id}}/agreement"): api(403, 404, 200, 403, 200, 200),
    ("GET", f"{API}/people/{{user_id}}/trend"): api(404, 404, 200, 200, 200, 200),
    ("GET", f"{API}/reports/reviews/{{ratee_id:int}}.pdf"): api(404, 404, 200, 200, 200, 200),
    ("GET", "/staff/cycles/{cycle_id:rowid}/results/{user_id:rowid}"): page(
        404, 404, 200, 200, 200, 200
    ),
    ("GET", "/staff/people/{user_id:rowid}/trend"): page(404, 404, 200, 200, 200, 200),
    ("GET", "/staff/reports/reviews/{ratee_id:int}.html"): page(404, 404, 200, 200, 200, 200),
    ("GET", "/staff/reports/cycles/{cycle_id:int}/results/{user_id:int}.html"): page(
        404, 404, 200, 200, 200, 200
    ),
    # development plans: the person's lead edits, the person updates, HR reads
    ("GET", f"{API}/plans"): api(200, 200, 200, 200, 200, 200),
    ("POST", f"{API}/plans"): api(403, 404, 201, 403, 201, 201),
    ("GET", f"{API}/plans/sources"): api(403, 404, 200, 403, 200, 200),
    ("GET", f"{API}/plans/teams"): api(200, 200, 200, 200, 200, 200),
    ("GET", f"{API}/plans/teams/{{team_id}}"): api(403, 404, 200, 403, 200, 200),
    ("GET", f"{API}/plans/{{plan_id}}"): api(404, 404, 200, 200, 200, 200),
    ("PATCH", f"{API}/plans/{{plan_id}}"): api(404, 404, 200, 403, 403, 403),
    ("POST", f"{API}/plans/{{plan_id}}/items"): api(404, 404, 201, 403, 403, 403),
    ("PATCH", f"{API}/plans/{{plan_id}}/items/{{item_id}}"): api(404, 404, 200, 403, 403, 403),
    ("DELETE", f"{API}/plans/{{plan_id}}/items/{{item_id}}"): api(404, 404, 204, 403, 403, 403),
    ("PUT", f"{API}/plans/{{plan_id}}/items/{{item_id}}/status"): api(404, 404, 403, 200, 403, 403),
    ("POST", f"{API}/plans/{{plan_id}}/items/{{item_id}}/evidence"): api(
        404, 404, 403, 201, 403, 403
    ),
    ("GET", "/plans"): page(200, 200, 200, 200, 200, 200),
    ("GET", "/plans/new"): page(403, 404, 200, 403, 200, 200),
    ("POST", "/plans"): page(403, 404, 303, 403, 303, 303),
    ("GET", "/plans/teams/{team_id}"): page(403, 404, 200, 403, 200, 200),
    ("GET", "/plans/{plan_id}"): page(404, 404, 200, 200, 200, 200),
    ("POST", "/plans/{plan_id}/title"): page(404, 404, 303, 403, 403, 403),
    ("POST", "/plans/{plan_id}/items"): page(404, 404, 303, 403, 403, 403),
    ("POST", "/plans/{plan_id}/items/{item_id}"): page(404, 404, 303, 403, 403, 403),
    ("POST", "/plans/{plan_id}/items/{item_id}/remove"): page(404, 404, 303, 403, 403, 403),
    ("POST", "/plans/{plan_id}/items/{item_id}/status"): page(404, 404, 403, 303, 403, 403),
    ("POST", "/plans/{plan_id}/items/{item_id}/evidence"): page(404, 404, 403, 303, 403, 403),
    # the training catalogue, and practice (one's own sessions only)
    ("GET", f"{API}/catalogue"): api(200, 200, 200, 200, 200, 200),
    ("GET", f"{API}/catalogue/needs"): api(403, 403, 403, 403, 200, 200),
    ("GET", f"{API}/practice"): api(200, 200, 200, 200, 200, 200),
    ("POST", f"{API}/practice/sessions"): api(422, 422, 422, 201, 422, 422),
    ("GET", f"{API}/practice/sessions/{{session_id}}"): api(404, 404, 404, 200, 404, 404),
    ("POST", f"{API}/practice/sessions/{{session_id}}/answers"): api(404, 404, 404, 200, 404, 404),
    ("GET", "/catalogue"): page(200, 200, 200, 200, 200, 200),
    ("GET", "/practice"): page(200, 200, 200, 200, 200, 200),
    ("POST", "/practice"): page(422, 422, 422, 303, 422, 422),
    ("GET", "/practice/{session_id}"): page(404, 404, 404, 200, 404, 404),
    ("POST", "/practice/{session_id}/answer"): page(404, 404, 404, 303, 404, 404),
    # the candidate's pages, opened by the invite link alone
    ("GET", "/take/{token}"): invite(200),
    ("POST", "/take/{token}/start"): invite(303),
    ("GET", "/take/{token}/section/{number:int}"): invite(200),
    ("POST", "/take/{token}/section/{number:int}"): invite(303),
    ("POST", "/take/{token}/autosave"): invite(200),
    ("GET", "/take/{token}/review"): invite(200),
    ("POST", "/take/{token}/submit"): invite(303),
    ("GET", "/take/{token}/{rest:path}"): invite(404),
    ("POST", "/take/{token}/{rest:path}"): invite(404),
}


def allowed(outcome: Outcome) -> bool:
    """Whether the caller gets what they asked for (a login redirect is not that)."""
    return isinstance(outcome, int) and outcome < 400


def mismatch(expected: Outcome, response: Response) -> str | None:
    """What is wrong with `response` given the expected outcome, or None."""
    status = response.status_code
    if expected == LOGIN:
        location = response.headers.get("location", "")
        if status == 303 and location.startswith("/login?next=/"):
            return None
        return f"expected a redirect to sign in, got {status} {location}".rstrip()
    if status == expected:
        return None
    return f"expected {expected}, got {status}: {response.text[:160]!r}"


# ── the headers every response carries (ARCHITECTURE §9) ───────────────────────────────

CSP_DIRECTIVES = (
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)


def header_problems(path: str, response: Response, *, private: bool) -> list[str]:
    """Missing security headers; pages and API answers of a `private` route (one for
    signed-in callers only) and every download must not be cached."""
    problems = []
    csp = [d.strip() for d in response.headers.get("content-security-policy", "").split(";")]
    problems += [f"CSP lacks {d}" for d in CSP_DIRECTIVES if d not in csp]
    if response.headers.get("x-content-type-options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    referrer = response.headers.get("referrer-policy")
    if is_invite(path) and referrer != "no-referrer":
        problems.append(f"Referrer-Policy {referrer} on an invite page")
    elif not referrer:
        problems.append("no Referrer-Policy")
    html = response.headers.get("content-type", "").startswith("text/html")
    download = "attachment" in response.headers.get("content-disposition", "")
    answer = html or is_api(path)
    personal = is_invite(path) or download or (private and answer and response.is_success)
    if personal and "no-store" not in response.headers.get("cache-control", ""):
        problems.append("personal data without Cache-Control: no-store")
    return problems
