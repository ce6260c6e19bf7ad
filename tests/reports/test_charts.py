"""The report charts: well-formed, escaped, geometrically right and byte-for-byte repeatable."""

from __future__ import annotations

import ast
import math
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.reports import charts, svg
from app.reports.charts import BarRow, HeatCell, RadarAxis, TrendPoint

NS = {"svg": "http://www.w3.org/2000/svg"}
HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=1>',
    "<img src=\"file:///etc/passwd\"> & 'quotes'",
    "url(http://127.0.0.1:9/x.png)",
]
NINE = [
    RadarAxis("内容创作能力", 4.2, 4.0),
    RadarAxis("Platform operations", 3.1, 4.0),
    RadarAxis("数据分析能力", 2.4, 3.5),
    RadarAxis("Communication and collaboration", None, 3.0),
    RadarAxis("学习创新能力", 3.6, 3.0),
    RadarAxis("Resilience and execution", 3.0, 3.0),
    RadarAxis("行业趋势洞察", 2.8, None),
    RadarAxis("User psychology", 3.3, 3.0),
    RadarAxis("竞品分析能力", 5.0, 3.0),
]


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iterfind(".//svg:text", NS)]


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iterfind(f".//svg:{tag}", NS) if e.get("class") == cls]


def points(element: ET.Element) -> list[tuple[float, float]]:
    pairs = element.get("points", "").split()
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in pairs)]


def flat(pairs: list[tuple[float, float]]) -> list[float]:
    return [value for pair in pairs for value in pair]


def all_charts(label: str = "Label") -> dict[str, str]:
    axes = [RadarAxis(label, 3.0, 4.0), RadarAxis("B", None, 3.0), RadarAxis("C", 2.0, None)]
    return {
        "radar": charts.radar_chart(axes, scale_min=1, scale_max=5),
        "bars": charts.level_bars(
            [BarRow(a.label, a.level, a.target) for a in axes], scale_min=1, scale_max=5
        ),
        "heat": charts.heat_map(
            [label, "李华"],
            [label, "数据分析"],
            [[HeatCell(3.0, 4.0), HeatCell(None, 3.0)], [HeatCell(4.5, None), HeatCell(2.0, 2.0)]],
        ),
        "trend": charts.trend_line(
            [TrendPoint(label, 2.0), TrendPoint("2025-06", None), TrendPoint("2025-12", 3.5)],
            scale_min=1,
            scale_max=5,
            target=3.0,
        ),
    }


@pytest.mark.parametrize("kind", ["radar", "bars", "heat", "trend"])
def test_every_chart_is_accessible_self_contained_svg(kind: str) -> None:
    markup = all_charts()[kind]
    root = parse(markup)

    assert root.get("role") == "img"
    assert root[0].tag == "{http://www.w3.org/2000/svg}title"
    assert root[0].text
    assert "Noto Sans CJK SC" in root.get("font-family", "")
    # Nothing that could make a renderer or browser fetch, run or restyle anything.
    for forbidden in ("href", "url(", "style=", "<image", "<use", "<foreignObject", "<script"):
        assert forbidden not in markup


@pytest.mark.parametrize("kind", ["radar", "bars", "heat", "trend"])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_labels_come_out_as_escaped_text(kind: str, hostile: str) -> None:
    markup = all_charts(hostile)[kind]
    root = parse(markup)

    assert root.find(".//svg:script", NS) is None
    assert root.find(".//svg:img", NS) is None
    assert "<script" not in markup
    assert "<img" not in markup
    shown = " ".join(texts(root)) + root.findtext("svg:desc", "", NS)
    # Long labels may be wrapped or shortened; the start of the text is always there verbatim.
    assert hostile[:8] in shown


@pytest.mark.parametrize("count", range(3, 13))
def test_radar_has_one_spoke_and_one_label_per_axis(count: int) -> None:
    axes = [RadarAxis(f"能力 {n}", 1 + n % 5, 3.0) for n in range(count)]
    root = parse(charts.radar_chart(axes, scale_min=1, scale_max=5))

    assert len(by_class(root, "line", "spoke")) == count
    assert len(by_class(root, "g", "axis-label")) == count
    assert len(points(by_class(root, "polygon", "level")[0])) == count
    assert len(by_class(root, "polygon", "ring")) == 4  # levels 2..5; level 1 is the centre


