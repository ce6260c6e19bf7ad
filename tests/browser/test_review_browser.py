"""A member rates a peer through the 360 rating form in real Chromium: signs in, chooses
anchors, types a Chinese comment, sees it saved, submits with the confirmation, sees it
read-only. Runs against a real server (see `server.py`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.config import Settings
from app.db import utcnow
from app.reviews import service as review_service
from app.reviews.models import ReviewAnswer, ReviewRatee, ReviewRequest
from tests.browser.server import Server, chromium, running_server

PASSWORD = "a long browser test password"
COMMENT = "选题很有洞察力，数据复盘也做得细致。"
CONTENT = "content_creation"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    app = "tests.browser.review_app:create_app"
    with running_server(tmp_path_factory.mktemp("reviews"), app) as running:
        yield running


@dataclass
class Cast:
    request_id: int
    ratee_name: str
    rater_email: str


def person(session: Session, role: Role, email: str, name: str) -> User:
    return account_service.create(session, email=email, name=name, role=role, password=PASSWORD)


def open_cycle(server: Server, settings: Settings) -> Cast:
    """A team whose lead opened a cycle for 李安娜 with 周宁 asked as a peer."""
    with Session(server.engine) as session:
        hr = person(session, Role.HR, "hr@example.com", "Hana HR")
        lead = person(session, Role.LEAD, "lead@example.com", "王主管")
        anna = person(session, Role.MEMBER, "anna@example.com", "李安娜")
        ning = person(session, Role.MEMBER, "ning@example.com", "周宁")
        team = review_service.create_team(session, hr, "内容运营组", lead.id, settings)
        for member in (anna, ning):
            review_service.add_member(session, hr, team.id, member.id, "specialist", settings)
        cycle = review_service.open_cycle(
            session,
            lead,
            team.id,
            settings,
            name="2026 下半年 360",
            due_at=utcnow() + timedelta(days=30),
            ratees=[review_service.RateeSpec(anna.id, peer_ids=(ning.id,))],
        )
        request_id = session.scalars(
            select(ReviewRequest.id)
            .join(ReviewRatee, ReviewRatee.id == ReviewRequest.ratee_id)
            .where(ReviewRatee.cycle_id == cycle.cycle.id, ReviewRequest.rater_id == ning.id)
        ).one()
        session.commit()
        return Cast(request_id, anna.name, ning.email)


def sign_in(page: Page, server: Server, email: str) -> None:
    page.goto(f"{server.base_url}/login?next=/staff/reviews")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/staff/reviews$"))


def test_a_member_rates_a_peer_through_the_web_form(browser: Browser, server: Server) -> None:
    cast = open_cycle(server, server.settings)
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, server, cast.rater_email)

    expect(page.get_by_role("heading", level=1)).to_have_text("My 360 reviews")
    page.get_by_role("link", name=f"Start · {cast.ratee_name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rate {cast.ratee_name}")

    # One competency by keyboard, the rest by pointer; one "not observed".
    competencies = page.locator("fieldset.competency")
    count = competencies.count()
    assert count == 9
    first = competencies.first
    first.get_by_role("radio").first.focus()
    page.keyboard.press("ArrowDown")  # level 1 → level 2: arrows move within the group
    page.keyboard.press("ArrowDown")
    expect(first.get_by_role("radio").nth(2)).to_be_checked()
    for index in range(1, count - 1):
        competencies.nth(index).get_by_role("radio", name=re.compile(r"^4 · Advanced")).check()
    competencies.nth(count - 1).get_by_role("radio", name=re.compile("^Not observed")).check()
    comment = page.locator(f"#comment-{CONTENT}")
    comment.click()
    page.keyboard.type(COMMENT)

    status = page.locator("#save-status")
    expect(status).to_contain_text("Saved automatically")
    expect(page.locator("#answered-count")).to_have_text(str(count))

    # Autosave alone kept everything: it is there after a reload.
    page.reload()
    expect(page.locator(f"#comment-{CONTENT}")).to_have_value(COMMENT)
    expect(competencies.first.get_by_role("radio").nth(2)).to_be_checked()

    # Submitting needs the confirmation; then the ratings are read-only.
    page.get_by_role("button", name="Submit my ratings").click()
    expect(page.locator("#error-confirm")).to_contain_text("Tick the box to confirm")
    page.get_by_label("I have checked my ratings and want to submit them").check()
    page.get_by_role("button", name="Submit my ratings").click()
    expect(page.locator(".flash-success")).to_contain_text("Submitted, thank you")
    expect(page.get_by_role("radio")).to_have_count(0)
    expect(page.get_by_text("Your rating: 3 · Proficient")).to_be_visible()
    expect(page.get_by_text("Your rating: 4 · Advanced").first).to_be_visible()
    expect(page.get_by_text(COMMENT)).to_be_visible()
    context.close()

    with Session(server.engine) as session:
        request = session.get_one(ReviewRequest, cast.request_id)
        assert request.submitted_at is not None
        answers = {
            a.competency_id: a
            for a in session.scalars(
                select(ReviewAnswer).where(ReviewAnswer.request_id == cast.request_id)
            )
        }
        assert len(answers) == count
        assert answers[CONTENT].comment == COMMENT
        assert sorted(a.level for a in answers.values() if a.level is not None) == [3] + [4] * 7
        assert sum(a.level is None for a in answers.values()) == 1
