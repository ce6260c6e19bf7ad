"""The 360 review pages: a cycle from opening to released results, the rating form, results,
heat map and trend, who may open which page, CSRF, and that no page names a peer's rating."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.config import Settings
from app.reviews import service as review_service
from app.reviews.models import ReviewAnswer, ReviewCycle, ReviewRequest
from app.reviews.models import Team as TeamRow
from app.web import reviews as review_pages
from tests.conftest import SignIn
from tests.reviews.review_helpers import (
    MakeUser,
    Team,
    competencies,
    in_days,
    make_team,
    open_cycle,
    rate,
    request_of,
)

Spec = review_service.RateeSpec
CONTENT = "content_creation"


@pytest.fixture
def pages(client: TestClient) -> TestClient:
    """The test client with the review pages mounted (a no-op once the app includes them),
    not following redirects, so a test sees each 303 and where it points."""
    app = cast(FastAPI, client.app)
    if "/staff/reviews" not in {getattr(route, "path", "") for route in app.routes}:
        app.include_router(review_pages.router)
    client.follow_redirects = False
    return client


@pytest.fixture
def team(db: Session, settings: Settings, make_user: MakeUser) -> Team:
    return make_team(
        db, settings, make_user, names=["李安娜", "周宁", "陈可", "赵一", "孙二"], size=5
    )


@dataclass
class Released:
    cycle_id: int
    anna: User
    peers: list[User]


def release_for_anna(
    db: Session,
    settings: Settings,
    team: Team,
    *,
    peer_levels: tuple[int, ...] = (3, 3, 3),
    self_level: int = 5,
    peer_comment: str = "",
) -> Released:
    """Anna rated by herself, the lead and len(peer_levels) of the three peers asked; closed."""
    anna, *peers = team.members[:4]
    cycle = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=tuple(p.id for p in peers))])
    cycle_id = cycle.cycle.id
    rate(db, settings, cycle_id, anna, anna, self_level)
    rate(db, settings, cycle_id, anna, team.lead, 3, comment={CONTENT: "选题扎实"})
    for peer, level in zip(peers, peer_levels, strict=False):
        rate(db, settings, cycle_id, anna, peer, level, comment={CONTENT: peer_comment})
    review_service.close_cycle(db, team.lead, cycle_id)
    return Released(cycle_id, anna, peers)


def in_language(client: TestClient, lang: str) -> None:
    client.cookies.set("lang", lang)


def every_answer(settings: Settings, level: str, comment: str = "") -> dict[str, str]:
    fields = {}
    for competency in competencies(settings):
        fields[f"level.{competency}"] = level
        fields[f"comment.{competency}"] = comment
    return fields


def text_of(page: str) -> str:
    """The page's text with tags removed and entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# ── the whole cycle through the pages ───────────────────────────────────────────────────