@pytest.mark.parametrize("count", [2, 13])
def test_radar_refuses_too_few_or_too_many_axes(count: int) -> None:
    axes = [RadarAxis(str(n), 3.0, 3.0) for n in range(count)]
    with pytest.raises(ValueError, match="3 to 12 axes"):
        charts.radar_chart(axes, scale_min=1, scale_max=5)


def test_radar_geometry_for_four_axes() -> None:
    axes = [RadarAxis(name, 5.0, 3.0) for name in "NESW"]
    root = parse(charts.radar_chart(axes, scale_min=1, scale_max=5, size=400))

    spoke = by_class(root, "line", "spoke")[0]
    cx, cy = float(spoke.get("x1", "")), float(spoke.get("y1", ""))
    radius = 0.27 * 400
    outer_ring = points(by_class(root, "polygon", "ring")[-1])
    expected_outer = [(cx, cy - radius), (cx + radius, cy), (cx, cy + radius), (cx - radius, cy)]
    # Level at the top of the scale: on the outer ring, first spoke up, then clockwise.
    level = points(by_class(root, "polygon", "level")[0])
    assert flat(level) == pytest.approx(flat(expected_outer), abs=0.01)
    assert flat(outer_ring) == pytest.approx(flat(expected_outer), abs=0.01)
    # Target 3 on a 1–5 scale: half-way out.
    half = radius / 2
    expected_target = [(cx, cy - half), (cx + half, cy), (cx, cy + half), (cx - half, cy)]
    target = points(by_class(root, "polygon", "target")[0])
    assert flat(target) == pytest.approx(flat(expected_target), abs=0.01)


def test_radar_bottom_of_scale_sits_at_the_centre() -> None:
    axes = [RadarAxis("A", 1.0, 1.0), RadarAxis("B", 3.0, 1.0), RadarAxis("C", 1.0, 1.0)]
    root = parse(charts.radar_chart(axes, scale_min=1, scale_max=5))
    spoke = by_class(root, "line", "spoke")[0]
    centre = (float(spoke.get("x1", "")), float(spoke.get("y1", "")))

    target = points(by_class(root, "polygon", "target")[0])
    assert flat(target) == pytest.approx(flat([centre] * 3), abs=0.01)


def test_radar_leaves_out_not_assessed_points_and_marks_their_label() -> None:
    root = parse(charts.radar_chart(NINE, scale_min=1, scale_max=5, lang="zh"))

    assert len(points(by_class(root, "polygon", "level")[0])) == 8
    assert len(by_class(root, "circle", "point")) == 8
    assert len(points(by_class(root, "polygon", "target")[0])) == 8
    labels = ["".join(g.itertext()) for g in by_class(root, "g", "axis-label")]
    assert "(未评估)" in labels[3]
    assert sum("(未评估)" in label for label in labels) == 1
    assert "当前水平" in texts(root)
    assert "目标" in texts(root)


def test_without_a_legend_the_chart_is_shorter_and_otherwise_the_same() -> None:
    rows = [BarRow(a.label, a.level, a.target) for a in NINE[:3]]
    for with_legend, without in (
        (
            charts.radar_chart(NINE, scale_min=1, scale_max=5, lang="zh"),
            charts.radar_chart(NINE, scale_min=1, scale_max=5, lang="zh", legend=False),
        ),
        (
            charts.level_bars(rows, scale_min=1, scale_max=5, lang="zh"),
            charts.level_bars(rows, scale_min=1, scale_max=5, lang="zh", legend=False),
        ),
    ):
        full, bare = parse(with_legend), parse(without)
        assert {"当前水平", "目标"} <= set(texts(full))
        assert {"当前水平", "目标"}.isdisjoint(texts(bare))
        assert float(bare.get("height", "")) < float(full.get("height", ""))
        # Everything but the legend (two labels, two swatches in their groups) is drawn alike.
        assert len(texts(bare)) == len(texts(full)) - 2
        assert len(list(bare.iter())) == len(list(full.iter())) - 6
        assert bare.findtext("svg:desc", "", NS) == full.findtext("svg:desc", "", NS)


