"""The team report for its lead: heat map, team means against target, plan completion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.config import Settings
from app.errors import Forbidden, NotFound
from app.plans import service as plan_service
from app.plans.models import PlanItem
from app.reports import service as report_service
from app.reports.documents import Document
from tests.conftest import MakeUser
from tests.reports.report_helpers import (
    Rendered,
    flat,
    make_settings,
    make_staff,
    released_cycle,
    rendered,
    rolled_back,
    text_of,
)
from tests.reviews.review_helpers import make_team

NAMES = ["赵敏", "钱程", "孙悦", "李雷", "周舟"]
ON = date(2026, 11, 27)


@dataclass
class TeamReport:
    document: Document
    pdf: Rendered


@pytest.fixture(scope="module")
def zh(migrated_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> TeamReport:
    """Two members reviewed in one released cycle; one has a plan with one item done."""
    settings = make_settings(tmp_path_factory.mktemp("settings"))
    with rolled_back(migrated_engine) as session:

        def make_user(role: Role = Role.HR, *, name: str | None = None, **_: str) -> User:
            return make_staff(session, role, name or f"{role.value} 用户")

        team = make_team(session, settings, make_user, names=NAMES)
        reviews = released_cycle(
            session, settings, team, {0: (2, 3, 4), 1: (2, 3)}, others_levels=2
        )
        plan = plan_service.create_plan(session, team.lead, "review", reviews[0].ratee_id)
        first = session.query(PlanItem).filter_by(plan_id=plan.id).order_by(PlanItem.id).first()
        assert first is not None
        plan_service.set_status(session, team.member(0), plan.id, first.id, "done")
        document = report_service.team_report(session, team.lead, team.id, "zh", settings, ON)
    return TeamReport(document, rendered(document))


def test_chinese_team_report_text_title_and_language(zh: TeamReport) -> None:
    reader = zh.pdf.reader
    assert reader.metadata is not None
    assert reader.metadata.title == "团队能力报告：内容运营组"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    for expected in (
        "团队能力热力图",
        "团队平均水平与目标",
        "发展计划进度",
        "王主管",
        "2026-11-27",
    ):
        assert flat(expected) in zh.pdf.flat, expected
    zh.pdf.warnings.check()
    assert zh.pdf.warnings.messages == []
    assert zh.pdf.spy.calls == []
    assert zh.pdf.pdf == zh.pdf.again


def test_heat_map_has_every_reviewed_member_and_competency(zh: TeamReport) -> None:
    text = zh.pdf.flat
    for name in NAMES[:2]:
        assert name in text
    for competency in ("内容创作能力", "数据分析能力", "竞品动态分析"):
        assert competency in text
    # Members not reviewed in the cycle have no row in the heat map.
    assert zh.document.context["member_count"] == 2


def test_team_means_against_target(zh: TeamReport) -> None:
    averages = zh.document.context["averages"]
    assert len(averages) == 9
    content = averages[0]
    assert content.name == "内容创作能力"
    # Both members were rated 2 by the lead; the three peers of the first also gave 2.
    assert content.mean == pytest.approx(2.0)
    assert content.count == 2
    assert content.below == 2
    assert flat("2.0 / 3.0") in zh.pdf.flat
    # The bars are team means: the caption says so, and no legend calls them one's level.
    assert flat("条形为团队平均水平，竖线为岗位目标") in zh.pdf.flat
    assert ">当前水平</text>" not in zh.document.context["average_bars"]


def test_plan_completion_per_member(zh: TeamReport) -> None:
    rows = {row.name: row for row in zh.document.context["plans"]}
    assert rows["赵敏"].plans == 1
    assert rows["赵敏"].done == 1
    assert rows["赵敏"].items > 1
    assert rows["钱程"].plans == 0
    text = zh.pdf.flat
    assert flat(f"1 / {rows['赵敏'].items}") in text
    assert "还没有计划" in text  # the members without a plan


def test_a_team_without_released_cycles_or_plans_says_so(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user)
    html = report_service.preview(
        report_service.team_report(db, team.lead, team.id, "en", settings, ON)
    )
    text = text_of(html)

    assert flat("This team has no review cycle with released results yet.") in text
    assert flat("No plans yet.") in text
    assert "<svg" not in html


def test_only_the_teams_lead_and_hr_get_it(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user)
    for viewer in (team.lead, team.hr, team.admin):
        assert report_service.team_report(db, viewer, team.id, "zh", settings, ON).title
    with pytest.raises(Forbidden):
        report_service.team_report(db, team.member(0), team.id, "zh", settings, ON)
    with pytest.raises(NotFound):
        report_service.team_report(db, team.other_lead, team.id, "zh", settings, ON)
    with pytest.raises(NotFound):
        report_service.team_report(db, team.hr, 999_999, "zh", settings, ON)
