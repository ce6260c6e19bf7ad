"""A NUL character in what a page is sent is refused, naming the field, and changes nothing.

PostgreSQL cannot store a NUL (SQLite stores it silently): before this, a name or note holding
one failed with a 500 on PostgreSQL. Pages refuse it in path and query parameters and form
fields with an error page; the candidate's answers are refused beside their question.
"""

from __future__ import annotations

import html
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.assessments import candidate as candidate_service
from app.assessments.models import Assessment, Candidate
from app.config import Settings
from app.reviews import service as review_service
from app.reviews.models import ReviewAnswer
from tests.conftest import MakeUser, SignIn
from tests.reviews.review_helpers import competencies, make_team, open_cycle, request_of
from tests.security.route_matrix import (
    EXPECTED,
    Prepared,
    RouteKey,
    Who,
    allowed,
    build_world,
    header_problems,
    is_api,
    is_invite,
    prepare,
    send,
)
from tests.security.test_csrf_sweep import CREDENTIAL_TRACES, changes, snapshot
from tests.web.test_candidate_pages import (
    drawn,
    first_work_sample_section,
    section_items,
)

NUL = "\x00"

# Routes of FastAPI and Starlette themselves, not of our page routers.
NOT_PAGES = {"/api/docs", "/docs/oauth2-redirect", "/static/{path}"}
PAGES = sorted(k for k in EXPECTED if not is_api(k[1]) and k[1] not in NOT_PAGES)
CALLERS = (
    Who.OWNER,
    Who.TEAM_LEAD,
    Who.HR,
    Who.ADMIN,
    Who.MEMBER,
    Who.OTHER_LEAD,
    Who.CANDIDATE,
    Who.ANONYMOUS,
)
# Tokens that make a form come from our own pages; their checks are not what is tried here.
FORM_TOKENS = {"csrf_token", "login_csrf"}


def caller_of(key: RouteKey) -> Who:
    # The link's unknown pages (a 404 for everyone) are the candidate's to mistype.
    return next((who for who in CALLERS if allowed(EXPECTED[key][who])), Who.CANDIDATE)


def with_nul(value: object) -> str:
    return f"{value}{NUL}"


def variants(key: RouteKey, request: Prepared) -> list[tuple[str, Prepared]]:
    """The request with a NUL in one field at a time: (the field's name, the request)."""
    found = []
    path, _, query = request.url.partition("?")
    params = parse_qsl(query) or [("lang", "en")]
    for n, (name, _value) in enumerate(params):
        bad = [(k, with_nul(v) if i == n else v) for i, (k, v) in enumerate(params)]
        found.append((name, replace(request, url=f"{path}?{urlencode(bad)}")))
    # A path parameter without a convertor takes any text.
    template_parts, parts = key[1].split("/"), path.split("/")
    for n, part in enumerate(template_parts):
        if part.startswith("{") and ":" not in part:
            bad_path = "/".join(p + "%00" if i == n else p for i, p in enumerate(parts))
            found.append((part.strip("{}"), replace(request, url=f"{bad_path}?{query}")))
    # The candidate's form fields are each route's own: answers are refused by the question.
    if not is_invite(key[1]):
        for name in request.data or {}:
            if name not in FORM_TOKENS:
                data = {**(request.data or {}), name: with_nul((request.data or {})[name])}
                found.append((name, replace(request, data=data)))
    return found


def refusal_problem(response: Response, field: str) -> str | None:
    if response.status_code != 422:
        return f"expected 422, got {response.status_code}: {response.text[:160]!r}"
    if response.headers.get("content-type", "").startswith("application/json"):
        detail = response.json()["detail"]
        if detail.get("field") != field or "NUL" not in detail.get("message", ""):
            return f"the refusal does not name the field: {detail}"
        return None
    text = html.unescape(response.text)
    if f"“{field}” contains a NUL character" not in text:
        return "the page does not name the field"
    return None