def test_radar_with_fewer_than_three_levels_draws_what_it_can() -> None:
    axes = [RadarAxis("A", 3.0, 3.0), RadarAxis("B", None, 3.0), RadarAxis("C", 4.0, 3.0)]
    root = parse(charts.radar_chart(axes, scale_min=1, scale_max=5))

    assert not by_class(root, "polygon", "level")
    assert len(points(by_class(root, "polyline", "level")[0])) == 2
    assert len(by_class(root, "circle", "point")) == 2


@pytest.mark.parametrize(
    ("level", "target", "message"),
    [
        (5.5, 3.0, "outside the scale 1–5"),
        (0.5, 3.0, "outside the scale 1–5"),
        (math.nan, 3.0, "outside the scale"),
        (3.0, 6.0, "target of 'A'"),
    ],
)
def test_values_off_the_scale_are_refused(level: float, target: float, message: str) -> None:
    axes = [RadarAxis("A", level, target), RadarAxis("B", 3.0, 3.0), RadarAxis("C", 3.0, 3.0)]
    with pytest.raises(ValueError, match=message):
        charts.radar_chart(axes, scale_min=1, scale_max=5)
    with pytest.raises(ValueError, match=message):
        charts.level_bars([BarRow("A", level, target)], scale_min=1, scale_max=5)


def test_bars_scale_and_none_rows() -> None:
    rows = [BarRow("Content", 5.0, 4.0), BarRow("Data", 3.0, None), BarRow("Soft", None, 3.0)]
    root = parse(charts.level_bars(rows, scale_min=1, scale_max=5, width=600))

    bars = by_class(root, "rect", "bar")
    assert len(bars) == 2  # no bar for the row without a level
    full, half = (float(b.get("width", "")) for b in bars)
    assert half == pytest.approx(full / 2, abs=0.01)
    assert len(by_class(root, "line", "target")) == 2
    shown = texts(root)
    assert "5.0 / 4.0" in shown
    assert "3.0" in shown
    assert "— / 3.0" in shown
    assert "(not assessed)" in shown


def test_heat_map_colours_by_gap_and_prints_levels() -> None:
    cells = [[HeatCell(2.0, 4.0), HeatCell(4.0, 4.0), HeatCell(None, 4.0), HeatCell(3.0, None)]]
    root = parse(charts.heat_map(["王小明"], ["A", "B", "C", "D"], cells, lang="zh"))

    fills = [r.get("fill") for r in by_class(root, "rect", "cell")]
    assert fills == [
        charts.GAP_PALETTE[0],
        charts.GAP_PALETTE[2],
        charts.MISSING_FILL,
        "#ffffff",
    ]
    shown = texts(root)
    assert [t for t in shown if t in {"2.0", "4.0", "—", "3.0"}] == ["2.0", "4.0", "—", "3.0"]
    assert "颜色 = 当前水平 − 目标" in shown


def test_heat_map_refuses_cells_that_do_not_match_rows_and_columns() -> None:
    with pytest.raises(ValueError, match="2 rows of 2 cells"):
        charts.heat_map(["a", "b"], ["x", "y"], [[HeatCell(1, 1), HeatCell(1, 1)]])


@pytest.mark.parametrize(
    ("level", "target", "expected"),
    [
        (1.0, 4.0, 0),
        (2.5, 4.0, 0),  # d = −1.5
        (2.6, 4.0, 1),
        (3.5, 4.0, 1),  # d = −0.5
        (3.45, 4.0, 1),  # shown as 3.5, so coloured as 3.5
        (3.6, 4.0, 2),
        (4.0, 4.0, 2),
        (4.4, 4.0, 2),
        (4.5, 4.0, 3),  # d = +0.5
        (5.0, 3.5, 4),  # d = +1.5
        (None, 4.0, None),
        (3.0, None, None),
    ],
)
def test_gap_class_bins(level: float | None, target: float | None, expected: int | None) -> None:
    assert charts.gap_class(level, target) == expected