def test_a_lead_runs_a_cycle_from_opening_to_released_results(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    anna, ning, ke, yi, sun = team.members
    lead = sign_in(team.lead)
    form = pages.get(f"/staff/teams/{team.id}/cycles/new")
    assert form.status_code == 200
    assert 'name="due_at"' in form.text

    opened = pages.post(
        f"/staff/teams/{team.id}/cycles",
        data={
            "csrf_token": lead.csrf,
            "name": "2026 下半年 360",
            "due_at": in_days(10).strftime("%Y-%m-%dT%H:%M"),
            "role_id": "specialist",
            "ratees": [str(anna.id)],
            "auto_peers": "1",
            "min_peer": "3",
            "min_report": "3",
        },
    )
    assert opened.status_code == 303
    match = re.fullmatch(r"/staff/cycles/(\d+)\?notice=cycle_opened", opened.headers["location"])
    assert match is not None
    cycle_id = int(match.group(1))
    cycle_page = pages.get(opened.headers["location"])
    assert cycle_page.status_code == 200
    # The other members were asked as peers; nobody has answered yet.
    for peer in (ning, ke, yi, sun):
        assert peer.name in cycle_page.text
    assert "Not submitted yet" in cycle_page.text

    # Everyone rates through the form (Sun leaves it), then the lead closes the cycle.
    levels = {anna: "5", team.lead: "3", ning: "3", ke: "2", yi: "3"}
    for rater, level in levels.items():
        signed = sign_in(rater)
        request = request_of(db, cycle_id, anna, rater)
        sent = pages.post(
            f"/staff/reviews/requests/{request.id}",
            data={
                "csrf_token": signed.csrf,
                "action": "submit",
                "confirm": "1",
                **every_answer(settings, level, "具体例子"),
            },
        )
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].endswith("?notice=submitted")

    lead = sign_in(team.lead)
    reminders = pages.get(f"/staff/cycles/{cycle_id}")
    pending = reminders.text.split('id="reminders"')[1].split("</section>")[0]
    assert sun.name in pending
    assert ning.name not in pending
    closed = pages.post(
        f"/staff/cycles/{cycle_id}/close", data={"csrf_token": lead.csrf, "confirm": "1"}
    )
    assert closed.status_code == 303
    assert closed.headers["location"] == f"/staff/cycles/{cycle_id}?notice=closed"

    released = pages.get(closed.headers["location"])
    assert released.status_code == 200
    assert "The cycle is closed and its results are released." in released.text
    assert f"/staff/cycles/{cycle_id}/results/{anna.id}" in released.text
    assert "Krippendorff" in released.text
    result = pages.get(f"/staff/cycles/{cycle_id}/results/{anna.id}")
    assert result.status_code == 200
    words = text_of(result.text)
    # Peers 3, 2, 3 → 2.7; manager 3; Others = (3 + 2.67) / 2 = 2.8; self 5.
    assert "2.7 n=3" in words
    assert "Blind spot" in words
    heat = pages.get(f"/staff/teams/{team.id}/heatmap")
    assert heat.status_code == 200
    assert anna.name in heat.text
    assert "<svg" in heat.text


