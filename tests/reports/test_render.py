"""The PDF renderer: real WeasyPrint and Noto CJK; text, metadata, determinism, nothing fetched."""

from __future__ import annotations

import gc
import hashlib
import io
import logging
import os
import subprocess
import sys
import time
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pypdf
import pytest
import tinycss2

from app.reports import charts, render
from app.reports.charts import RadarAxis
from app.reports.render import FetchRefused, ReportRenderError, SafeFetcher

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel=attachment href="file:///etc/passwd">',
    '<link rel=stylesheet href="http://127.0.0.1:9/x.css">',
    'style="background: url(http://127.0.0.1:9/x.png)"',
    "<script>alert(1)</script>",
]
SAMPLE = """{% extends "reports/base.html" %}
{% block content %}
<h2>{{ t("总结", "Summary") }}</h2>
<div class="figures">
  <div class="figure"><div class="value">3.4</div>
    <div class="label">{{ t("综合水平", "Overall level") }}</div></div>
  <div class="figure"><div class="value">82%</div>
    <div class="label">{{ t("岗位匹配度", "Fit") }}</div></div>
</div>
<p>{{ t("候选人在内容创作方面表现突出，数据分析能力尚需提升。",
        "Strong in content creation; data analysis needs work.") }}</p>
<figure class="chart">{{ radar | safe }}</figure>
<h2 class="page-break">{{ t("各项能力", "Competencies") }}</h2>
<table>
<thead><tr><th>{{ t("能力", "Competency") }}</th><th class="num">{{ t("水平", "Level") }}</th>
<th class="num">{{ t("目标", "Target") }}</th></tr></thead>
<tbody>
{% for axis in axes %}
<tr><td>{{ axis.label }}</td><td class="num">{{ axis.level | level }}</td>
<td class="num">{{ axis.target | level }}</td></tr>
{% endfor %}
</tbody>
</table>
<h3>{{ t("评分人备注", "Rater notes") }}</h3>
{% for note in notes %}<p class="note quote">{{ note }}</p>{% endfor %}
{% endblock %}
"""
AXES = [
    RadarAxis("内容创作能力", 4.2, 4.0),
    RadarAxis("平台运营能力", 3.1, 4.0),
    RadarAxis("数据分析能力", 2.4, 3.5),
    RadarAxis("沟通协作能力", None, 3.0),
    RadarAxis("学习创新能力", 3.6, 3.0),
    RadarAxis("Resilience and execution", 3.0, 3.0),
    RadarAxis("行业趋势洞察", 2.8, 3.0),
    RadarAxis("User psychology", 3.3, 3.0),
    RadarAxis("竞品分析能力", 5.0, 3.0),
]
TITLE = {"zh": "候选人报告：王小明", "en": "Candidate report: Wang Xiaoming"}


def context(lang: str) -> dict[str, Any]:
    return {
        "lang": lang,
        "title": TITLE[lang],
        "subtitle": "新媒体运营专员 · New-media operations specialist",
        "facts": [("候选人 Candidate", "王小明"), ("日期 Date", "2026-11-27")],
        "radar": charts.radar_chart(AXES, scale_min=1, scale_max=5, lang=lang),
        "axes": AXES,
        "notes": ["文案结构清晰，标题吸引人。", *HOSTILE],
    }


def sample() -> jinja2.Template:
    return render.environment().from_string(SAMPLE)


@dataclass
class FetchSpy:
    calls: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)


def install_spy(monkeypatch: pytest.MonkeyPatch) -> FetchSpy:
    """Record every URL the fetcher is asked for, and any file or HTTP urllib would open."""
    spy = FetchSpy()
    original = SafeFetcher.fetch

    def fetch(self: SafeFetcher, url: str, headers: Any = None) -> Any:
        spy.calls.append(url)
        try:
            return original(self, url, headers)
        except FetchRefused:
            spy.refused.append(url)
            raise

    def opened(self: Any, req: urllib.request.Request) -> Any:
        spy.opened.append(req.full_url)
        raise AssertionError(f"urllib opened {req.full_url}")

    monkeypatch.setattr(SafeFetcher, "fetch", fetch)
    monkeypatch.setattr(urllib.request.FileHandler, "file_open", opened)
    monkeypatch.setattr(urllib.request.HTTPHandler, "http_open", opened)
    return spy


