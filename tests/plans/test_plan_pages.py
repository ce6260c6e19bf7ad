"""Plan, team, catalogue and practice pages: both languages, forms without script, CSRF."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.config import Settings
from app.plans import practice
from app.plans import service as plan_service
from app.plans.models import DevelopmentPlan, PlanItem, PracticeSession
from app.rubrics import service as rubric_service
from tests.conftest import MakeUser, SignIn
from tests.plans.plan_helpers import all_at, make_review, make_team, plans_client

__all__ = ["plans_client"]


@pytest.fixture
def cast(db: Session, settings: Settings, make_user: MakeUser) -> dict[str, Any]:
    people = {
        "hr": make_user(Role.HR),
        "lead": make_user(Role.LEAD, name="李明 Li Ming"),
        "member": make_user(Role.MEMBER, name="周敏 Zhou Min"),
        "outsider": make_user(Role.MEMBER),
    }
    team = make_team(db, people["lead"], people["member"], name="内容组 Content")
    review = make_review(db, settings, team, people["member"], all_at(4, data_analysis=1))
    plan = plan_service.create_plan(db, people["lead"], "review", review.ratee.id)
    item = db.scalars(
        select(PlanItem).where(PlanItem.plan_id == plan.id).order_by(PlanItem.position)
    ).first()
    return {**people, "team": team, "review": review, "plan": plan, "item": item}


def in_language(client: TestClient, lang: str) -> None:
    client.cookies.set("lang", lang)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ["发展计划", "数据分析能力", "前后对比", "状态"]),
        ("en", ["Development plans", "Data analysis", "Before and after", "Status"]),
    ],
)
def test_the_member_sees_their_plan_in_both_languages(
    plans_client: TestClient, cast: dict[str, Any], sign_in: SignIn, lang: str, words: list[str]
) -> None:
    sign_in(cast["member"])
    in_language(plans_client, lang)
    listing = plans_client.get("/plans")
    page = plans_client.get(f"/plans/{cast['plan'].id}")

    assert listing.status_code == 200
    assert page.status_code == 200
    assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in page.text
    assert words[0] in listing.text
    for word in words[1:]:
        assert word in page.text
    assert page.headers["cache-control"] == "no-store"
    # The member updates status and evidence; the lead's forms are not there.
    assert f"/items/{cast['item'].id}/status" in page.text
    assert f"/items/{cast['item'].id}/remove" not in page.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_in_both_languages(
    plans_client: TestClient, cast: dict[str, Any], sign_in: SignIn, lang: str
) -> None:
    def pick(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    in_language(plans_client, lang)
    sign_in(cast["lead"])
    pages = {
        "/plans": pick("团队进度", "Team progress"),
        f"/plans/{cast['plan'].id}": pick("加入模块", "Add a module"),
        "/plans/new": pick("选择人员", "Choose the person"),
        f"/plans/new?user_id={cast['member'].id}": pick("已有计划", "exists"),
        f"/plans/teams/{cast['team'].id}": pick("仍低于目标", "Still below target"),
        "/catalogue?competency=data_analysis&level=1": pick("课程目录", "Training catalogue"),
    }
    for path, words in pages.items():
        page = plans_client.get(path)
        assert page.status_code == 200, path
        assert words in page.text, path
    sign_in(cast["hr"])
    needs = plans_client.get("/catalogue")
    assert pick("全组织的需求", "What the organisation needs") in needs.text
    csrf = sign_in(cast["member"]).csrf
    assert pick("可练习的能力", "Competencies to practise") in plans_client.get("/practice").text
    started = plans_client.post(
        "/practice", data={"competency": "data_analysis", "csrf_token": csrf}
    )
    assert started.status_code == 303
    session_page = plans_client.get(started.headers["location"])
    assert pick("提交答案", "Submit answer") in session_page.text


def test_the_lead_edits_through_forms_and_errors_keep_what_was_typed(
    plans_client: TestClient, cast: dict[str, Any], sign_in: SignIn
) -> None:
    csrf = sign_in(cast["lead"]).csrf
    in_language(plans_client, "en")
    plan, item = cast["plan"], cast["item"]

    bad = plans_client.post(
        f"/plans/{plan.id}/items/{item.id}",
        data={"csrf_token": csrf, "due_date": "31/12/2026", "note": "看三个案例"},
    )
    assert bad.status_code == 422
    assert "Give a date as YYYY-MM-DD" in bad.text
    assert 'value="31/12/2026"' in bad.text
    assert "看三个案例" in bad.text
    assert 'aria-invalid="true"' in bad.text

    saved = plans_client.post(
        f"/plans/{plan.id}/items/{item.id}",
        data={"csrf_token": csrf, "due_date": "2026-12-31", "note": "看三个案例"},
    )
    assert saved.status_code == 303
    page = plans_client.get(saved.headers["location"])
    assert "Saved." in page.text
    assert "2026-12-31" in page.text
    assert "看三个案例" in page.text

    duplicate = plans_client.post(
        f"/plans/{plan.id}/items", data={"csrf_token": csrf, "module_id": "nope"}
    )
    assert duplicate.status_code == 422
    assert "no module &#39;nope&#39; in this role&#39;s catalogue" in duplicate.text

    removed = plans_client.post(
        f"/plans/{plan.id}/items/{item.id}/remove", data={"csrf_token": csrf}
    )
    assert removed.status_code == 303
    assert f'id="item-{item.id}"' not in plans_client.get(f"/plans/{plan.id}").text


def test_the_member_updates_status_and_evidence_through_forms(
    db: Session, plans_client: TestClient, cast: dict[str, Any], sign_in: SignIn
) -> None:
    csrf = sign_in(cast["member"]).csrf
    in_language(plans_client, "zh")
    plan, item = cast["plan"], cast["item"]

    done = plans_client.post(
        f"/plans/{plan.id}/items/{item.id}/status", data={"csrf_token": csrf, "status": "done"}
    )
    assert done.status_code == 303
    empty = plans_client.post(
        f"/plans/{plan.id}/items/{item.id}/evidence", data={"csrf_token": csrf, "text": "  "}
    )
    assert empty.status_code == 422
    assert "学习记录" in empty.text
    noted = plans_client.post(
        f"/plans/{plan.id}/items/{item.id}/evidence",
        data={"csrf_token": csrf, "text": "<b>作业</b>已提交"},
    )
    page = plans_client.get(noted.headers["location"])
    assert "学习记录已添加。" in page.text
    assert "&lt;b&gt;作业&lt;/b&gt;已提交" in page.text
    db.refresh(item)
    assert item.status == "done"
    # Lead-only forms answer the member with 403.
    assert (
        plans_client.post(
            f"/plans/{plan.id}/items/{item.id}/remove", data={"csrf_token": csrf}
        ).status_code
        == 403
    )


def test_a_lead_makes_a_plan_through_the_form(
    db: Session,
    settings: Settings,
    plans_client: TestClient,
    cast: dict[str, Any],
    sign_in: SignIn,
) -> None:
    csrf = sign_in(cast["lead"]).csrf
    in_language(plans_client, "en")
    later = make_review(db, settings, cast["team"], cast["member"], all_at(4, communication=2))
    source = f"review:{later.ratee.id}"
    page = plans_client.get(f"/plans/new?user_id={cast['member'].id}")
    assert f'value="{source}"' in page.text
    # The result already planned from is not offered again.
    assert f'value="review:{cast["review"].ratee.id}"' not in page.text

    bad = plans_client.post(
        "/plans",
        data={
            "csrf_token": csrf,
            "user_id": cast["member"].id,
            "source": source,
            "hours_budget": "lots",
            "title": "第二季度",
        },
    )
    assert bad.status_code == 422
    assert "Give a number of hours" in bad.text
    assert 'value="lots"' in bad.text

    made = plans_client.post(
        "/plans",
        data={
            "csrf_token": csrf,
            "user_id": cast["member"].id,
            "source": source,
            "title": "第二季度",
        },
    )
    assert made.status_code == 303
    plan = db.scalar(select(DevelopmentPlan).where(DevelopmentPlan.title == "第二季度"))
    assert plan is not None
    assert made.headers["location"] == f"/plans/{plan.id}?notice=created"


def test_practice_shows_feedback_after_each_answer(
    db: Session, settings: Settings, plans_client: TestClient, cast: dict[str, Any], sign_in: SignIn
) -> None:
    csrf = sign_in(cast["member"]).csrf
    in_language(plans_client, "en")
    started = plans_client.post(
        "/practice", data={"csrf_token": csrf, "competency": "data_analysis"}
    )
    run = db.scalars(select(PracticeSession)).one()
    rubric = rubric_service.get_current(settings.rubrics_dir, "new_media_operator").rubric
    item = rubric.item_index()[run.item_ids[0]]
    question = plans_client.get(started.headers["location"])
    assert re.search(rf'name="item_id" value="{item.id}"', question.text)

    nothing = plans_client.post(
        f"/practice/{run.id}/answer", data={"csrf_token": csrf, "item_id": item.id}
    )
    assert nothing.status_code == 422
    assert "Choose an option." in nothing.text

    wrong = min(item.options, key=lambda o: o.points)
    answered = plans_client.post(
        f"/practice/{run.id}/answer",
        data={"csrf_token": csrf, "item_id": item.id, "selected": wrong.id},
    )
    assert answered.status_code == 303
    feedback = plans_client.get(answered.headers["location"])
    assert "Your last answer" in feedback.text
    assert item.explanation["en"].split("。")[0][:30] in feedback.text.replace("&#39;", "'")
    best = next(o for o in item.options if o.id in practice.best_options(item))
    assert best.text["en"].replace("'", "&#39;") in feedback.text

    history = plans_client.get("/practice")
    assert f"/practice/{run.id}" in history.text
    assert "1/" in history.text


def test_pages_out_of_reach_are_404(
    plans_client: TestClient, cast: dict[str, Any], sign_in: SignIn
) -> None:
    sign_in(cast["outsider"])
    assert plans_client.get(f"/plans/{cast['plan'].id}").status_code == 404
    assert plans_client.get(f"/plans/teams/{cast['team'].id}").status_code == 403
    assert plans_client.get("/plans/new").status_code == 403
    sign_in(cast["lead"])
    run = plans_client.get("/practice/1")
    assert run.status_code == 404


def test_forms_without_the_csrf_token_are_refused(
    db: Session, plans_client: TestClient, cast: dict[str, Any], sign_in: SignIn
) -> None:
    plan, item = cast["plan"], cast["item"]
    sign_in(cast["member"])
    posts = [
        (f"/plans/{plan.id}/items/{item.id}/status", {"status": "done"}),
        (f"/plans/{plan.id}/items/{item.id}/evidence", {"text": "x"}),
        ("/practice", {"competency": "data_analysis"}),
    ]
    for path, data in posts:
        assert plans_client.post(path, data=data).status_code == 403, path
        assert plans_client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403
    sign_in(cast["lead"])
    for path, data in [
        ("/plans", {"user_id": str(cast["member"].id), "source": "review:1"}),
        (f"/plans/{plan.id}/title", {"title": "x"}),
        (f"/plans/{plan.id}/items", {"module_id": "x"}),
        (f"/plans/{plan.id}/items/{item.id}", {"note": "x"}),
        (f"/plans/{plan.id}/items/{item.id}/remove", {}),
    ]:
        assert plans_client.post(path, data=data).status_code == 403, path
    db.refresh(item)
    assert (item.status, item.owner_note) == ("planned", "")
    assert db.scalars(select(PracticeSession)).first() is None
