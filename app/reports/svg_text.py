"""SVG text drawn as one run when nothing asks for more (WeasyPrint 70's SVG `<text>`).

WeasyPrint lays out and draws SVG text one character at a time (a Pango layout and a text
object for each) so that it can honour per-character `x`/`y`/`dx`/`dy`/`rotate` lists,
`letter-spacing` and `textLength`. Chart labels use none of those: one `x`, one `y`. For such
text, `draw_run` lays out the whole string once and draws it as one run at the same place,
with the same cursor and bounding box bookkeeping, so text anchors and following text work as
before; any other text goes to WeasyPrint's own function. In a candidate report that is about
130 layouts fewer (measured: 1.5 % of its instructions).
"""

from __future__ import annotations

import sys
from math import inf
from typing import Any

import weasyprint.svg  # type: ignore[import-untyped]
from weasyprint.css.properties import INITIAL_VALUES  # type: ignore[import-untyped]
from weasyprint.draw.text import draw_emojis, draw_first_line  # type: ignore[import-untyped]
from weasyprint.matrix import Matrix  # type: ignore[import-untyped]
from weasyprint.svg.bounding_box import extend_bounding_box  # type: ignore[import-untyped]
from weasyprint.svg.utils import normalize, size  # type: ignore[import-untyped]
from weasyprint.text.line_break import split_first_line  # type: ignore[import-untyped]

# `weasyprint.svg.text` is the function the package imports, which hides the module's name.
_text_module = sys.modules["weasyprint.svg.text"]
stock_text = _text_module.text
# Attributes that place or stretch single characters: text with any of them is WeasyPrint's.
_PER_CHARACTER = ("dx", "dy", "rotate", "textLength", "letter-spacing")
_BASELINE_TOP = ("text-before-edge", "before_edge", "top", "hanging", "text-top")
_BASELINE_BOTTOM = ("text-after-edge", "after_edge", "bottom", "text-bottom")


def _single(node: Any, name: str) -> str | None:
    """The attribute's one value, "" if absent, None if it lists several."""
    if name not in node.attrib:
        return ""
    values = normalize(node.attrib[name]).strip().split(" ")
    return values[0] if len(values) == 1 else None


def _style(node: Any, svg: Any, font_size: float) -> Any:
    # As WeasyPrint's own SVG text builds it.
    style = _text_module.Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [
        font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")
    ]
    style["font_style"] = node.get("font-style", "normal")
    style["font_size"] = font_size
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    weight = node.get("font-weight", 400)
    if weight == "normal":
        style["font_weight"] = 400
    elif weight == "bold":
        style["font_weight"] = 700
    else:
        try:
            style["font_weight"] = int(weight)
        except ValueError:
            style["font_weight"] = 400
    return style


def _vertical_shift(node: Any, height: float, font_size: float) -> float:
    # WeasyPrint's approximations, kept as they are so that runs sit where glyphs did.
    ascent, descent = font_size * 0.8, font_size * 0.2
    anchor = node.get("display-anchor")
    baseline = node.get("dominant-baseline", node.get("alignment-baseline"))
    if anchor == "middle":
        return -height / 2
    if anchor == "top":
        return 0
    if anchor == "bottom":
        return -height
    if baseline in ("central", "middle"):
        return (ascent + descent) / 2 - descent
    if baseline in _BASELINE_TOP:
        return ascent
    if baseline in _BASELINE_BOTTOM:
        return -descent
    return 0


def draw_run(svg: Any, node: Any, font_size: float) -> None:
    """WeasyPrint's SVG text drawing, in one run for text placed by a single x and y."""
    x_value, y_value = _single(node, "x"), _single(node, "y")
    if (
        not node.text
        or x_value is None
        or y_value is None
        or any(node.get(name) is not None for name in _PER_CHARACTER)
    ):
        stock_text(svg, node, font_size)
        return

    style = _style(node, svg, font_size)
    layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, inf, 0)
    x = size(x_value, font_size, svg.inner_width) if x_value else None
    y = size(y_value, font_size, svg.inner_height) if y_value else None
    # A zero coordinate does not reset the pending shift: WeasyPrint tests truthiness too.
    if x:
        svg.cursor_d_position[0] = 0
    if y:
        svg.cursor_d_position[1] = 0
    x = svg.cursor_position[0] if x is None else x
    y = svg.cursor_position[1] if y is None else y
    svg.cursor_position = x + width, y
    x_position = x + svg.cursor_d_position[0]
    y_position = y + svg.cursor_d_position[1] + _vertical_shift(node, height, font_size)
    node.text_bounding_box = extend_bounding_box(
        node.text_bounding_box,
        (
            (x_position, y_position - baseline),
            (x_position + width, y_position - baseline + height),
        ),
    )

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    run = _text_module.TextBox(layout, style)
    run.baseline = baseline
    emojis = draw_first_line(
        svg.stream, run, "none", "none", Matrix(a=1, d=-1, e=x_position, f=y_position)
    )
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)


def install() -> None:
    """Draw SVG text through `draw_run` (the tag table, and the name the drawing code compares
    tags against, both point to it)."""
    tags = weasyprint.svg.TAGS
    for tag, function in list(tags.items()):
        if function is stock_text:
            tags[tag] = draw_run
    weasyprint.svg.text = draw_run
