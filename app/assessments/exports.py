"""HR's candidate list as CSV (UTF-8 with BOM, for Excel) and XLSX, with the list's columns.

Cells that a spreadsheet would read as a formula (=, +, -, @, tab, CR) are neutralised:
prefixed with a quote in CSV and stored as plain text cells in XLSX.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

# openpyxl ships no type information (types-openpyxl is not a dependency yet).
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from app.assessments.views import STATUS_LABELS, AssessmentRow, t
from app.rubrics.spec import Text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | datetime | None


@dataclass(frozen=True)
class Column:
    header: Text
    value: Callable[[AssessmentRow, str], Cell]
    # Excel number format for numbers and dates.
    number_format: str | None = None


def _label(text: Text | None, language: str) -> str:
    if not text:
        return ""
    return text.get(language) or next(iter(text.values()))


def _result_state(row: AssessmentRow, language: str) -> str:
    if row.final is None:
        return ""
    return _label(t("最终", "final") if row.final else t("暂定", "provisional"), language)


def _utc(moment: datetime | None) -> datetime | None:
    # Spreadsheets have no time zones: write UTC wall time and say so in the header.
    return None if moment is None else moment.replace(tzinfo=None)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


COLUMNS: tuple[Column, ...] = (
    Column(t("测评编号", "Assessment"), lambda r, _: r.id),
    Column(t("候选人", "Candidate"), lambda r, _: r.candidate_name),
    Column(t("邮箱", "Email"), lambda r, _: r.candidate_email),
    Column(t("岗位", "Role"), lambda r, lang: _label(r.role_name, lang)),
    Column(t("状态", "Status"), lambda r, lang: _label(STATUS_LABELS.get(r.status), lang)),
    Column(t("总体等级", "Overall level"), lambda r, _: _rounded(r.overall_level, 1), "0.0"),
    Column(t("匹配度", "Fit"), lambda r, _: _rounded(r.fit, 2), "0.00"),
    Column(t("推荐", "Recommendation"), lambda r, lang: _label(r.recommendation_label, lang)),
    Column(t("结果", "Result"), _result_state),
    Column(
        t("创建时间 (UTC)", "Created (UTC)"),
        lambda r, _: _utc(r.created_at),
        "yyyy-mm-dd hh:mm",
    ),
    Column(
        t("提交时间 (UTC)", "Submitted (UTC)"),
        lambda r, _: _utc(r.submitted_at),
        "yyyy-mm-dd hh:mm",
    ),
)


def neutralise(value: str) -> str:
    """Prefix a quote to text a spreadsheet would evaluate (CSV formula injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def to_csv(rows: Sequence[AssessmentRow], language: str = "en") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_label(c.header, language) for c in COLUMNS])
    for row in rows:
        writer.writerow([_csv_cell(c.value(row, language)) for c in COLUMNS])
    # The BOM makes Excel read the file as UTF-8, so Chinese names are not garbled.
    return buffer.getvalue().encode("utf-8-sig")


def _display_width(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    text = str(value)
    # East Asian wide characters take two columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_xlsx(rows: Sequence[AssessmentRow], language: str = "en") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _label(t("候选人", "Candidates"), language)
    headers = [_label(c.header, language) for c in COLUMNS]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [_display_width(h) for h in headers]
    for r, row in enumerate(rows, start=2):
        for k, column in enumerate(COLUMNS, start=1):
            value = column.value(row, language)
            cell = sheet.cell(row=r, column=k, value=value)
            if isinstance(value, str):
                # A string cell is never evaluated, whatever it starts with.
                cell.data_type = "s"
            elif column.number_format and value is not None:
                cell.number_format = column.number_format
            widths[k - 1] = max(widths[k - 1], _display_width(value))
    sheet.freeze_panes = "A2"
    for k, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = min(max(width + 2, 8), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


ExportFormat = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SAFE_ROLE = re.compile(r"^[a-z0-9_]{1,64}$")


def export(rows: Sequence[AssessmentRow], fmt: ExportFormat, language: str) -> bytes:
    return to_csv(rows, language) if fmt == "csv" else to_xlsx(rows, language)


def filename(role: str | None, fmt: ExportFormat, on: date) -> str:
    """`candidates-<role or all>-<yyyymmdd>.<fmt>`; only a plain role id enters the name."""
    scope = role if role and SAFE_ROLE.match(role) else "all"
    return f"candidates-{scope}-{on:%Y%m%d}.{fmt}"