def test_the_withheld_notice_explains_a_group_below_its_threshold(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    # Three peers asked, two answered: the peers are left out, and the page says why.
    released = release_for_anna(db, settings, team, peer_levels=(1, 1))
    sign_in(released.anna)
    page = pages.get(f"/staff/cycles/{released.cycle_id}/results/{released.anna.id}")

    assert page.status_code == 200
    words = text_of(page.text)
    assert "What is withheld, and why" in words
    assert "Fewer than 3 peers answered, so their ratings and comments are withheld" in words
    # Others is the manager alone (3.0): the two low peer ratings changed nothing shown.
    content_row = next(
        row for row in page.text.split("<tr>") if 'href="#competency-content_creation"' in row
    )
    assert "withheld" in text_of(content_row)
    assert "1.0" not in text_of(content_row)


def test_a_member_sees_their_own_result_with_blind_spots_explained(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    released = release_for_anna(db, settings, team, self_level=5, peer_levels=(3, 3, 3))
    sign_in(released.anna)

    mine = pages.get("/staff/reviews")
    assert f"/staff/cycles/{released.cycle_id}/results/{released.anna.id}" in mine.text
    page = pages.get(f"/staff/cycles/{released.cycle_id}/results/{released.anna.id}")
    words = text_of(page.text)
    assert "My 360 result" in words
    assert "You rate yourself 2.0 levels higher than others do (self 5.0, others 3.0)" in words

    in_language(pages, "zh")
    words = text_of(pages.get(f"/staff/cycles/{released.cycle_id}/results/{released.anna.id}").text)
    assert "你的自评比他人的评价高 2.0 级（自评 5.0，他评 3.0）" in words


def test_the_person_reviewed_reads_agreement_in_words_and_staff_see_the_statistic(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    # The lead gives 3, the peers 1, 5 and 5 on every competency: the raters disagree.
    released = release_for_anna(db, settings, team, peer_levels=(1, 5, 5))
    url = f"/staff/cycles/{released.cycle_id}/results/{released.anna.id}"

    sign_in(released.anna)
    section = pages.get(url).text.split('aria-labelledby="agreement-title"')[1]
    sentence, method = (text_of(p) for p in section.split("</section>")[0].split("</p>")[:2])
    assert "Your raters see you quite differently from one another" in sentence
    assert "α" not in sentence
    assert "Krippendorff's α = " in method

    sign_in(team.lead)
    section = pages.get(url).text.split('aria-labelledby="agreement-title"')[1]
    assert "Low agreement (α = " in text_of(section.split("</section>")[0])


def test_a_hidden_strength_is_explained_to_the_lead_in_the_third_person(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    released = release_for_anna(db, settings, team, self_level=2, peer_levels=(4, 4, 4))
    sign_in(team.lead)
    page = pages.get(f"/staff/cycles/{released.cycle_id}/results/{released.anna.id}")
    words = text_of(page.text)
    # Others = (manager 3 + peers 4) / 2 = 3.5, self 2.
    assert "Hidden strength" in words
    assert f"Others rate {released.anna.name} 1.5 levels higher than they rate themself" in words


# ── who may open what ───────────────────────────────────────────────────────────────────


@dataclass
class World:
    team: Team
    released: Released
    request_id: int  # 周宁's request to rate 李安娜

    def url(self, template: str) -> str:
        return template.format(
            team=self.team.id,
            cycle=self.released.cycle_id,
            anna=self.released.anna.id,
            request=self.request_id,
        )


@pytest.fixture
def world(db: Session, settings: Settings, team: Team) -> World:
    released = release_for_anna(db, settings, team)
    request = request_of(db, released.cycle_id, released.anna, released.peers[0])
    return World(team, released, request.id)


# Expected status per viewer: outsider member, lead of another team, HR, and the people
# involved (a teammate who is not part of the cycle, the peer 周宁, another peer 陈可).
PAGES: list[tuple[str, dict[str, int]]] = [
    ("/staff/teams", {"outsider": 200, "other_lead": 200, "hr": 200, "lead": 200}),
    (
        "/staff/teams/{team}",
        {"outsider": 404, "other_lead": 404, "hr": 200, "lead": 200, "sun": 200},
    ),
    (
        "/staff/teams/{team}/cycles/new",
        {"outsider": 403, "other_lead": 404, "hr": 200, "lead": 200, "sun": 403},
    ),
    (
        "/staff/cycles/{cycle}",
        {"outsider": 404, "other_lead": 404, "hr": 200, "lead": 200, "sun": 404, "ning": 200},
    ),
    (
        "/staff/reviews/requests/{request}",
        {"outsider": 404, "other_lead": 404, "hr": 404, "lead": 404, "ning": 200, "ke": 404},
    ),
    (
        "/staff/cycles/{cycle}/results/{anna}",
        {"outsider": 404, "other_lead": 404, "hr": 200, "lead": 200, "anna": 200, "ning": 404},
    ),
    (
        "/staff/teams/{team}/heatmap",
        {"outsider": 403, "other_lead": 404, "hr": 200, "lead": 200, "anna": 403},
    ),
    (
        "/staff/people/{anna}/trend",
        {"outsider": 404, "other_lead": 404, "hr": 200, "lead": 200, "anna": 200, "ning": 404},
    ),
    ("/staff/reviews", {"outsider": 200, "other_lead": 200, "hr": 200, "anna": 200}),
]


def viewers(world: World) -> Mapping[str, User]:
    team = world.team
    return {
        "outsider": team.outsider,
        "other_lead": team.other_lead,
        "hr": team.hr,
        "lead": team.lead,
        "anna": world.released.anna,
        "ning": world.released.peers[0],
        "ke": world.released.peers[1],
        "sun": team.members[4],
    }


@pytest.mark.parametrize(("template", "expected"), PAGES, ids=[p for p, _ in PAGES])
def test_every_page_answers_each_role_as_it_should(
    pages: TestClient, world: World, sign_in: SignIn, template: str, expected: dict[str, int]
) -> None:
    url = world.url(template)
    anonymous = pages.get(url)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")

    people = viewers(world)
    seen = {}
    for who in expected:
        sign_in(people[who])
        seen[who] = pages.get(url).status_code
    assert seen == expected


def test_an_admin_sees_what_hr_sees(pages: TestClient, world: World, sign_in: SignIn) -> None:
    sign_in(world.team.admin)
    for template in (
        "/staff/teams/{team}",
        "/staff/cycles/{cycle}",
        "/staff/cycles/{cycle}/results/{anna}",
    ):
        assert pages.get(world.url(template)).status_code == 200


def test_a_peer_asking_for_another_peers_form_by_id_gets_404_everywhere(
    pages: TestClient, world: World, sign_in: SignIn
) -> None:
    ke = sign_in(world.released.peers[1])
    url = world.url("/staff/reviews/requests/{request}")
    assert pages.get(url).status_code == 404
    assert pages.post(url, data={"csrf_token": ke.csrf, "action": "save"}).status_code == 404
    autosave = pages.post(f"{url}/autosave", data={"csrf_token": ke.csrf})
    assert autosave.status_code == 404
    assert "李安娜" not in autosave.text


def test_members_may_not_manage_teams_or_close_cycles(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    cycle_id = open_cycle(db, settings, team, [Spec(team.members[0].id)]).cycle.id
    member = sign_in(team.members[1])
    assert (
        pages.post(
            "/staff/teams", data={"csrf_token": member.csrf, "name": "X", "lead_id": "1"}
        ).status_code
        == 403
    )
    close = pages.post(
        f"/staff/cycles/{cycle_id}/close", data={"csrf_token": member.csrf, "confirm": "1"}
    )
    assert close.status_code == 403
    other = sign_in(team.other_lead)
    close = pages.post(
        f"/staff/cycles/{cycle_id}/close", data={"csrf_token": other.csrf, "confirm": "1"}
    )
    assert close.status_code == 404
    assert db.get_one(ReviewCycle, cycle_id).status == "open"


# ── CSRF ────────────────────────────────────────────────────────────────────────────────


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    anna = team.members[0]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id)]).cycle.id
    request = request_of(db, cycle_id, anna, anna)
    teams_before = db.scalar(select(func.count(TeamRow.id)))

    sign_in(team.hr)
    created = pages.post("/staff/teams", data={"name": "新团队", "lead_id": str(team.lead.id)})
    sign_in(team.lead)
    closed = pages.post(f"/staff/cycles/{cycle_id}/close", data={"confirm": "1"})
    sign_in(anna)
    submitted = pages.post(
        f"/staff/reviews/requests/{request.id}",
        data={"action": "submit", "confirm": "1", **every_answer(settings, "4")},
    )
    wrong = pages.post(
        f"/staff/reviews/requests/{request.id}/autosave",
        data={"csrf_token": "not-the-token", **every_answer(settings, "4")},
    )

    assert [r.status_code for r in (created, closed, submitted, wrong)] == [403] * 4
    db.expire_all()
    assert db.scalar(select(func.count(TeamRow.id))) == teams_before
    assert db.get_one(ReviewCycle, cycle_id).status == "open"
    assert db.get_one(ReviewRequest, request.id).submitted_at is None
    assert (
        db.scalar(select(func.count(ReviewAnswer.id)).where(ReviewAnswer.request_id == request.id))
        == 0
    )


# ── anonymity and escaping ──────────────────────────────────────────────────────────────


def test_no_result_page_names_a_peer_rater(
    pages: TestClient, world: World, sign_in: SignIn
) -> None:
    url = world.url("/staff/cycles/{cycle}/results/{anna}")
    for viewer in (world.released.anna, world.team.lead, world.team.hr, world.team.admin):
        sign_in(viewer)
        page = pages.get(url)
        assert page.status_code == 200
        for peer in world.released.peers:
            assert peer.name not in page.text
            assert peer.email not in page.text


def test_the_cycle_page_shows_a_rater_only_their_own_request(
    pages: TestClient, world: World, sign_in: SignIn
) -> None:
    ning, ke, yi = world.released.peers
    sign_in(ning)
    page = pages.get(world.url("/staff/cycles/{cycle}"))
    assert page.status_code == 200
    assert ning.name in page.text
    assert ke.name not in page.text
    assert yi.name not in page.text


def test_comments_are_shown_escaped_and_without_names(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    released = release_for_anna(db, settings, team, peer_comment=attack)
    sign_in(released.anna)
    page = pages.get(f"/staff/cycles/{released.cycle_id}/results/{released.anna.id}")

    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert html.escape(attack, quote=False) in page.text or "&lt;script&gt;alert" in page.text
    assert "选题扎实" in page.text  # the manager's comment, under "Manager"


def test_the_reminders_never_show_an_answer(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    anna, ning = team.members[:2]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id,))]).cycle.id
    rate(db, settings, cycle_id, anna, ning, 2, comment={CONTENT: "只有我知道的评语"})
    sign_in(team.lead)
    page = pages.get(f"/staff/cycles/{cycle_id}")

    assert "只有我知道的评语" not in page.text
    # Anna (self) and the lead (manager) are still to answer; Ning is not on that list.
    pending = page.text.split('id="reminders"')[1].split("</section>")[0]
    assert anna.name in pending
    assert ning.name not in pending
    assert "Fewer than 3 asked" in page.text