def test_trend_breaks_the_line_at_missing_levels_and_draws_the_target() -> None:
    points_ = [TrendPoint(f"2025-{m:02d}", v) for m, v in [(1, 2.0), (2, 2.5), (3, None), (4, 3)]]
    root = parse(charts.trend_line(points_, scale_min=1, scale_max=5, target=3.5))

    runs = by_class(root, "polyline", "trend")
    assert [len(points(run)) for run in runs] == [2]  # the lone point after the gap is a dot
    assert len(by_class(root, "circle", "point")) == 3
    assert "Target 3.5" in texts(root)


def test_trend_labels_at_most_about_eight_dates_and_always_the_latest() -> None:
    points_ = [TrendPoint(f"W{n}", 3.0) for n in range(1, 21)]
    shown = texts(parse(charts.trend_line(points_, scale_min=1, scale_max=5)))

    dates = [t for t in shown if t.startswith("W")]
    assert len(dates) <= 8
    assert dates[-1] == "W20"


def test_trend_without_points_says_so() -> None:
    root = parse(charts.trend_line([], scale_min=1, scale_max=5, lang="zh"))
    assert "暂无数据" in texts(root)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="lang must be one of"):
        charts.trend_line([], scale_min=1, scale_max=5, lang="fr")


def test_charts_are_deterministic_with_fixed_decimals() -> None:
    first = charts.radar_chart(NINE, scale_min=1, scale_max=5)
    assert first == charts.radar_chart(list(NINE), scale_min=1, scale_max=5)

    numbers = re.findall(r' (?:x|y|x1|y1|x2|y2|cx|cy|width|height)="([^"]*)"', first)
    assert numbers
    assert all(re.fullmatch(r"-?\d+\.\d\d", n) for n in numbers)
    for pair in re.findall(r'points="([^"]*)"', first):
        assert all(re.fullmatch(r"-?\d+\.\d\d,-?\d+\.\d\d", p) for p in pair.split())


@pytest.mark.parametrize(
    ("value", "expected"), [(-0.0001, "0.00"), (-0.0, "0.00"), (2.005, "2.00"), (-1.5, "-1.50")]
)
def test_num_never_prints_negative_zero(value: float, expected: str) -> None:
    assert svg.num(value) == expected


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("Communication and collaboration", 120, ["Communication and", "collaboration"]),
        ("沟通协作能力", 44, ["沟通协作", "能力"]),
        ("one two three four five six seven", 60, ["one two", "three…"]),
        ("short", 500, ["short"]),
    ],
)
def test_wrap(text: str, width: float, expected: list[str]) -> None:
    assert svg.wrap(text, width, 11) == expected


@given(
    label=st.text(max_size=40),
    level=st.one_of(st.none(), st.floats(min_value=1, max_value=5)),
)
def test_any_label_and_level_give_well_formed_markup(label: str, level: float | None) -> None:
    axes = [RadarAxis(label, level, 3.0), RadarAxis("B", 2.0, 3.0), RadarAxis("C", 4.0, None)]
    for markup in (
        charts.radar_chart(axes, scale_min=1, scale_max=5),
        charts.level_bars([BarRow(label, level, 3.0)], scale_min=1, scale_max=5),
        charts.heat_map([label], [label], [[HeatCell(level, 3.0)]]),
        charts.trend_line([TrendPoint(label, level)], scale_min=1, scale_max=5),
    ):
        parse(markup)


def test_chart_modules_are_pure() -> None:
    allowed = set(sys.stdlib_module_names) | {"app.reports.svg", "__future__"}
    for name in ("charts.py", "svg.py"):
        path = Path(__file__).resolve().parents[2] / "app" / "reports" / name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                assert module in allowed or module.split(".")[0] in allowed, (name, module)
