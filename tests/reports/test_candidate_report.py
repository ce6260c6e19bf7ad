"""HR's candidate report: real CJK PDF, what it says, locked down, repeatable, small."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.assessments import service as assessment_service
from app.assessments.views import ResultView
from app.config import Settings
from app.errors import Forbidden, NotFound
from app.plans import gaps
from app.reports import candidate
from app.reports import service as report_service
from app.reports.documents import Document, pick
from app.rubrics import service as rubric_service
from app.rubrics.spec import Rubric
from tests.assessments.staff_helpers import make_assessment
from tests.conftest import MakeUser
from tests.reports.report_helpers import (
    HOSTILE,
    NOTE,
    Rendered,
    flat,
    make_settings,
    make_staff,
    rendered,
    rolled_back,
    scored_assessment,
    text_of,
)


@dataclass
class Report:
    document: Document
    result: ResultView
    rubric: Rubric
    pdf: Rendered


@pytest.fixture(scope="module")
def zh(migrated_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Report:
    """One final Chinese report with hostile answers, rendered once for the module's tests."""
    settings = make_settings(tmp_path_factory.mktemp("settings"))
    with rolled_back(migrated_engine) as session:
        hr = make_staff(session, Role.HR, "陈静")
        assessment = scored_assessment(
            session, hr, settings, name="张伟", weak=["content_creation"]
        )
        document = report_service.candidate_report(session, hr, assessment.id, "zh")
        result = assessment_service.get_result_view(session, hr, assessment.id)
        rubric = rubric_service.get_version(session, result.rubric_version)
    # Rendered after the rollback: an open SQLite transaction would lock out the other tests.
    return Report(document, result, rubric, rendered(document))


def test_chinese_text_title_and_language_come_back_out(zh: Report) -> None:
    reader = zh.pdf.reader
    assert reader.metadata is not None
    assert reader.metadata.title == "候选人测评报告：张伟"
    assert reader.metadata.author == "Yardstick"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    for expected in (
        "候选人测评报告：张伟",
        "新媒体运营助理",  # the role
        "结论摘要",
        "推荐理由",
        "内容创作能力",
        "数据分析能力",
        "受差距影响的职责领域",
        "作品题与评分人备注",
        "建议的发展计划",
        "附录：计分方法与计算过程",
        NOTE,
        zh.result.rubric_version,
    ):
        assert flat(expected) in zh.pdf.flat, expected


def test_no_missing_glyph_and_no_fetch_warning(zh: Report) -> None:
    zh.pdf.warnings.check()
    assert zh.pdf.warnings.messages == []


def test_hostile_answers_and_notes_are_printed_as_text_and_fetch_nothing(zh: Report) -> None:
    for hostile in HOSTILE:
        assert flat(hostile) in zh.pdf.flat
    assert zh.pdf.spy.calls == []
    assert zh.pdf.spy.opened == []
    assert zh.pdf.reader.attachments == {}
    assert "root:x:0:0" not in zh.pdf.text


def test_the_same_data_gives_the_same_bytes(zh: Report) -> None:
    assert zh.pdf.pdf == zh.pdf.again
    assert b"/CreationDate" not in zh.pdf.pdf