def test_every_page_refuses_a_nul_in_any_field_naming_it_and_changes_nothing(
    client: TestClient, db: Session, settings: Settings, make_user: MakeUser
) -> None:
    world = build_world(db, settings, make_user)
    before = snapshot(db, leave_out=CREDENTIAL_TRACES)
    wrong = []
    tried: dict[str, int] = {"form": 0, "other": 0}
    for key in PAGES:
        who = caller_of(key)
        request = prepare(key, world, who)
        request = replace(request, headers={**request.headers, "Accept-Language": "en"})
        for field, bad in variants(key, request):
            tried["form" if bad.data != request.data else "other"] += 1
            # Not rolled back: whatever a refused request wrote would stay for `snapshot`.
            response = send(client, db, bad, keep=True)
            after = snapshot(db, leave_out=CREDENTIAL_TRACES)
            problem = (
                refusal_problem(response, field)
                or "; ".join(header_problems(key[1], response, private=False))
                or "; ".join(changes(before, after))
            )
            if problem:
                wrong.append(f"{key[0]} {key[1]} as {who}, NUL in {field}: {problem}")
                before = after

    # Every page was tried, and the forms' fields each on their own.
    assert tried["other"] >= len(PAGES)
    assert tried["form"] > 50
    assert not wrong, f"{tried} requests, {len(wrong)} problems:\n" + "\n".join(wrong)


# ── representative forms, one by one ────────────────────────────────────────────────────


