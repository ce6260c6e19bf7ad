"""SVG text in one run: chart labels come out as the same text at the same places as when
WeasyPrint draws them glyph by glyph; text placed glyph by glyph stays WeasyPrint's."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest
import weasyprint.svg

from app.reports import charts, render, svg_text
from app.reports.charts import BarRow, HeatCell, PairRow, RadarAxis, TrendPoint

Run = tuple[str, float, float]


def chart_page(lang: str) -> str:
    axes = [
        RadarAxis("内容创作能力", 4.2, 4.0),
        RadarAxis("Platform operations", 3.1, 4.0),
        RadarAxis("数据分析", 2.4, 3.5),
        RadarAxis("沟通协作", None, 3.0),
        RadarAxis("AVA Wavy Type", 3.6, 3.0),
    ]
    bars = [BarRow("专业技能", 2.2, 3.0), BarRow("Soft skills", 4.0, 3.0)]
    pairs = [PairRow("内容创作", 3.0, 4.0, 3.5), PairRow("Data", None, 2.0, 3.0)]
    heat = charts.heat_map(
        ["王芳", "Li Ming"],
        ["内容", "Data"],
        [[HeatCell(3.0, 3.5), HeatCell(4.0, 3.0)], [HeatCell(None, 3.0), HeatCell(2.0, 3.0)]],
        lang=lang,
    )
    trend = charts.trend_line(
        [TrendPoint("2026-05", 2.5), TrendPoint("2026-11", 3.25)],
        scale_min=1,
        scale_max=5,
        target=3.5,
        lang=lang,
    )
    body = "".join(
        [
            charts.radar_chart(axes, scale_min=1, scale_max=5, lang=lang),
            charts.level_bars(bars, scale_min=1, scale_max=5, lang=lang),
            charts.paired_bars(
                pairs,
                scale_min=1,
                scale_max=5,
                first_label="他人",
                second_label="Self",
                lang=lang,
            ),
            heat,
            trend,
        ]
    )
    return f'<!doctype html><html lang="{render.html_lang(lang)}"><body>{body}</body></html>'


def runs(pdf: bytes) -> list[Run]:
    """Each piece of text shown on the pages, with where it starts (to 0.01 pt)."""
    found: list[Run] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text, round(x, 2), round(y, 2)))

    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return found


def drawn_glyph_by_glyph(monkeypatch: pytest.MonkeyPatch) -> None:
    for tag, function in list(weasyprint.svg.TAGS.items()):
        if function is svg_text.draw_run:
            monkeypatch.setitem(weasyprint.svg.TAGS, tag, svg_text.stock_text)
    monkeypatch.setattr(weasyprint.svg, "text", svg_text.stock_text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_chart_labels_are_the_same_text_at_the_same_places(
    monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    page = chart_page(lang)
    in_runs = runs(render.render_pdf(page, title="charts", lang=lang))

    drawn_glyph_by_glyph(monkeypatch)
    by_glyph = runs(render.render_pdf(page, title="charts", lang=lang))

    assert len(in_runs) > 30
    assert in_runs == by_glyph


@pytest.mark.parametrize(
    "attributes",
    ['x="10 20 30" y="20"', 'x="10" y="20" dx="0 4"', 'x="10" y="20" rotate="15"'],
)
def test_text_placed_glyph_by_glyph_is_left_to_weasyprint(
    monkeypatch: pytest.MonkeyPatch, attributes: str
) -> None:
    calls: list[str] = []
    weasyprints = svg_text.stock_text

    def stock(svg: Any, node: Any, font_size: float) -> None:
        calls.append(node.text)
        weasyprints(svg, node, font_size)

    monkeypatch.setattr(svg_text, "stock_text", stock)
    page = (
        '<!doctype html><html lang="en"><body><svg xmlns="http://www.w3.org/2000/svg" '
        f'width="200" height="60"><text {attributes}>ABC</text>'
        '<text x="10" y="50">one run</text></svg></body></html>'
    )

    pdf = render.render_pdf(page, title="t", lang="en")

    assert calls == ["ABC"]
    assert "one run" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
