"""The parser cache repair: report markup parses exactly as before, without rebuilding patterns."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import tinyhtml5
import tinyhtml5.inputstream

from app.reports import html_parsing, render

MARKUP = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>报告</title></head>
<body><!-- a comment --><section class="cover"><h1 id='t'>候选人 &amp; 报告</h1>
<p class=small data-x="a&b">能力 <strong>3.5</strong> &lt;script&gt; &#x4e2d;</p>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><text x="1">轴</text></svg>
<![CDATA[ kept? ]]><table><tr><td>a<td>b</table><textarea>raw <b>text</b></textarea>
<script>if (a < b && c) {}</script><plaintext>the end"""


def parsed(markup: str) -> list[tuple[str, list[str], str | None, str | None]]:
    """Every node of the parsed tree: tag, attributes, text and tail, in document order."""
    root = tinyhtml5.parse(markup, namespace_html_elements=False)
    return [
        (str(node.tag), sorted(map(str, node.attrib.items())), node.text, node.tail)
        for node in root.iter()
    ]


def test_report_markup_parses_as_it_does_with_the_parsers_own_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = (Path(render.TEMPLATE_DIR) / "reports" / "base.html").read_text(encoding="utf-8")
    html_parsing.install()
    repaired = [parsed(MARKUP), parsed(report)]

    monkeypatch.setattr(tinyhtml5.inputstream, "characters_until_regex", {})
    assert [parsed(MARKUP), parsed(report)] == repaired


def test_a_second_parse_builds_no_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        tinyhtml5.inputstream, "characters_until_regex", html_parsing.StopCharacterPatterns()
    )
    parsed(MARKUP)
    compiled: list[Any] = []
    real_compile = re.compile

    def counting_compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiled.append(pattern)
        return real_compile(pattern, flags)

    monkeypatch.setattr(html_parsing.re, "compile", counting_compile)
    parsed(MARKUP)

    assert compiled == []


def test_rendering_a_report_installs_the_repair() -> None:
    assert isinstance(
        tinyhtml5.inputstream.characters_until_regex, html_parsing.StopCharacterPatterns
    )