def count(db: Session, model: type[Candidate] | type[Assessment]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_staff_form_with_a_nul_gets_an_error_page_in_the_users_language(
    client: TestClient, db: Session, make_user: MakeUser, sign_in: SignIn
) -> None:
    signed = sign_in(make_user(Role.HR))
    candidates, assessments = count(db, Candidate), count(db, Assessment)
    form = {
        "csrf_token": signed.csrf,
        "name": f"王{NUL}芳",
        "email": "wangfang@example.com",
        "role": "new_media_operator:assistant",
    }

    english = client.post("/staff/assessments/new", data=form, headers={"Accept-Language": "en"})
    client.cookies.set("lang", "zh")
    chinese = client.post("/staff/assessments/new", data=form)

    assert english.status_code == 422
    assert "The field “name” contains a NUL character" in html.unescape(english.text)
    assert english.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in english.headers["content-security-policy"]
    assert chinese.status_code == 422
    assert "字段“name”中含有不允许的空字符（NUL）" in html.unescape(chinese.text)
    assert (count(db, Candidate), count(db, Assessment)) == (candidates, assessments)


def test_a_list_page_refuses_a_nul_in_its_search(
    client: TestClient, make_user: MakeUser, sign_in: SignIn
) -> None:
    sign_in(make_user(Role.HR))

    page = client.get(
        "/staff/assessments", params={"search": f"Li{NUL}"}, headers={"Accept-Language": "en"}
    )

    assert page.status_code == 422
    assert "The field “search” contains a NUL character" in html.unescape(page.text)


def test_a_field_name_that_is_not_ours_is_not_put_on_the_page(
    client: TestClient, make_user: MakeUser, sign_in: SignIn
) -> None:
    sign_in(make_user(Role.HR))
    words = "Your account is locked, call 555 0100"

    page = client.get("/staff/assessments", params={words: NUL})

    assert page.status_code == 422
    assert words not in html.unescape(page.text)
    assert "The request contains a NUL character" in html.unescape(page.text)


def test_a_review_form_with_a_nul_in_a_comment_keeps_the_saved_draft(
    client: TestClient, db: Session, settings: Settings, make_user: MakeUser, sign_in: SignIn
) -> None:
    team = make_team(db, settings, make_user, size=2)
    anna, ning = team.members[:2]
    cycle_id = open_cycle(
        db, settings, team, [review_service.RateeSpec(anna.id, peer_ids=(ning.id,))]
    ).cycle.id
    request = request_of(db, cycle_id, anna, ning)
    signed = sign_in(ning)
    url = f"/staff/reviews/requests/{request.id}"
    first = competencies(settings)[0]
    draft = {f"level.{first}": "4", f"comment.{first}": "善于拆解选题"}
    saved = client.post(
        url, data={"csrf_token": signed.csrf, "action": "save", **draft}, follow_redirects=False
    )
    assert saved.status_code == 303

    changed = {f"level.{first}": "2", f"comment.{first}": f"改{NUL}了"}
    for target in (url, f"{url}/autosave"):
        refused = client.post(
            target,
            data={"csrf_token": signed.csrf, "action": "save", **changed},
            headers={"Accept-Language": "en"},
        )
        assert refused.status_code == 422
        assert f"The field “comment.{first}” contains a NUL" in html.unescape(refused.text)

    stored = db.scalars(select(ReviewAnswer).where(ReviewAnswer.request_id == request.id)).all()
    assert [(a.competency_id, a.level, a.comment) for a in stored] == [(first, 4, "善于拆解选题")]


# ── the candidate's answers ─────────────────────────────────────────────────────────────


NUL_PROBLEM = "This answer holds a NUL character"


def test_a_nul_in_an_answer_on_the_section_form_is_refused_beside_the_question(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    number = first_work_sample_section(db, assessment)
    sample, other = section_items(db, assessment, number)[:2]
    url = f"/take/{raw}/section/{number}"
    client.post(url, data={sample.id: "第一稿", "_go": "stay"})

    page = client.post(
        url,
        data={sample.id: f"第二{NUL}稿", other.id: "另一题的答案", "_go": "next"},
        headers={"Accept-Language": "en"},
    )

    assert page.status_code == 422
    assert page.headers["referrer-policy"] == "no-referrer"
    field = html.unescape(page.text.split(f'id="q-{sample.id}"')[1].split("</fieldset>")[0])
    assert f'id="error-{sample.id}">{NUL_PROBLEM}' in field
    # What was typed is still there, the NUL shown where it was; no raw NUL is sent.
    assert "第二\ufffd稿" in field
    assert NUL not in page.text
    # The earlier answer to that question is kept, and the other answer was saved as usual.
    assert candidate_service.saved_answers(db, assessment) == {
        sample.id: "第一稿",
        other.id: "另一题的答案",
    }


def test_a_nul_in_an_autosaved_answer_is_refused_by_its_question(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    number = first_work_sample_section(db, assessment)
    sample = section_items(db, assessment, number)[0]
    single = next(i for i in drawn(db, assessment) if i.select == "single" and i.is_choice)
    url = f"/take/{raw}/autosave"
    assert client.post(url, json={"answers": {sample.id: "第一稿"}}).status_code == 200

    refused = client.post(
        url,
        json={"answers": {sample.id: f"第二{NUL}稿", single.id: [single.options[0].id]}},
        headers={"Accept-Language": "en"},
    )

    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert set(detail["problems"]) == {sample.id}
    assert detail["problems"][sample.id].startswith(NUL_PROBLEM)
    assert detail["message"] == "Some answers were not saved; see the questions."
    # As with any refused answer, the other answers of the request are saved.
    assert candidate_service.saved_answers(db, assessment) == {
        sample.id: "第一稿",
        single.id: [single.options[0].id],
    }


def test_a_nul_in_the_autosave_query_is_refused_as_json(
    client: TestClient, db: Session, started: tuple[Assessment, str]
) -> None:
    assessment, raw = started
    sample = section_items(db, assessment, first_work_sample_section(db, assessment))[0]

    refused = client.post(
        f"/take/{raw}/autosave", params={"lang": f"en{NUL}"}, json={"answers": {sample.id: "a"}}
    )

    assert refused.status_code == 422
    assert refused.json()["detail"]["code"] == "nul_character"
    assert refused.json()["detail"]["field"] == "lang"
    assert candidate_service.saved_answers(db, assessment) == {}