@dataclass
class Rendered:
    pdf: bytes
    again: bytes
    reader: pypdf.PdfReader
    warnings: render.RenderWarnings
    spy: FetchSpy
    first_seconds: float
    warm_seconds: float

    def page_text(self, index: int) -> str:
        return self.reader.pages[index].extract_text()

    @property
    def text(self) -> str:
        return "\n".join(page.extract_text() for page in self.reader.pages)


@pytest.fixture(scope="module")
def zh() -> Rendered:
    with pytest.MonkeyPatch.context() as monkeypatch:
        spy = install_spy(monkeypatch)
        with render.capture_warnings() as warnings:
            start = time.perf_counter()
            pdf = render.render_report(sample(), context("zh"), title=TITLE["zh"])
            middle = time.perf_counter()
            again = render.render_report(sample(), context("zh"), title=TITLE["zh"])
            end = time.perf_counter()
    return Rendered(
        pdf, again, pypdf.PdfReader(io.BytesIO(pdf)), warnings, spy, middle - start, end - middle
    )


def test_chinese_report_text_title_and_language_come_back_out(zh: Rendered) -> None:
    assert len(zh.reader.pages) == 3
    assert zh.reader.metadata is not None
    assert zh.reader.metadata.title == "候选人报告：王小明"
    assert zh.reader.metadata.author == "Yardstick"
    assert zh.reader.trailer["/Root"]["/Lang"] == "zh-CN"
    text = zh.text
    for expected in (
        "候选人报告：王小明",
        "文案结构清晰，标题吸引人。",
        "内容创作能力",
        "User psychology",
    ):
        assert expected in text
    assert "沟通协作能力 — 3.0" in text  # no level: a dash, never "None"


def test_running_header_and_page_numbers(zh: Rendered) -> None:
    cover, second, third = (zh.page_text(n) for n in range(3))
    assert "第 1 页" not in cover
    assert "第 2 页，共 3 页" in second
    assert "第 3 页，共 3 页" in third
    assert "候选人报告：王小明" in third  # running header from the document title
    assert "保密文件，仅供授权人员查阅" in third


def test_no_missing_glyph_or_fetch_warnings(zh: Rendered) -> None:
    zh.warnings.check()
    assert zh.warnings.messages == []


def test_same_input_gives_the_same_bytes_and_no_dates(zh: Rendered) -> None:
    assert zh.pdf == zh.again
    assert b"/CreationDate" not in zh.pdf
    assert b"/ModDate" not in zh.pdf


