"""The feedback report HR sends a candidate: plain words, nothing about anyone else, no scores."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.assessments import service as assessment_service
from app.assessments.models import Assessment
from app.assessments.views import ResultView
from app.config import Settings
from app.errors import Conflict, Forbidden
from app.reports import service as report_service
from app.reports.candidate import feedback_document
from app.reports.documents import Document
from app.rubrics import service as rubric_service
from app.rubrics.spec import Rubric
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

WEAK = ["content_creation", "data_analysis"]


@dataclass
class Feedback:
    document: Document
    result: ResultView
    rubric: Rubric
    other_candidate: str
    rater: str
    pdf: Rendered


def enable(db: Session, assessment: Assessment) -> None:
    assessment.candidate_feedback = True
    db.flush()


@pytest.fixture(scope="module")
def zh(migrated_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Feedback:
    settings = make_settings(tmp_path_factory.mktemp("settings"))
    with rolled_back(migrated_engine) as session:
        hr = make_staff(session, Role.HR, "陈静评分")
        other = scored_assessment(session, hr, settings, name="李四另一位")
        assessment = scored_assessment(session, hr, settings, name="王小明", weak=WEAK)
        enable(session, assessment)
        document = report_service.feedback_report(session, hr, assessment.id, "zh")
        result = assessment_service.get_result_view(session, hr, assessment.id)
        rubric = rubric_service.get_version(session, result.rubric_version)
        assert other.id != assessment.id
    return Feedback(document, result, rubric, "李四另一位", hr.name, rendered(document))


def test_chinese_feedback_text_title_and_language(zh: Feedback) -> None:
    reader = zh.pdf.reader
    assert reader.metadata is not None
    assert reader.metadata.title == "测评反馈：王小明"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    for expected in ("测评反馈：王小明", "你的优势", "发展方向", "新媒体运营助理"):
        assert flat(expected) in zh.pdf.flat
    # Addressed to the candidate: the footer says so instead of "confidential".
    assert "仅供收件人本人阅读" in zh.pdf.page_text(1)
    assert "保密文件" not in zh.pdf.text
    zh.pdf.warnings.check()
    assert zh.pdf.pdf == zh.pdf.again
    assert zh.pdf.spy.calls == []


def test_development_areas_are_the_weak_competencies_in_plain_words(zh: Feedback) -> None:
    index = zh.rubric.competency_index()
    areas = flat(zh.pdf.text.split("发展方向", 1)[1])
    strengths = flat(zh.pdf.text.split("你的优势", 1)[1].split("发展方向", 1)[0])
    for competency in WEAK:
        assert flat(index[competency].name["zh"]) in areas
        assert flat(index[competency].name["zh"]) not in strengths
        # What the next level up looks like, in the rubric's own behavioural words.
        assert flat(index[competency].anchors[2]["zh"])[:25] in areas
    strong = next(c for c in zh.result.competencies if c.id not in WEAK and c.anchor)
    assert strong.anchor is not None
    assert flat(strong.anchor["zh"])[:25] in zh.pdf.flat


def test_no_scores_fit_recommendation_raters_notes_or_other_candidates(zh: Feedback) -> None:
    text = zh.pdf.flat
    result = zh.result
    assert result.recommendation is not None
    for absent in (
        "岗位匹配度",
        "推荐结论",
        flat(result.recommendation.label["zh"]),
        "评分人",
        zh.rater,
        NOTE,
        zh.other_candidate,
        *(flat(h) for h in HOSTILE),
    ):
        assert absent not in text, absent
    # No level, fit or score figure: no decimal number anywhere in the document.
    assert re.search(r"\d\.\d", zh.pdf.text) is None


def test_english_feedback(zh: Feedback) -> None:
    html = report_service.preview(feedback_document(zh.result, zh.rubric, "en"))
    text = text_of(html)
    assert "<title>Assessment feedback for 王小明</title>" in html
    assert flat("Your strengths") in text
    assert flat("Where to grow") in text
    assert "Fit" not in text
    assert "Recommendation" not in text


def test_refused_unless_enabled_for_the_assessment(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    assessment = scored_assessment(db, hr, settings)

    with pytest.raises(Conflict, match="not enabled"):
        report_service.feedback_report(db, hr, assessment.id, "zh")
    enable(db, assessment)
    assert report_service.feedback_report(db, hr, assessment.id, "zh").title


def test_refused_while_the_result_is_provisional(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    assessment = scored_assessment(db, hr, settings, rate_samples=False)
    enable(db, assessment)

    with pytest.raises(Conflict, match="provisional"):
        report_service.feedback_report(db, hr, assessment.id, "zh")


def test_only_hr_and_admins_make_feedback(
    db: Session, settings: Settings, make_user: MakeUser
) -> None:
    hr = make_user(Role.HR)
    assessment = scored_assessment(db, hr, settings)
    enable(db, assessment)
    for role in (Role.MEMBER, Role.LEAD):
        with pytest.raises(Forbidden):
            report_service.feedback_report(db, make_user(role), assessment.id, "zh")
    assert report_service.feedback_report(db, make_user(Role.ADMIN), assessment.id, "en")
