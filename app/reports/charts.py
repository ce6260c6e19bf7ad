"""Report charts as inline SVG strings: pure and deterministic, no I/O, no external references.

Each returns markup to embed unescaped (`|safe`): every label in it is escaped already.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.reports.svg import (
    TEXT_COLOUR,
    coords,
    document,
    legend_row,
    level_text,
    num,
    shape,
    text_at,
    text_width,
    wrap,
)

LEVEL_COLOUR = "#2b5c9e"
TARGET_COLOUR = "#b35806"
GRID_COLOUR = "#c9ced6"
MUTED_COLOUR = "#5f6673"
# PuOr, 5 classes: diverging and safe for the common colour-vision deficiencies.
GAP_PALETTE = ("#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99")
GAP_TEXT = ("#ffffff", TEXT_COLOUR, TEXT_COLOUR, TEXT_COLOUR, "#ffffff")
MISSING_FILL = "#e4e6ea"
LANGUAGES = ("zh", "en")

_WORDS: dict[str, tuple[str, str]] = {
    "level": ("当前水平", "Level"),
    "target": ("目标", "Target"),
    "not_assessed": ("未评估", "not assessed"),
    "radar": ("各项能力：当前水平与目标", "Competencies: level and target"),
    "bars": ("当前水平与目标", "Level and target"),
    "heat": ("团队能力热力图：当前水平与目标之差", "Team heat map: level minus target"),
    "heat_key": ("颜色 = 当前水平 − 目标", "Colour = level − target"),
    "trend": ("能力水平变化", "Level over time"),
    "no_data": ("暂无数据", "No data yet"),
}


@dataclass(frozen=True, slots=True)
class RadarAxis:
    label: str
    level: float | None
    target: float | None


@dataclass(frozen=True, slots=True)
class BarRow:
    label: str
    level: float | None
    target: float | None


@dataclass(frozen=True, slots=True)
class PairRow:
    """Two values of one row, e.g. Others (first) and self (second), against a target."""

    label: str
    first: float | None
    second: float | None
    target: float | None


@dataclass(frozen=True, slots=True)
class HeatCell:
    level: float | None
    target: float | None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    label: str
    level: float | None


def _word(key: str, lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    zh, en = _WORDS[key]
    return zh if lang == "zh" else en


def _check_scale(scale_min: int, scale_max: int) -> None:
    if scale_max <= scale_min:
        raise ValueError(f"scale_max ({scale_max}) must be above scale_min ({scale_min})")


def _check_value(value: float | None, what: str, scale_min: int, scale_max: int) -> None:
    if value is None:
        return
    if not math.isfinite(value) or not scale_min <= value <= scale_max:
        raise ValueError(f"{what} {value!r} is outside the scale {scale_min}–{scale_max}")


LEVEL_SWATCH = (
    f'<rect x="0.00" y="-5.00" width="18.00" height="10.00" fill="{LEVEL_COLOUR}" '
    f'fill-opacity="0.25" stroke="{LEVEL_COLOUR}" stroke-width="1.5"/>'
)
TARGET_SWATCH = (
    f'<line x1="0.00" y1="0.00" x2="18.00" y2="0.00" stroke="{TARGET_COLOUR}" stroke-width="2" '
    f'stroke-dasharray="4 3"/>'
)
TICK_SWATCH = (
    f'<line x1="9.00" y1="-7.00" x2="9.00" y2="7.00" stroke="{TARGET_COLOUR}" stroke-width="2.5"/>'
)


def _summary(label: str, level: float | None, target: float | None, lang: str) -> str:
    if level is None:
        return f"{label}: {_word('not_assessed', lang)}"
    text = f"{label}: {_word('level', lang)} {level_text(level)}"
    return text if target is None else f"{text}, {_word('target', lang)} {level_text(target)}"


def radar_chart(
    axes: Sequence[RadarAxis],
    *,
    scale_min: int,
    scale_max: int,
    size: float = 520,
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
) -> str:
    """Level (filled) against target (dashed) on 3–12 spokes, first spoke up, clockwise.

    A value v sits at radius R·(v − scale_min)/(scale_max − scale_min), R = 0.27·size, so the
    centre is the bottom of the scale and the outer ring its top; one grid ring per level.
    Axes without a level get no point and a "not assessed" note under their label. Without
    `legend` the caller says in words what the two shapes are (a legend's few words are
    costly in a PDF: WeasyPrint lays out SVG text one glyph at a time).
    """
    if not 3 <= len(axes) <= 12:
        raise ValueError(f"a radar chart needs 3 to 12 axes, got {len(axes)}")
    _check_scale(scale_min, scale_max)
    for axis in axes:
        _check_value(axis.level, f"level of {axis.label!r}", scale_min, scale_max)
        _check_value(axis.target, f"target of {axis.label!r}", scale_min, scale_max)

    font, line = 11.0, 13.5
    radius = 0.27 * size
    label_room = 2 * line + 16 + (line if any(a.level is None for a in axes) else 0)
    # With an odd number of axes nothing points straight down: the chart ends higher.
    lowest = max(math.sin(-math.pi / 2 + 2 * math.pi * i / len(axes)) for i in range(len(axes)))
    below = label_room if lowest > 0.5 else label_room / 2
    cx, cy = size / 2, label_room + radius
    height = cy + radius * lowest + below + (28 if legend else 4)

    def at(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / len(axes)
        r = radius * (value - scale_min) / (scale_max - scale_min)
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    body = [f'<g class="grid" fill="none" stroke="{GRID_COLOUR}" stroke-width="0.75">']
    for ring in range(scale_min + 1, scale_max + 1):
        ring_points = coords([at(i, ring) for i in range(len(axes))])
        body.append(f'<polygon class="ring" points="{ring_points}"/>')
    for i in range(len(axes)):
        x, y = at(i, scale_max)
        body.append(
            f'<line class="spoke" x1="{num(cx)}" y1="{num(cy)}" x2="{num(x)}" y2="{num(y)}"/>'
        )
    body.append("</g>")
    for ring in range(scale_min, scale_max + 1):
        _, y = at(0, ring)
        body.append(text_at(cx + 4, y - 2, str(ring), 8.5, fill=MUTED_COLOUR))

    targets = [at(i, a.target) for i, a in enumerate(axes) if a.target is not None]
    levels = [at(i, a.level) for i, a in enumerate(axes) if a.level is not None]
    body.append(
        shape(
            levels,
            f'class="level" fill="{LEVEL_COLOUR}" fill-opacity="0.25" stroke="{LEVEL_COLOUR}" '
            'stroke-width="2"',
        )
    )
    body.append(
        shape(
            targets,
            f'class="target" fill="none" stroke="{TARGET_COLOUR}" stroke-width="2" '
            'stroke-dasharray="5 3"',
        )
    )
    body.extend(
        f'<circle class="point" cx="{num(x)}" cy="{num(y)}" r="3" fill="{LEVEL_COLOUR}"/>'
        for x, y in levels
    )

    for i, axis in enumerate(axes):
        angle = -math.pi / 2 + 2 * math.pi * i / len(axes)
        cos, sin = math.cos(angle), math.sin(angle)
        x, y = cx + (radius + 10) * cos, cy + (radius + 10) * sin
        anchor = "start" if cos > 0.2 else "end" if cos < -0.2 else "middle"
        room = size - x - 4 if anchor == "start" else x - 4 if anchor == "end" else 0.45 * size
        # Side labels may take a third line; the top and bottom ones have the width instead.
        lines = wrap(axis.label, room, font, max_lines=2 if anchor == "middle" else 3)
        notes = [f"({_word('not_assessed', lang)})"] if axis.level is None else []
        count = len(lines) + len(notes)
        if sin < -0.5:
            first = y - (count - 1) * line - 3
        elif sin > 0.5:
            first = y + font * 0.8 + 3
        else:
            first = y - (count - 1) * line / 2 + font * 0.35
        colour = MUTED_COLOUR if axis.level is None else None
        body.append('<g class="axis-label">')
        for n, text in enumerate(lines):
            body.append(text_at(x, first + n * line, text, font, anchor=anchor, fill=colour))
        for n, text in enumerate(notes, start=len(lines)):
            body.append(text_at(x, first + n * line, text, font - 1, anchor=anchor, fill=colour))
        body.append("</g>")

    if legend:
        body += legend_row(
            [(LEVEL_SWATCH, _word("level", lang)), (TARGET_SWATCH, _word("target", lang))],
            cx,
            height - 14,
            font,
        )
    desc = "; ".join(_summary(a.label, a.level, a.target, lang) for a in axes)
    return document(size, height, title or _word("radar", lang), desc, body)


def level_bars(
    rows: Sequence[BarRow],
    *,
    scale_min: int,
    scale_max: int,
    width: float = 560,
    lang: str = "en",
    title: str | None = None,
    legend: bool = True,
) -> str:
    """One horizontal bar per row from the bottom of the scale to the level, a tick at target.

    The value column prints "level / target" with one decimal; a row without a level shows
    "—" and a "not assessed" note instead of a bar. Without `legend`, the caller explains bar
    and tick in words.
    """
    _check_scale(scale_min, scale_max)
    for row in rows:
        _check_value(row.level, f"level of {row.label!r}", scale_min, scale_max)
        _check_value(row.target, f"target of {row.label!r}", scale_min, scale_max)

    font, line, row_height = 11.0, 13.0, 32.0
    label_width = 0.34 * width
    x0, x1 = label_width + 12, width - 78
    top = 20.0
    height = top + row_height * len(rows) + (34 if legend else 6)

    def at(value: float) -> float:
        return x0 + (x1 - x0) * (value - scale_min) / (scale_max - scale_min)

    body: list[str] = []
    for tick in range(scale_min, scale_max + 1):
        x = at(tick)
        bottom = top + row_height * len(rows)
        body.append(
            f'<line x1="{num(x)}" y1="{num(top - 4)}" x2="{num(x)}" y2="{num(bottom)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="0.75"/>'
        )
        body.append(text_at(x, top - 8, str(tick), 8.5, anchor="middle", fill=MUTED_COLOUR))

    for n, row in enumerate(rows):
        middle = top + row_height * (n + 0.5)
        colour = MUTED_COLOUR if row.level is None else None
        lines = wrap(row.label, label_width, font)
        if row.level is None:
            lines = [*lines[:1], f"({_word('not_assessed', lang)})"]
        first = middle - (len(lines) - 1) * line / 2 + font * 0.35
        body.append('<g class="row">')
        body.extend(
            text_at(label_width, first + k * line, text, font, anchor="end", fill=colour)
            for k, text in enumerate(lines)
        )
        if row.level is not None:
            body.append(
                f'<rect class="bar" x="{num(x0)}" y="{num(middle - 6)}" '
                f'width="{num(at(row.level) - x0)}" height="12" fill="{LEVEL_COLOUR}"/>'
            )
        if row.target is not None:
            x = at(row.target)
            body.append(
                f'<line class="target" x1="{num(x)}" y1="{num(middle - 10)}" x2="{num(x)}" '
                f'y2="{num(middle + 10)}" stroke="{TARGET_COLOUR}" stroke-width="2.5"/>'
            )
        value = level_text(row.level)
        if row.target is not None:
            value += f" / {level_text(row.target)}"
        body.append(text_at(x1 + 10, middle + font * 0.35, value, font, fill=colour))
        body.append("</g>")

    if legend:
        body += legend_row(
            [(LEVEL_SWATCH, _word("level", lang)), (TICK_SWATCH, _word("target", lang))],
            width / 2,
            height - 12,
            font,
        )
    desc = "; ".join(_summary(r.label, r.level, r.target, lang) for r in rows)
    return document(width, height, title or _word("bars", lang), desc, body)


SECOND_COLOUR = "#9cb9dc"


def paired_bars(
    rows: Sequence[PairRow],
    *,
    scale_min: int,
    scale_max: int,
    first_label: str,
    second_label: str,
    width: float = 560,
    lang: str = "en",
    title: str | None = None,
) -> str:
    """Per row two bars from the bottom of the scale, `first` dark above `second` light, and a
    tick at the target; each value is printed beside its bar with one decimal ("—" if None).

    The series names are the caller's (e.g. "Others" and "Self"), so the legend says what the
    bars are; a row without either value is drawn with its label and dashes only.
    """
    _check_scale(scale_min, scale_max)
    for row in rows:
        _check_value(row.first, f"{first_label} of {row.label!r}", scale_min, scale_max)
        _check_value(row.second, f"{second_label} of {row.label!r}", scale_min, scale_max)
        _check_value(row.target, f"target of {row.label!r}", scale_min, scale_max)

    font, line, row_height = 11.0, 13.0, 34.0
    label_width = 0.34 * width
    x0, x1 = label_width + 12, width - 48
    top = 20.0
    height = top + row_height * len(rows) + 34

    def at(value: float) -> float:
        return x0 + (x1 - x0) * (value - scale_min) / (scale_max - scale_min)

    body: list[str] = []
    bottom = top + row_height * len(rows)
    for tick in range(scale_min, scale_max + 1):
        x = at(tick)
        body.append(
            f'<line x1="{num(x)}" y1="{num(top - 4)}" x2="{num(x)}" y2="{num(bottom)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="0.75"/>'
        )
        body.append(text_at(x, top - 8, str(tick), 8.5, anchor="middle", fill=MUTED_COLOUR))

    for n, row in enumerate(rows):
        middle = top + row_height * (n + 0.5)
        lines = wrap(row.label, label_width, font)
        first_y = middle - (len(lines) - 1) * line / 2 + font * 0.35
        body.append('<g class="row">')
        body.extend(
            text_at(label_width, first_y + k * line, text, font, anchor="end")
            for k, text in enumerate(lines)
        )
        for value, y, colour, cls in (
            (row.first, middle - 8, LEVEL_COLOUR, "first"),
            (row.second, middle + 1, SECOND_COLOUR, "second"),
        ):
            if value is not None:
                body.append(
                    f'<rect class="{cls}" x="{num(x0)}" y="{num(y)}" '
                    f'width="{num(at(value) - x0)}" height="7" fill="{colour}"/>'
                )
            body.append(text_at(x1 + 8, y + 6.5, level_text(value), 9, fill=MUTED_COLOUR))
        if row.target is not None:
            x = at(row.target)
            body.append(
                f'<line class="target" x1="{num(x)}" y1="{num(middle - 12)}" x2="{num(x)}" '
                f'y2="{num(middle + 12)}" stroke="{TARGET_COLOUR}" stroke-width="2.5"/>'
            )
        body.append("</g>")

    first_swatch = f'<rect x="0.00" y="-4.00" width="18.00" height="8.00" fill="{LEVEL_COLOUR}"/>'
    second_swatch = f'<rect x="0.00" y="-4.00" width="18.00" height="8.00" fill="{SECOND_COLOUR}"/>'
    body += legend_row(
        [
            (first_swatch, first_label),
            (second_swatch, second_label),
            (TICK_SWATCH, _word("target", lang)),
        ],
        width / 2,
        height - 12,
        font,
    )

    def summary(row: PairRow) -> str:
        text = f"{row.label}: {first_label} {level_text(row.first)}, "
        text += f"{second_label} {level_text(row.second)}"
        if row.target is not None:
            text += f", {_word('target', lang)} {level_text(row.target)}"
        return text

    desc = "; ".join(summary(row) for row in rows)
    return document(width, height, title or f"{first_label} / {second_label}", desc, body)


def gap_class(level: float | None, target: float | None) -> int | None:
    """Palette index 0–4 for d = shown level (one decimal) − target, or None.

    d ≤ −1.5 → 0; −1.5 < d ≤ −0.5 → 1; −0.5 < d < 0.5 → 2; 0.5 ≤ d < 1.5 → 3; d ≥ 1.5 → 4.
    The rounded level is used so that the colour agrees with the number printed in the cell.
    """
    if level is None or target is None:
        return None
    d = round(float(level_text(level)) - target, 6)
    if d <= -1.5:
        return 0
    if d <= -0.5:
        return 1
    if d < 0.5:
        return 2
    return 3 if d < 1.5 else 4


HEAT_LEGEND = ("≤ −1.5", "−1.5 … −0.5", "±0.5", "+0.5 … +1.5", "≥ +1.5")


def heat_map(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[HeatCell]],
    *,
    lang: str = "en",
    title: str | None = None,
) -> str:
    """Members × competencies; each cell prints the level, coloured by level − target.

    `cells[r][c]` belongs to `rows[r]` and `columns[c]`. A cell without a level shows "—" on
    grey; a level without a target is printed on white. Colour bins: see `gap_class`.
    """
    if len(cells) != len(rows) or any(len(r) != len(columns) for r in cells):
        raise ValueError(f"cells must be {len(rows)} rows of {len(columns)} cells")
    font, cell_w, cell_h = 10.5, 46.0, 26.0
    label_width = max([text_width(r, font) for r in rows] + [60.0]) + 10
    label_width = min(label_width, 170.0)
    headers = [wrap(c, 200, font, max_lines=1)[0] for c in columns]
    slant = math.sin(math.radians(45))
    header_height = max([text_width(h, font) * slant for h in headers] + [20.0]) + 12
    top = header_height
    width = label_width + cell_w * len(columns) + header_height * 0.75
    height = top + cell_h * len(rows) + 62

    body: list[str] = []
    for c, header in enumerate(headers):
        x, y = label_width + cell_w * (c + 0.5), top - 6
        body.append(
            text_at(x, y, header, font, extra=f' transform="rotate(-45 {num(x)} {num(y)})"')
        )
    for r, name in enumerate(rows):
        y = top + cell_h * r
        label = wrap(name, label_width - 10, font, max_lines=1)[0]
        body.append(
            text_at(label_width - 8, y + cell_h / 2 + font * 0.35, label, font, anchor="end")
        )
        for c, cell in enumerate(cells[r]):
            x = label_width + cell_w * c
            bin_ = gap_class(cell.level, cell.target)
            fill = MISSING_FILL if cell.level is None else "#ffffff"
            ink = TEXT_COLOUR
            if bin_ is not None:
                fill, ink = GAP_PALETTE[bin_], GAP_TEXT[bin_]
            body.append(
                f'<rect class="cell" x="{num(x)}" y="{num(y)}" width="{num(cell_w)}" '
                f'height="{num(cell_h)}" fill="{fill}" stroke="#ffffff" stroke-width="1.5"/>'
            )
            body.append(
                text_at(
                    x + cell_w / 2,
                    y + cell_h / 2 + font * 0.35,
                    level_text(cell.level),
                    font,
                    anchor="middle",
                    fill=ink,
                )
            )

    key_y = top + cell_h * len(rows) + 22
    body.append(text_at(label_width, key_y, _word("heat_key", lang), font, fill=MUTED_COLOUR))
    swatch_w = 62.0
    for k, (colour, label) in enumerate(zip(GAP_PALETTE, HEAT_LEGEND, strict=True)):
        x = label_width + swatch_w * k
        body.append(
            f'<rect x="{num(x)}" y="{num(key_y + 8)}" width="{num(swatch_w - 4)}" height="18" '
            f'fill="{colour}" stroke="{GRID_COLOUR}" stroke-width="0.5"/>'
        )
        body.append(
            text_at(x + (swatch_w - 4) / 2, key_y + 21, label, 9, anchor="middle", fill=GAP_TEXT[k])
        )

    desc = "; ".join(
        f"{name} — "
        + ", ".join(
            _summary(column, cell.level, cell.target, lang)
            for column, cell in zip(columns, cells[r], strict=True)
        )
        for r, name in enumerate(rows)
    )
    return document(width, height, title or _word("heat", lang), desc, body)


def trend_line(
    points: Sequence[TrendPoint],
    *,
    scale_min: int,
    scale_max: int,
    target: float | None = None,
    width: float = 560,
    height: float = 220,
    lang: str = "en",
    title: str | None = None,
) -> str:
    """Levels over time, evenly spaced in the given order; a missing level breaks the line.

    Each point prints its level; an optional target is a dashed horizontal line. At most
    about eight date labels are printed (every k-th), so they never overlap.
    """
    _check_scale(scale_min, scale_max)
    _check_value(target, "target", scale_min, scale_max)
    for point in points:
        _check_value(point.level, f"level at {point.label!r}", scale_min, scale_max)

    left, right, top, bottom = 34.0, width - 16, 16.0, height - 34

    def y_at(value: float) -> float:
        return bottom - (bottom - top) * (value - scale_min) / (scale_max - scale_min)

    def x_at(index: int) -> float:
        if len(points) == 1:
            return (left + right) / 2
        return left + 12 + (right - left - 24) * index / (len(points) - 1)

    body: list[str] = []
    for tick in range(scale_min, scale_max + 1):
        y = y_at(tick)
        body.append(
            f'<line x1="{num(left)}" y1="{num(y)}" x2="{num(right)}" y2="{num(y)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="0.75"/>'
        )
        body.append(text_at(left - 6, y + 3, str(tick), 8.5, anchor="end", fill=MUTED_COLOUR))
    if target is not None:
        y = y_at(target)
        body.append(
            f'<line x1="{num(left)}" y1="{num(y)}" x2="{num(right)}" y2="{num(y)}" '
            f'stroke="{TARGET_COLOUR}" stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
        label = f"{_word('target', lang)} {level_text(target)}"
        body.append(text_at(right, y - 4, label, 9, anchor="end", fill=TARGET_COLOUR))
    if not points:
        body.append(
            text_at(
                (left + right) / 2,
                (top + bottom) / 2,
                _word("no_data", lang),
                12,
                anchor="middle",
                fill=MUTED_COLOUR,
            )
        )

    segment: list[tuple[float, float]] = []
    segments: list[list[tuple[float, float]]] = [segment]
    for i, point in enumerate(points):
        if point.level is None:
            segment = []
            segments.append(segment)
        else:
            segment.append((x_at(i), y_at(point.level)))
    for run in segments:
        if len(run) >= 2:
            body.append(
                f'<polyline class="trend" points="{coords(run)}" fill="none" '
                f'stroke="{LEVEL_COLOUR}" '
                f'stroke-width="2"/>'
            )
    step = max(1, math.ceil(len(points) / 8))
    for i, point in enumerate(points):
        x = x_at(i)
        if point.level is not None:
            y = y_at(point.level)
            body.append(
                f'<circle class="point" cx="{num(x)}" cy="{num(y)}" r="3" fill="{LEVEL_COLOUR}"/>'
            )
            body.append(text_at(x, y - 7, level_text(point.level), 9, anchor="middle"))
        # Counted from the end, so the latest point is always labelled.
        if (len(points) - 1 - i) % step == 0:
            label = wrap(point.label, (right - left) / min(len(points), 8), 9, max_lines=1)[0]
            body.append(text_at(x, bottom + 16, label, 9, anchor="middle", fill=MUTED_COLOUR))

    desc = "; ".join(f"{p.label}: {level_text(p.level)}" for p in points) or _word("no_data", lang)
    return document(width, height, title or _word("trend", lang), desc, body)