# ── the rating form ─────────────────────────────────────────────────────────────────────


def test_the_rating_form_offers_anchors_saves_and_submits_once(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    anna, ning = team.members[:2]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id,))]).cycle.id
    request = request_of(db, cycle_id, anna, ning)
    signed = sign_in(ning)
    url = f"/staff/reviews/requests/{request.id}"

    form = pages.get(url)
    assert form.status_code == 200
    ids = competencies(settings)
    assert form.text.count('type="radio"') == len(ids) * 6  # five anchors and "not observed"
    assert form.text.count("<fieldset") >= len(ids)
    assert 'aria-live="polite"' in form.text
    assert "reviews.js" in form.text

    # Save (no script): some answers, a comment in Chinese.
    partial = {f"level.{ids[0]}": "4", f"comment.{ids[0]}": "善于拆解选题", f"level.{ids[1]}": "na"}
    saved = pages.post(url, data={"csrf_token": signed.csrf, "action": "save", **partial})
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{url}?notice=saved"
    again = pages.get(saved.headers["location"])
    assert f'id="level-{ids[0]}-4" name="level.{ids[0]}" value="4" checked' in again.text
    assert f'id="level-{ids[1]}-na" name="level.{ids[1]}" value="na" checked' in again.text
    assert "善于拆解选题" in again.text

    # Submitting with competencies left: 422, each named, what was chosen kept.
    missing = pages.post(
        url, data={"csrf_token": signed.csrf, "action": "submit", "confirm": "1", **partial}
    )
    assert missing.status_code == 422
    assert f'href="#answers-{ids[2]}"' in missing.text
    assert 'Choose a level or "not observed".' in html.unescape(missing.text)
    assert f'id="level-{ids[0]}-4" name="level.{ids[0]}" value="4" checked' in missing.text
    assert "善于拆解选题" in missing.text

    # Everything answered but no confirmation: 422 on the checkbox, answers kept as drafts.
    everything = every_answer(settings, "3", "")
    unconfirmed = pages.post(
        url, data={"csrf_token": signed.csrf, "action": "submit", **everything}
    )
    assert unconfirmed.status_code == 422
    assert 'id="error-confirm"' in unconfirmed.text
    assert db.get_one(ReviewRequest, request.id).submitted_at is None

    done = pages.post(
        url, data={"csrf_token": signed.csrf, "action": "submit", "confirm": "1", **everything}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{url}?notice=submitted"
    read_only = pages.get(done.headers["location"])
    assert 'type="radio"' not in read_only.text
    assert "Your rating: 3 · Proficient" in html.unescape(read_only.text)

    # A later save is refused and changes nothing.
    late = pages.post(
        url, data={"csrf_token": signed.csrf, "action": "save", **every_answer(settings, "5")}
    )
    assert late.status_code == 409
    levels = db.scalars(
        select(ReviewAnswer.level).where(ReviewAnswer.request_id == request.id)
    ).all()
    assert set(levels) == {3}


def own_rating_autosave(
    db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> tuple[int, str, str]:
    """Anna's self-rating in a cycle just opened, Anna signed in: request id, CSRF token and
    the autosave URL."""
    anna = team.members[0]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id)]).cycle.id
    request = request_of(db, cycle_id, anna, anna)
    signed = sign_in(anna)
    return request.id, signed.csrf, f"/staff/reviews/requests/{request.id}/autosave"


