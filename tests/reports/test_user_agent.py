"""The reports' user-agent stylesheet: WeasyPrint's own minus rules reports never use, with
not one byte of a rendered report changed by the difference."""

from __future__ import annotations

from pathlib import Path

import pytest
import weasyprint
import weasyprint.html

from app.reports import render, user_agent

TEMPLATES = Path(render.TEMPLATE_DIR) / "reports"
REMOVED = (
    "::footnote-call",
    "::footnote-marker",
    "::note-call",
    "::note-marker",
    "::note-callback",
)


def rules(sheet: str) -> list[str]:
    return [line for line in sheet.splitlines() if "{" in line]


def test_only_the_note_rules_go_and_the_marker_rule_is_scoped_to_list_items() -> None:
    stock, lean = rules(weasyprint.html.UA), rules(user_agent.report_rules())

    gone = [rule for rule in stock if rule not in lean]
    added = [rule for rule in lean if rule not in stock]
    assert sorted(rule.split(" {")[0] for rule in gone) == sorted([*REMOVED, "::marker"])
    assert [rule.split(" {")[0] for rule in added] == ["li::marker"]
    assert added[0].removeprefix("li") == next(r for r in gone if r.startswith("::marker"))


def test_a_changed_weasyprint_sheet_is_an_error_not_a_silent_difference() -> None:
    changed = weasyprint.html.UA.replace("::note-callback {", "::after {")
    with pytest.raises(ValueError, match="found 4 and 1"):
        user_agent.report_rules(changed)


def test_report_templates_use_nothing_the_removed_rules_style() -> None:
    # Footnotes and notes come from `float: footnote` / `float: note`; markers belong to list
    # items, which only <li> is in the reports.
    sources = [path.read_text(encoding="utf-8") for path in sorted(TEMPLATES.iterdir())]
    for text in sources:
        assert "footnote" not in text
        assert "float: note" not in text
        assert "list-item" not in text
        assert "::marker" not in text


def test_a_report_renders_to_the_same_bytes_as_with_the_stock_sheet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    markup = (
        '<!doctype html><html lang="zh-CN"><body><h1 class="doc-title">报告</h1>'
        "<h2>能力</h2><ul><li>内容创作 <strong>4.0</strong></li><li>数据分析</li></ul>"
        '<ol class="method small"><li>选择题</li><li>作品题</li></ol>'
        '<ul class="ratings"><li>评分人 · 9/10</li></ul>'
        "<table><tr><th>能力</th><td>3.5</td></tr></table><p>完</p></body></html>"
    )
    ours = render.render_pdf(markup, title="报告", lang="zh")

    monkeypatch.setattr(user_agent.ReportHTML, "_ua_stylesheets", weasyprint.HTML._ua_stylesheets)
    assert render.render_pdf(markup, title="报告", lang="zh") == ours
