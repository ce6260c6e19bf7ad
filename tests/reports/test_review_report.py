"""The 360 review report: self against others, what anonymity withholds and why, comments."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.config import Settings
from app.errors import NotFound
from app.reports import charts
from app.reports import service as report_service
from app.reports.documents import Document
from app.reviews import service as review_service
from app.reviews.models import ReviewRatee
from tests.conftest import MakeUser
from tests.reports.report_helpers import (
    HOSTILE,
    HOSTILE_TEXT,
    Rendered,
    flat,
    make_settings,
    make_staff,
    released_review,
    rendered,
    rolled_back,
    text_of,
)
from tests.reviews.review_helpers import Team, competencies, make_team, open_cycle, rate

PEER_COMMENT = "同事的评语只有在同事组显示时才出现"


@dataclass
class Review:
    document: Document
    ratee: str
    lead: str
    peers: list[str]
    pdf: Rendered


def levels(default: int, **given: int) -> dict[str, int | None]:
    return {c: given.get(c, default) for c in competencies_of_role()}


def competencies_of_role() -> list[str]:
    return [
        "content_creation",
        "platform_operations",
        "data_analysis",
        "communication",
        "learning_innovation",
        "resilience_execution",
        "trend_insight",
        "user_psychology",
        "competitor_analysis",
    ]


@pytest.fixture(scope="module")
def withheld(migrated_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Review:
    """Two peers (three are needed): the peer group is withheld everywhere."""
    settings = make_settings(tmp_path_factory.mktemp("settings"))
    assert competencies(settings) == competencies_of_role()
    with rolled_back(migrated_engine) as session:

        def make_user(role: Role = Role.HR, *, name: str | None = None, **_: str) -> User:
            return make_staff(session, role, name or f"{role.value} 用户")

        team = make_team(
            session, settings, make_user, names=["赵敏", "钱程", "孙悦", "李雷", "周舟"]
        )
        review = released_review(
            session,
            settings,
            team,
            peers=(1, 2),
            self_levels=levels(3, content_creation=5, data_analysis=2),
            others_levels=levels(3),
            comment={"content_creation": HOSTILE_TEXT, "communication": PEER_COMMENT},
        )
        document = report_service.review_report(session, review.ratee, review.ratee_id, "zh")
        peers = [team.member(1).name, team.member(2).name]
    return Review(document, "赵敏", team.lead.name, peers, rendered(document))


def test_chinese_review_report_text_title_and_language(withheld: Review) -> None:
    reader = withheld.pdf.reader
    assert reader.metadata is not None
    assert reader.metadata.title == "360 度评估报告：赵敏"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    for expected in ("各项能力：他评与自评", "各组评分", "盲点与隐藏优势", "评语", "发展计划"):
        assert flat(expected) in withheld.pdf.flat
    withheld.pdf.warnings.check()
    assert withheld.pdf.warnings.messages == []
    assert withheld.pdf.pdf == withheld.pdf.again


def test_withheld_group_is_named_with_the_reason_and_its_comments_left_out(
    withheld: Review,
) -> None:
    text = withheld.pdf.flat
    assert flat("为保护匿名而不显示的评分") in text
    assert "同事" in text
    assert flat("作答的同事少于 3 人，为保护匿名，其评分和评语不予显示。") in text
    # The manager and both peers wrote the same comment: only the manager's is shown.
    assert text.count(flat(PEER_COMMENT)) == 1


def test_blind_spot_and_hidden_strength_are_explained(withheld: Review) -> None:
    text = withheld.pdf.flat
    assert flat("盲点：自评比他评高至少 1.0，他人看到的表现少于你的自我感受") in text
    assert flat("隐藏优势：他评比自评高至少 1.0，他人看到的比你以为的更多") in text
    assert flat("内容创作能力 自评 5.0，他评 3.0：自评高出 2.0") in text  # a blind spot
    assert flat("数据分析能力 自评 2.0，他评 3.0：他评高出 1.0") in text  # a hidden strength


def test_the_meaning_of_a_blind_spot_is_said_once_not_per_competency(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user)
    review = released_review(db, settings, team, peers=(1, 2, 3), self_levels=5)
    html = report_service.preview(
        report_service.review_report(db, review.ratee, review.ratee_id, "en")
    )
    text = text_of(html)

    # Others are 3 everywhere against a self-rating of 5: every competency is a blind spot.
    every = len(competencies(settings))
    assert text.count(flat("Self 5.0, others 3.0: self 2.0 higher")) == every
    assert text.count(flat("They see less of this than you do")) == 1
    assert text.count(flat("ask colleagues for concrete examples")) == 1


def test_too_few_raters_for_agreement_is_said_without_jargon(withheld: Review) -> None:
    text = withheld.pdf.flat
    assert flat("给你评分的他人太少，还无法判断他们的看法是否一致。") in text
    assert "可配对" not in text
    assert withheld.document.context["agreement"].count("α") == 0


def test_low_agreement_reads_plainly_with_alpha_only_in_the_method_note(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user)
    ratee = team.member(0)
    peers = [team.member(n) for n in (1, 2, 3)]
    # The manager and one peer rate high where the other two rate low, and the other way
    # round: the raters disagree on every competency.
    names = competencies(settings)
    one_way = {c: 5 if i % 2 else 1 for i, c in enumerate(names)}
    other_way = {c: 1 if i % 2 else 5 for i, c in enumerate(names)}
    spec = review_service.RateeSpec(ratee.id, peer_ids=tuple(p.id for p in peers))
    cycle_id = open_cycle(db, settings, team, [spec]).cycle.id
    rate(db, settings, cycle_id, ratee, ratee, 3)
    for rater, levels_given in zip(
        (team.lead, *peers), (one_way, other_way, one_way, other_way), strict=True
    ):
        rate(db, settings, cycle_id, ratee, rater, levels_given)
    review_service.close_cycle(db, team.lead, cycle_id)
    result = review_service.get_result(db, ratee, cycle_id, ratee.id)
    assert result.agreement.low
    assert result.agreement.interval is not None
    ratee_id = db.scalar(
        select(ReviewRatee.id).where(
            ReviewRatee.cycle_id == cycle_id, ReviewRatee.user_id == ratee.id
        )
    )
    assert ratee_id is not None

    for lang, plain in (
        ("en", "Your raters see you quite differently from one another"),
        ("zh", "评分人之间的看法差异较大，请结合具体事例解读这些等级。"),
    ):
        document = report_service.review_report(db, ratee, ratee_id, lang)
        assert "α" not in document.context["agreement"]
        text = text_of(report_service.preview(document))
        assert flat(plain) in text
        # The figure is there for a technical reader, once, in the method note.
        assert text.count("α") == 1
        assert f"α={result.agreement.interval:.2f}" in text
        assert f"{result.agreement.interval:.3f}" not in text


def test_no_rater_is_named(withheld: Review) -> None:
    for peer in withheld.peers:
        assert flat(peer) not in withheld.pdf.flat


def test_hostile_comment_is_printed_and_fetches_nothing(withheld: Review) -> None:
    for hostile in HOSTILE:
        assert flat(hostile) in withheld.pdf.flat
    assert withheld.pdf.spy.calls == []
    assert withheld.pdf.spy.opened == []
    assert withheld.pdf.reader.attachments == {}


def test_development_plan_is_suggested_from_the_others_levels(withheld: Review) -> None:
    text = withheld.pdf.flat
    # Others are 3 everywhere: the specialist's targets of 3 are met, so no gap needs a plan.
    assert flat("他评水平在各项能力上都已达到岗位目标。") in text


def test_shown_peers_count_in_others_and_their_comments_appear(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team = make_team(db, settings, make_user)
    review = released_review(
        db,
        settings,
        team,
        peers=(1, 2, 3),
        self_levels=3,
        others_levels=levels(2),
        comment={"communication": PEER_COMMENT},
    )
    html = report_service.preview(
        report_service.review_report(db, team.lead, review.ratee_id, "en")
    )
    text = text_of(html)

    assert "Withheld to keep raters anonymous" not in html
    assert flat(PEER_COMMENT) in text
    assert text.count(flat(PEER_COMMENT)) == 4  # manager and three peers wrote the same
    # Others 2 against targets of 3: the suggested plan lists modules.
    assert flat("No plan has been agreed yet.") in text


def test_the_ratee_their_lead_and_hr_may_see_it_nobody_else(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    team: Team = make_team(db, settings, make_user)
    review = released_review(db, settings, team, peers=(1, 2, 3))
    for viewer in (review.ratee, team.lead, team.hr, team.admin):
        assert report_service.review_report(db, viewer, review.ratee_id, "zh").title
    for viewer in (team.member(1), team.member(4), team.other_lead, team.outsider):
        with pytest.raises(NotFound):
            report_service.review_report(db, viewer, review.ratee_id, "zh")
    with pytest.raises(NotFound):
        report_service.review_report(db, team.hr, 999_999, "zh")


def test_paired_bars_draw_both_series_and_escape_labels() -> None:
    rows = [
        charts.PairRow("<script>x</script>", 3.5, 4.0, 3.0),
        charts.PairRow("数据分析", None, 2.0, 3.0),
    ]
    markup = charts.paired_bars(
        rows, scale_min=1, scale_max=5, first_label="他评", second_label="自评", lang="zh"
    )
    root = ET.fromstring(markup)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    firsts = [r for r in root.iterfind(".//svg:rect", ns) if r.get("class") == "first"]
    seconds = [r for r in root.iterfind(".//svg:rect", ns) if r.get("class") == "second"]

    assert len(firsts) == 1
    assert len(seconds) == 2
    assert "<script>" not in markup
    assert "&lt;script&gt;x&lt;/script&gt;: 他评 3.5, 自评 4.0, 目标 3.0" in markup
    assert "数据分析: 他评 —, 自评 2.0" in markup
    with pytest.raises(ValueError, match="outside the scale"):
        charts.paired_bars(
            [charts.PairRow("x", 6.0, None, None)],
            scale_min=1,
            scale_max=5,
            first_label="a",
            second_label="b",
        )