def test_autosave_answers_json_in_the_page_language(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    request_id, csrf, url = own_rating_autosave(db, settings, team, sign_in)
    in_language(pages, "zh")
    ids = competencies(settings)

    saved = pages.post(
        url, data={"csrf_token": csrf, f"level.{ids[0]}": "2", f"comment.{ids[1]}": "草稿"}
    )
    assert saved.status_code == 200
    body = saved.json()
    assert body["status"].startswith("已自动保存")
    assert (body["answered"], body["total"]) == (1, len(ids))

    bad = pages.post(url, data={"csrf_token": csrf, f"level.{ids[0]}": "9"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == {f"answers.{ids[0]}": "请选择量表中的一个等级或“未观察到”。"}
    stored = {
        a.competency_id: a
        for a in db.scalars(select(ReviewAnswer).where(ReviewAnswer.request_id == request_id))
    }
    assert stored[ids[0]].level == 2
    assert stored[ids[1]].comment == "草稿"


def test_autosave_refused_before_the_route_runs_answers_the_script_in_json(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    request_id, csrf, url = own_rating_autosave(db, settings, team, sign_in)
    first = competencies(settings)[0]
    script = {"Accept": "application/json"}  # what reviews.js sends

    pasted = pages.post(
        url,
        data={"csrf_token": csrf, f"comment.{first}": "pasted\x00text"},
        headers=script,
    )
    assert pasted.status_code == 422
    detail = pasted.json()["detail"]
    assert detail["code"] == "nul_character"
    assert detail["field"] == f"comment.{first}"
    assert f"comment.{first}" in detail["message"]

    expired = pages.post(url, data={"csrf_token": "stale", f"level.{first}": "3"}, headers=script)
    assert expired.status_code == 403
    assert "reload" in expired.json()["detail"]["message"]

    assert db.scalars(select(ReviewAnswer).where(ReviewAnswer.request_id == request_id)).all() == []
    # A browser navigating there still gets a page.
    page = pages.post(url, data={"csrf_token": "stale"}, headers={"Accept": "text/html"})
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")


# ── teams, cycles and nominations ───────────────────────────────────────────────────────


def test_hr_creates_a_team_adds_and_removes_a_member(
    pages: TestClient, db: Session, team: Team, make_user: MakeUser, sign_in: SignIn
) -> None:
    hr = sign_in(team.hr)
    newcomer = make_user(Role.MEMBER, name="钱七")
    created = pages.post(
        "/staff/teams",
        data={"csrf_token": hr.csrf, "name": "直播组", "lead_id": str(team.other_lead.id)},
    )
    assert created.status_code == 303
    team_url = created.headers["location"].split("?")[0]
    added = pages.post(
        f"{team_url}/members",
        data={"csrf_token": hr.csrf, "user_id": str(newcomer.id), "role_id": "assistant"},
    )
    assert added.status_code == 303
    page = pages.get(team_url)
    assert newcomer.name in page.text
    assert "New-media operations assistant" in page.text
    removed = pages.post(f"{team_url}/members/{newcomer.id}/remove", data={"csrf_token": hr.csrf})
    assert removed.status_code == 303
    assert newcomer.name not in text_of(pages.get(team_url).text).split("Add a member")[0]


def test_a_duplicate_team_name_comes_back_with_the_message_and_what_was_typed(
    pages: TestClient, team: Team, sign_in: SignIn
) -> None:
    hr = sign_in(team.hr)
    in_language(pages, "zh")
    again = pages.post(
        "/staff/teams",
        data={"csrf_token": hr.csrf, "name": "内容运营组", "lead_id": str(team.lead.id)},
    )
    assert again.status_code == 422
    assert "已有同名团队，请换一个名称。" in again.text
    assert 'value="内容运营组"' in again.text
    assert f'<option value="{team.lead.id}" selected>' in again.text


def test_opening_a_cycle_with_a_past_due_date_says_so_and_keeps_the_form(
    pages: TestClient, team: Team, sign_in: SignIn
) -> None:
    lead = sign_in(team.lead)
    sent = pages.post(
        f"/staff/teams/{team.id}/cycles",
        data={
            "csrf_token": lead.csrf,
            "name": "上半年评估",
            "due_at": "2020-01-01T10:00",
            "role_id": "specialist",
            "ratees": [str(team.members[0].id)],
            "min_peer": "1",
            "min_report": "3",
        },
    )
    assert sent.status_code == 422
    words = text_of(sent.text)
    assert "The due date must be in the future." in words
    assert "Give peers and direct reports a whole number from 2 to 20" in words
    assert 'value="上半年评估"' in sent.text
    assert f'value="{team.members[0].id}" checked' in sent.text
    assert 'value="2020-01-01T10:00"' in sent.text


def test_a_member_nominates_a_peer_and_the_lead_approves(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    anna, ning, sun = team.members[0], team.members[1], team.members[4]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id,))]).cycle.id
    signed = sign_in(anna)
    mine = pages.get("/staff/reviews")
    assert f'action="/staff/cycles/{cycle_id}/nominations"' in mine.text
    assert f'<option value="{sun.id}">' in mine.text
    assert f'<option value="{ning.id}">' not in mine.text  # already asked

    sent = pages.post(
        f"/staff/cycles/{cycle_id}/nominations",
        data={"csrf_token": signed.csrf, "rater_id": str(sun.id), "back": "reviews"},
    )
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/staff/reviews?notice=nominated")
    twice = pages.post(
        f"/staff/cycles/{cycle_id}/nominations",
        data={"csrf_token": signed.csrf, "rater_id": str(sun.id), "back": "reviews"},
    )
    assert twice.status_code == 422
    assert "nobody is asked twice for the same person" in twice.text

    lead = sign_in(team.lead)
    page = pages.get(f"/staff/cycles/{cycle_id}")
    assert "Nominations awaiting your decision" in page.text
    nomination = request_of(db, cycle_id, anna, sun)
    decided = pages.post(
        f"/staff/cycles/{cycle_id}/nominations/{nomination.id}/decide",
        data={"csrf_token": lead.csrf, "decision": "approve"},
    )
    assert decided.status_code == 303
    db.expire_all()
    assert db.get_one(ReviewRequest, nomination.id).status == "approved"
    sign_in(sun)
    assert f"/staff/reviews/requests/{nomination.id}" in pages.get("/staff/reviews").text


def test_the_lead_adds_a_rater_and_a_wrong_choice_is_explained(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    anna, ning = team.members[:2]
    cycle_id = open_cycle(db, settings, team, [Spec(anna.id, peer_ids=(ning.id,))]).cycle.id
    lead = sign_in(team.lead)
    twice = pages.post(
        f"/staff/cycles/{cycle_id}/raters",
        data={
            "csrf_token": lead.csrf,
            "ratee_id": str(anna.id),
            "rater_id": str(ning.id),
            "group": "peer",
        },
    )
    assert twice.status_code == 422
    assert f'id="error-add-{anna.id}-rater_id"' in twice.text
    added = pages.post(
        f"/staff/cycles/{cycle_id}/raters",
        data={
            "csrf_token": lead.csrf,
            "ratee_id": str(anna.id),
            "rater_id": str(team.members[2].id),
            "group": "report",
        },
    )
    assert added.status_code == 303
    assert request_of(db, cycle_id, anna, team.members[2]).group == "report"


def test_closing_needs_the_confirmation(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    cycle_id = open_cycle(db, settings, team, [Spec(team.members[0].id)]).cycle.id
    lead = sign_in(team.lead)
    sent = pages.post(f"/staff/cycles/{cycle_id}/close", data={"csrf_token": lead.csrf})
    assert sent.status_code == 422
    assert 'id="error-close-confirm"' in sent.text
    assert db.get_one(ReviewCycle, cycle_id).status == "open"


def test_low_agreement_is_flagged_per_cycle_and_competency(
    pages: TestClient, db: Session, settings: Settings, team: Team, sign_in: SignIn
) -> None:
    released = release_for_anna(db, settings, team, peer_levels=(1, 5, 2))
    sign_in(team.hr)
    page = pages.get(f"/staff/cycles/{released.cycle_id}")
    agreement = page.text.split('id="agreement"')[1].split("</section>")[0]
    assert "Low agreement" in agreement or "not enough data" in agreement
    assert agreement.count("<tr") == 1 + 1 + len(competencies(settings))


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ["我的 360 评估", "团队热力图", "能力趋势"]),
        ("en", ["My 360 reviews", "Team heat map", "Levels over time"]),
    ],
)
def test_pages_speak_both_languages(
    pages: TestClient, world: World, sign_in: SignIn, lang: str, words: list[str]
) -> None:
    sign_in(world.team.lead)
    in_language(pages, lang)
    mine = pages.get("/staff/reviews")
    heat = pages.get(world.url("/staff/teams/{team}/heatmap"))
    trend = pages.get(world.url("/staff/people/{anna}/trend"))
    assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in mine.text
    for page, word in zip((mine, heat, trend), words, strict=True):
        assert page.status_code == 200
        assert word in page.text
        assert page.headers["cache-control"] == "no-store"