def test_three_page_cjk_report_stays_well_under_a_megabyte(
    zh: Rendered, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():
        print(
            f"\n3-page CJK report: {len(zh.pdf) / 1024:.0f} KiB, first render "
            f"{zh.first_seconds:.3f} s, warm {zh.warm_seconds:.3f} s"
        )
    assert len(zh.pdf) < 600_000


def test_hostile_user_text_is_printed_and_fetches_nothing(zh: Rendered) -> None:
    flattened = "".join(zh.text.split())
    for hostile in HOSTILE:
        assert "".join(hostile.split()) in flattened
    assert zh.spy.calls == []
    assert zh.spy.opened == []
    assert zh.reader.attachments == {}
    assert "root:x:0:0" not in zh.text


def test_english_report_numbers_pages_in_english() -> None:
    pdf = render.render_report(sample(), context("en"), title=TITLE["en"], author="HR")
    reader = pypdf.PdfReader(io.BytesIO(pdf))

    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert reader.metadata is not None
    assert reader.metadata.author == "HR"
    assert "Page 2 of 3" in reader.pages[1].extract_text()
    assert "Confidential: for authorised readers only" in reader.pages[2].extract_text()


def raw_document(body: str) -> str:
    return f'<!doctype html><html lang="en"><body><p>hello 你好</p>{body}</body></html>'


@pytest.mark.parametrize(
    ("body", "url"),
    [
        ('<img src="file:///etc/passwd">', "file:///etc/passwd"),
        ('<p style="background: url(http://127.0.0.1:9/x.png)">x</p>', "http://127.0.0.1:9/x.png"),
        ('<link rel=stylesheet href="http://127.0.0.1:9/x.css">', "http://127.0.0.1:9/x.css"),
        ('<a rel=attachment href="file:///etc/passwd">x</a>', "file:///etc/passwd"),
        ("<style>@import url(file:///etc/passwd);</style>", "file:///etc/passwd"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
            '<image href="file:///etc/passwd" width="9" height="9"/></svg>',
            "file:///etc/passwd",
        ),
    ],
)
def test_markup_that_slips_through_a_template_is_refused_and_fails_the_render(
    monkeypatch: pytest.MonkeyPatch, body: str, url: str
) -> None:
    spy = install_spy(monkeypatch)

    with pytest.raises(ReportRenderError):
        render.render_pdf(raw_document(body), title="t", lang="en")

    assert spy.refused == [url]
    assert spy.opened == []


def test_a_local_file_is_never_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42", encoding="utf-8")
    spy = install_spy(monkeypatch)
    html = raw_document(f'<img src="{secret.as_uri()}"><object data="{secret.as_uri()}"></object>')

    # An ordinary Exception at our boundary, not WeasyPrint's BaseException.
    with pytest.raises(Exception) as raised:  # noqa: PT011
        render.render_pdf(html, title="t", lang="en")
    assert raised.type is ReportRenderError
    assert spy.refused == [secret.as_uri()]
    assert spy.opened == []


def test_attachment_links_are_dropped_unfetched(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = install_spy(monkeypatch)
    pdf = render.render_pdf(
        raw_document('<link rel=attachment href="file:///etc/passwd">'), title="t", lang="en"
    )

    assert spy.calls == []
    assert pypdf.PdfReader(io.BytesIO(pdf)).attachments == {}


def test_relative_urls_fail_the_render_without_any_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = install_spy(monkeypatch)
    with pytest.raises(ReportRenderError, match="Relative URI"):
        render.render_pdf(raw_document('<img src="passwd">'), title="t", lang="en")
    assert spy.calls == []


def test_a_render_leaves_the_garbage_collector_as_it_found_it() -> None:
    # The collector is paused while WeasyPrint works; it must come back on for the rest of
    # the process, even when the render fails, and stay off if the caller had it off.
    assert gc.isenabled()
    render.render_pdf(raw_document(""), title="t", lang="en")
    assert gc.isenabled()
    with pytest.raises(ReportRenderError):
        render.render_pdf(raw_document('<img src="file:///etc/passwd">'), title="t", lang="en")
    assert gc.isenabled()
    gc.disable()
    try:
        render.render_pdf(raw_document(""), title="t", lang="en")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_data_urls_are_the_one_thing_served() -> None:
    response = render.safe_fetcher("data:text/plain;charset=utf-8,hello")
    assert response.read() == b"hello"
    response.close()
    for url in (
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1:9/",
        "https://127.0.0.1:9/",
        "ftp://127.0.0.1/x",
        "passwd",
        "/etc/passwd",
        "javascript:alert(1)",
    ):
        with pytest.raises(FetchRefused):
            render.safe_fetcher(url)
    redirects = urllib.request.HTTPRedirectHandler
    assert not any(isinstance(h, redirects) for h in render.safe_fetcher.handlers)


def test_the_guard_reports_missing_glyphs() -> None:
    with render.capture_warnings() as warnings:
        render.render_pdf(raw_document("<p>\ue000</p>"), title="t", lang="zh")

    assert warnings.missing_glyphs
    with pytest.raises(AssertionError, match=r"\.notdef"):
        warnings.check()


def test_the_guard_restores_the_loggers() -> None:
    logger = logging.getLogger("weasyprint")
    before = (list(logger.handlers), logger.level)
    with render.capture_warnings() as warnings:
        logger.warning("Failed to load image at %r", "x")
    assert warnings.fetch_problems == ["Failed to load image at 'x'"]
    assert (list(logger.handlers), logger.level) == before


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="lang must be one of"):
        render.render_pdf(raw_document(""), title="t", lang="fr")


def test_html_preview_inlines_the_stylesheet_and_escapes_user_text() -> None:
    html = render.render_html(sample(), context("zh"))

    assert html.startswith("<!doctype html>")
    assert '<html lang="zh-CN">' in html
    assert "<title>候选人报告：王小明</title>" in html
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert style == (ROOT / "templates" / "reports" / "report.css").read_text(encoding="utf-8")
    digest = b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert render.preview_style_source() == f"'sha256-{digest}'"
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert '<img src="file:///etc/passwd">' not in html
    assert "<script>" not in html


def test_templates_refuse_undefined_names() -> None:
    template = render.environment().from_string("{{ missing }}")
    with pytest.raises(jinja2.UndefinedError):
        render.render_html(template, {"lang": "en"})


def font_rules(rules: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    """(selector or at-rule, declarations) for every style rule and @page margin box."""
    for rule in rules:
        if rule.content is None:
            continue
        inner = tinycss2.parse_blocks_contents(
            rule.content, skip_comments=True, skip_whitespace=True
        )
        declarations = [d for d in inner if d.type == "declaration"]
        if rule.type == "qualified-rule":
            yield tinycss2.serialize(rule.prelude).strip(), declarations
        elif rule.type == "at-rule":
            yield f"@{rule.at_keyword} {tinycss2.serialize(rule.prelude).strip()}", declarations
            yield from font_rules([r for r in inner if r.type in ("at-rule", "qualified-rule")])


def test_stylesheet_names_the_cjk_font_wherever_it_sets_fonts() -> None:
    css = (ROOT / "templates" / "reports" / "report.css").read_text(encoding="utf-8")
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    checked = 0
    for selector, declarations in font_rules(rules):
        props = {d.lower_name: tinycss2.serialize(d.value).strip() for d in declarations}
        if props.keys() & {"font-size", "font-weight", "font-family", "font"}:
            checked += 1
            family = props.get("font-family", "")
            assert family.startswith('"Noto Sans CJK SC", "Noto Sans CJK JP"'), selector
        assert props.get("text-align", "start") in ("start", "end", "center"), selector
    assert checked >= 10
    assert "justify" not in css


def test_stylesheet_keeps_to_layouts_weasyprint_lays_out_without_measuring() -> None:
    """Floats, flex and grid make WeasyPrint measure content widths first (with a float on a
    page, the minimum width of every later line); the reports place things by fixed widths."""
    css = (ROOT / "templates" / "reports" / "report.css").read_text(encoding="utf-8")
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    for selector, declarations in font_rules(rules):
        props = {d.lower_name: tinycss2.serialize(d.value).strip() for d in declarations}
        if selector.startswith((".preview", "@media")):
            continue  # the browser preview's own bar, never in the PDF
        assert props.get("float", "none") == "none", selector
        assert "flex" not in props.get("display", ""), selector
        assert "grid" not in props.get("display", ""), selector
    # Outside list markers are laid out as boxes of their own, each measured first.
    ul = next(declarations for selector, declarations in font_rules(rules) if selector == "ul")
    assert {d.lower_name: tinycss2.serialize(d.value).strip() for d in ul}["list-style"] == "none"


@pytest.mark.slow
def test_bytes_are_the_same_in_another_process(zh: Rendered) -> None:
    script = (
        "import sys, importlib.util\n"
        f"spec = importlib.util.spec_from_file_location('sample', {str(Path(__file__))!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['sample'] = module\n"
        "spec.loader.exec_module(module)\n"
        "from app.reports import render\n"
        "pdf = render.render_report(module.sample(), module.context('zh'), "
        "title=module.TITLE['zh'])\n"
        "sys.stdout.buffer.write(pdf)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, check=True
    )
    assert result.stdout == zh.pdf
