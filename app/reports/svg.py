"""SVG building blocks for the report charts: fixed-decimal numbers, escaped text, layout.

Pure: no I/O. Markup uses presentation attributes only (no `style`), so it passes the site's
CSP and WeasyPrint alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from html import escape

# WeasyPrint splits this attribute on commas without trimming, so no spaces and no quotes.
FONT_FAMILY = "Noto Sans CJK SC,Noto Sans CJK JP,sans-serif"
TEXT_COLOUR = "#1d2430"
# Characters XML 1.0 forbids (controls, surrogates, U+FFFE/U+FFFF): dropped from labels.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def safe_text(text: str) -> str:
    """Escaped for element text and attribute values, with XML-forbidden characters dropped."""
    return escape(_NOT_XML.sub("", text))


def num(value: float, decimals: int = 2) -> str:
    """Fixed decimals, and never "-0.00", so equal inputs give byte-equal markup."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def level_text(value: float | None) -> str:
    """Levels are shown with one decimal (ARCHITECTURE §3); no level is an em dash."""
    return "—" if value is None else num(value, 1)


def text_width(text: str, font_size: float) -> float:
    """Estimated advance: 1 em for wide (CJK) characters, 0.6 em for the rest."""
    wide = sum(1 for char in text if unicodedata.east_asian_width(char) in "WF")
    return font_size * (wide + 0.6 * (len(text) - wide))


def _tokens(text: str) -> Iterator[str]:
    """Break opportunities: spaces between words, and between any two wide characters."""
    word = ""
    for char in text:
        if char.isspace():
            if word:
                yield word
            word = ""
            yield " "
        elif unicodedata.east_asian_width(char) in "WF":
            yield word + char
            word = ""
        else:
            word += char
    if word:
        yield word


def wrap(text: str, max_width: float, font_size: float, max_lines: int = 2) -> list[str]:
    """Greedy line breaking by estimated width; the last line ends in "…" if text is left."""
    lines: list[str] = []
    line = ""
    for token in _tokens(" ".join(text.split())):
        candidate = line + token
        if line.strip() and text_width(candidate.rstrip(), font_size) > max_width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line = candidate
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", font_size) > max_width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return lines or [""]


def document(width: float, height: float, title: str, desc: str, body: Sequence[str]) -> str:
    """A standalone <svg> with an accessible name (<title>) and a text summary (<desc>)."""
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
            f'width="{num(width)}" height="{num(height)}" '
            f'viewBox="0 0 {num(width)} {num(height)}" font-family="{FONT_FAMILY}" '
            f'fill="{TEXT_COLOUR}">',
            f"<title>{safe_text(title)}</title>",
            f"<desc>{safe_text(desc)}</desc>",
            *body,
            "</svg>",
        ]
    )


def text_at(
    x: float,
    y: float,
    content: str,
    size: float,
    *,
    anchor: str = "start",
    fill: str | None = None,
    bold: bool = False,
    extra: str = "",
) -> str:
    attrs = f'x="{num(x)}" y="{num(y)}" font-size="{num(size)}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if fill:
        attrs += f' fill="{fill}"'
    if bold:
        attrs += ' font-weight="bold"'
    return f"<text {attrs}{extra}>{safe_text(content)}</text>"


def coords(pts: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{num(x)},{num(y)}" for x, y in pts)


def shape(pts: Sequence[tuple[float, float]], attrs: str) -> str:
    """A closed polygon for three or more points, a line for two, nothing for fewer."""
    if len(pts) >= 3:
        return f'<polygon points="{coords(pts)}" {attrs}/>'
    if len(pts) == 2:
        return f'<polyline points="{coords(pts)}" {attrs}/>'
    return ""


def legend_row(
    items: Sequence[tuple[str, str]], centre_x: float, y: float, size: float
) -> list[str]:
    """Swatch + label pairs centred on `centre_x`; a swatch is a markup string drawn at 0,0."""
    gap, swatch = 18.0, 18.0
    widths = [swatch + 5 + text_width(label, size) for _, label in items]
    x = centre_x - (sum(widths) + gap * (len(items) - 1)) / 2
    out: list[str] = []
    for (mark, label), width in zip(items, widths, strict=True):
        out.append(f'<g transform="translate({num(x)} {num(y)})">{mark}</g>')
        out.append(text_at(x + swatch + 5, y + size * 0.35, label, size))
        x += width + gap
    return out