def test_the_trend_shows_each_point_with_its_rubric_version(
    pages: TestClient, world: World, sign_in: SignIn
) -> None:
    sign_in(world.released.anna)
    page = pages.get(world.url("/staff/people/{anna}/trend"))
    version = page.text.split('title="')[1].split('"')[0]
    assert re.fullmatch(r"[0-9a-f]{64}", version)
    assert page.text.count(f'<code title="{version}">{version[:8]}</code>') == 9
    assert page.text.count("<svg") == 9


def test_changing_raters_after_the_cycle_closed_is_explained_on_the_page(
    pages: TestClient, world: World, sign_in: SignIn
) -> None:
    lead = sign_in(world.team.lead)
    sent = pages.post(
        world.url("/staff/cycles/{cycle}/raters"),
        data={
            "csrf_token": lead.csrf,
            "ratee_id": str(world.released.anna.id),
            "rater_id": str(world.team.members[4].id),
            "group": "peer",
        },
    )
    assert sent.status_code == 409
    assert "This review cycle is closed; its results are released." in sent.text
    assert 'class="flash flash-error"' in sent.text


@pytest.mark.parametrize(
    "template",
    [
        "/staff/cycles/99999999999",
        "/staff/teams/99999999999",
        "/staff/reviews/requests/99999999999",
        "/staff/people/99999999999/trend",
        "/staff/cycles/{cycle}/results/99999999999",
        "/staff/teams/{team}/heatmap?cycle_id=99999999999",
    ],
)
def test_an_id_no_row_can_have_is_not_found(
    pages: TestClient, world: World, sign_in: SignIn, template: str
) -> None:
    sign_in(world.team.hr)
    assert pages.get(world.url(template)).status_code == 404