def test_two_to_four_pages_and_under_a_megabyte(
    zh: Report, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(
            f"\nChinese candidate report: {zh.pdf.pages} pages, {len(zh.pdf.pdf) / 1024:.0f} KiB, "
            f"rendered in {zh.pdf.seconds:.2f} s"
        )
    assert 2 <= zh.pdf.pages <= 4
    assert len(zh.pdf.pdf) < 1_000_000


def test_cover_then_numbered_pages_with_a_running_header(zh: Report) -> None:
    cover = zh.pdf.page_text(0)
    assert "第 1 页" not in cover
    assert "张伟" in cover
    assert "保密文件" in cover
    last = zh.pdf.pages
    second = zh.pdf.page_text(1)
    assert f"第 2 页，共 {last} 页" in second
    assert "候选人测评报告：张伟" in second


def test_summary_states_level_fit_recommendation_and_the_cap(zh: Report) -> None:
    result = zh.result
    assert result.recommendation is not None
    assert result.recommendation.capped
    cover = flat(zh.pdf.page_text(0))
    assert f"{result.overall_level:.1f}" in cover
    assert f"{result.fit:.2f}" in cover
    assert flat(result.recommendation.label["zh"]) in cover
    # The reason names the critical competency that capped the recommendation.
    assert flat(result.recommendation.reason["zh"]) in zh.pdf.flat


def test_each_competency_has_level_target_and_the_anchor_of_its_level(zh: Report) -> None:
    text = zh.pdf.flat
    for c in zh.result.competencies:
        assert c.level is not None
        assert c.anchor is not None
        row = flat(f"{pick(c.name, 'zh')}")
        assert row in text
        # The anchor that describes the observed level (long ones wrap; their start is there).
        assert flat(c.anchor["zh"])[:30] in text
    weak = next(c for c in zh.result.competencies if c.id == "content_creation")
    assert weak.gap is not None
    assert weak.gap > 0
    # A gap is target − level, positive, as the appendix defines it and the plan prints it.
    assert flat(f"差距 {weak.gap:.1f}") in text
    assert f"−{weak.gap:.1f}" not in text


def test_captions_say_what_the_chart_shapes_mean(zh: Report) -> None:
    # The charts carry no legend of their own; the captions under them explain the shapes.
    for caption in (
        "实线围成的区域为候选人的水平，虚线为岗位目标；刻度1–5。",
        "条形为水平，竖线为岗位目标；右侧数字为“水平/目标”。",
    ):
        assert flat(caption) in zh.pdf.flat
    for chart in (zh.document.context["radar"], zh.document.context["dimension_bars"]):
        assert "当前水平" in chart  # in the chart's text summary (<desc>) …
        assert ">当前水平</text>" not in chart  # … but not drawn as a legend


def test_development_plan_follows_the_gaps(zh: Report) -> None:
    role = zh.rubric.role(zh.result.assessment.role_id)
    plan = gaps.plan(zh.rubric, role, {c.id: c.level for c in zh.result.competencies})
    modules = {m.id: m for m in zh.rubric.modules}
    assert plan.steps, "the weak competency should need a plan"
    for step in plan.steps:
        for rung in step.rungs:
            assert flat(modules[rung.module].title["zh"]) in zh.pdf.flat


def test_appendix_traces_every_drawn_item(zh: Report) -> None:
    text = zh.pdf.flat
    for c in zh.result.competencies:
        for item in c.items:
            assert item.item_id in text


def test_english_report_speaks_english(zh: Report) -> None:
    document = candidate.candidate_document(zh.result, zh.rubric, "en")
    pdf = rendered(document)

    assert pdf.reader.metadata is not None
    assert pdf.reader.metadata.title == "Candidate assessment report: 张伟"
    assert pdf.reader.trailer["/Root"]["/Lang"] == "en"
    assert f"Page 2 of {pdf.pages}" in pdf.page_text(1)
    for expected in ("Summary", "Content creation", "Suggested development plan", "Appendix"):
        assert flat(expected) in pdf.flat
    pdf.warnings.check()


def test_provisional_marks_where_ratings_are_pending(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    assessment = scored_assessment(db, hr, settings, rate_samples=False)
    document = report_service.candidate_report(db, hr, assessment.id, "zh")
    text = text_of(report_service.preview(document))

    assert document.context["final"] is False
    assert "评分尚未全部完成" in text
    assert "道作品题尚待评分" in text
    assert "暂定" in text
    assert "待评分" in text  # the work samples themselves
    assert "尚无评分" in text


def test_a_competency_with_no_level_is_shown_as_not_assessed(zh: Report) -> None:
    first = zh.result.competencies[0]
    blank = dataclasses.replace(first, level=None, gap=None, anchor=None, anchor_level=None)
    result = dataclasses.replace(zh.result, competencies=(blank, *zh.result.competencies[1:]))
    text = text_of(report_service.preview(candidate.candidate_document(result, zh.rubric, "en")))

    assert "Notassessedbythisassessment." in text
    assert "None" not in text


def test_html_preview_is_the_same_document_with_user_text_escaped(zh: Report) -> None:
    html = report_service.preview(zh.document)

    assert html.startswith("<!doctype html>")
    assert '<html lang="zh-CN">' in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert '<img src="file:///etc/passwd">' not in html
    assert "<script>" not in html


def test_only_hr_and_admins_get_candidate_reports(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    assessment = scored_assessment(db, hr, settings)
    for role in (Role.MEMBER, Role.LEAD):
        with pytest.raises(Forbidden):
            report_service.candidate_report(db, make_user(role), assessment.id, "zh")
    assert report_service.candidate_report(db, make_user(Role.ADMIN), assessment.id, "en").title
    with pytest.raises(NotFound):
        report_service.candidate_report(db, hr, 999_999, "zh")
    invited, _ = make_assessment(db, hr, settings)
    with pytest.raises(NotFound, match="no result yet"):
        report_service.candidate_report(db, hr, invited.id, "zh")


def test_unknown_language_is_refused(zh: Report) -> None:
    with pytest.raises(ValueError, match="lang must be one of"):
        candidate.candidate_document(zh.result, zh.rubric, "fr")


def test_file_name_carries_id_and_name(zh: Report) -> None:
    assert zh.document.filename == f"candidate-report-{zh.result.assessment.id}-张伟"
