"""The candidate's form in real Chromium against a real server: answer, leave, return, submit.

Runs `uvicorn` in a subprocess on a migrated temporary SQLite database and drives Debian's
Chromium through Playwright (Playwright's own browser download is not used).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.models import Role
from app.assessments import service as assessment_service
from app.assessments.models import Answer, Assessment, AssessmentResult
from app.assessments.states import Status
from app.db import utcnow
from tests.assessments.test_candidate_service import make_invited_assessment
from tests.browser.server import Server, chromium, running_server

PASSWORD = "browser-test-password"

CHINESE = "标题：熬夜党的20分钟急救面膜"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("browser")) as running:
        yield running


def answer_every_question_on(page: Page) -> None:
    """Tick the first option of every choice question not answered yet."""
    for fieldset in page.locator("fieldset.item").all():
        inputs = fieldset.locator("input")
        if inputs.count() and not any(box.is_checked() for box in inputs.all()):
            inputs.first.check()


def invite(server: Server, time_limit_minutes: int = 30) -> tuple[int, str]:
    with Session(server.engine) as session:
        assessment, raw = make_invited_assessment(
            session, server.settings, time_limit_minutes=time_limit_minutes
        )
        session.commit()
        return assessment.id, f"{server.base_url}/take/{raw}"


def start(page: Page, link: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Assessment for the role")
    page.get_by_label("I have read the statement above").check()
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(r"/section/1$"))


def test_a_candidate_answers_leaves_returns_and_submits_in_chromium(
    browser: Browser, server: Server
) -> None:
    assessment_id, link = invite(server)
    context = browser.new_context(locale="en-GB")

    # Open the invitation, consent and start; the countdown runs.
    page = context.new_page()
    start(page, link)
    countdown = page.locator(".countdown-value")
    expect(countdown).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(countdown).not_to_have_text(countdown.inner_text())

    # Answer part of the first section; autosave alone must keep it.
    questions = page.locator("fieldset.item")
    ticked = []
    for index in (0, 1):
        option = questions.nth(index).locator("input").nth(1)
        option.check()
        ticked.append(option.get_attribute("id"))
    expect(page.locator("#save-status")).to_contain_text("Saved")
    page.close()

    # Come back through the link: the answers are there.
    page = context.new_page()
    page.goto(link)
    page.get_by_role("link", name="Continue where you left off").click()
    expect(page).to_have_url(re.compile(r"/section/1$"))
    for input_id in ticked:
        expect(page.locator(f'[id="{input_id}"]')).to_be_checked()

    # Finish the choice sections with Next, then type Chinese into a work sample.
    answer_every_question_on(page)
    page.get_by_role("button", name="Next section").click()
    expect(page).to_have_url(re.compile(r"/section/2$"))
    answer_every_question_on(page)
    page.get_by_role("button", name="Next section").click()
    expect(page).to_have_url(re.compile(r"/section/3$"))
    page.get_by_label("Your answer").first.click()
    page.keyboard.type(CHINESE)
    expect(page.locator(".counter").first).to_contain_text(f"{len(CHINESE)} of")
    expect(page.locator("#save-status")).to_contain_text("Saved")
    page.close()

    page = context.new_page()
    page.goto(link)
    page.get_by_role("link", name="Continue where you left off").click()
    expect(page).to_have_url(re.compile(r"/section/3$"))
    expect(page.get_by_label("Your answer").first).to_have_value(CHINESE)

    # Review, confirm, submit.
    page.get_by_role("button", name="Review and submit").click()
    expect(page).to_have_url(re.compile(r"/review$"))
    expect(page.locator(".summary")).to_contain_text("22 of 23 questions answered")
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.locator(".field-error")).to_contain_text("tick the box to confirm")
    page.get_by_label("I have finished and want to submit my answers").check()
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you — your answers were received"
    )
    context.close()

    with Session(server.engine) as session:
        stored = session.get_one(Assessment, assessment_id)
        assert stored.status == Status.SUBMITTED  # the work sample waits for raters
        result = session.get(AssessmentResult, assessment_id)
        assert result is not None
        assert not result.final
        texts = session.scalars(
            select(Answer.text).where(
                Answer.assessment_id == assessment_id, Answer.text.is_not(None)
            )
        ).all()
        assert CHINESE in texts

    # A rater rates the work samples; HR signs in and reads the scored result.
    with Session(server.engine) as session, session.begin():
        hr = account_service.create(
            session, email="hr@browser.test", name="HR Browser", role=Role.HR, password=PASSWORD
        )
        rater = account_service.create(
            session, email="rater@browser.test", name="Rater", role=Role.LEAD, password=PASSWORD
        )
        assessment_service.assign_rater(session, hr, assessment_id, rater.id)
        for entry in assessment_service.rating_queue(session, rater):
            task = assessment_service.get_rating_task(session, rater, assessment_id, entry.item_id)
            top = {c.id: c.levels[-1].id for c in task.criteria}
            assessment_service.save_rating(session, rater, assessment_id, entry.item_id, top)
    hr_page = browser.new_context(locale="en-GB").new_page()
    hr_page.goto(f"{server.base_url}/login")
    hr_page.get_by_label("Email").fill("hr@browser.test")
    hr_page.get_by_label("Password").fill(PASSWORD)
    hr_page.get_by_role("button", name="Sign in").click()
    hr_page.goto(f"{server.base_url}/staff/assessments/{assessment_id}/result")
    expect(hr_page.get_by_role("heading", level=1)).to_be_visible()
    expect(hr_page.locator("main")).to_contain_text("Fit")
    expect(hr_page.locator("main")).not_to_contain_text("provisional")
    with Session(server.engine) as session:
        assert session.get_one(Assessment, assessment_id).status == Status.SCORED


def test_when_the_countdown_ends_the_page_saves_and_the_server_submits(
    browser: Browser, server: Server
) -> None:
    assessment_id, link = invite(server)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    start(page, link)
    # Bring the deadline close instead of waiting out a real time limit.
    with Session(server.engine) as session:
        session.get_one(Assessment, assessment_id).deadline_at = utcnow() + timedelta(seconds=3)
        session.commit()
    page.reload()

    # An answer given just before the end is kept.
    question = page.locator("fieldset.item").first
    choice = question.locator("input").first
    choice.check()
    answered = {str(question.get_attribute("data-item")): [str(choice.get_attribute("value"))]}

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you — your answers were received", timeout=15_000
    )
    expect(page.locator(".confirmation")).to_contain_text("Time ran out at")
    context.close()
    with Session(server.engine) as session:
        assert session.get_one(Assessment, assessment_id).status == Status.SCORED
        rows = session.execute(
            select(Answer.item_id, Answer.selected).where(Answer.assessment_id == assessment_id)
        ).all()
        assert {item: chosen for item, chosen in rows if chosen} == answered
