"""The user-agent stylesheet reports are rendered with: WeasyPrint's own, minus what they never use.

A rule whose selector is a bare pseudo-element (`::marker`, `::footnote-call`, …) matches every
element, and WeasyPrint computes a style for each pseudo-element of each element it matches:
six extra styles per element with the stock sheet, about 3 % of a candidate report's work.
Reports have no footnotes or notes (nothing floats to `footnote`) and only `<li>` elements are
list items, so the five note and footnote rules are dropped and the marker rule is scoped to
`li`. The rest is the installed WeasyPrint's own stylesheet text, so an upgrade brings its rules.
"""

from __future__ import annotations

import re
from typing import Any

import weasyprint.html  # type: ignore[import-untyped]
from weasyprint import HTML

_NOTE_RULES = re.compile(r"^::(?:footnote|note)-[a-z]+ \{[^}]*\}\n", re.MULTILINE)
_MARKER_RULE = re.compile(r"^::marker \{", re.MULTILINE)


def report_rules(stock: str = weasyprint.html.UA) -> str:
    """The stock stylesheet's text without the note rules, and with `li::marker`.

    Raises ValueError if the stock sheet no longer has exactly the rules this changes.
    """
    lean, notes = _NOTE_RULES.subn("", stock)
    lean, markers = _MARKER_RULE.subn("li::marker {", lean)
    if (notes, markers) != (5, 1):
        raise ValueError(
            "WeasyPrint's html5_ua.css changed: expected 5 footnote/note rules and one "
            f"'::marker' rule, found {notes} and {markers}"
        )
    return lean


class ReportHTML(HTML):  # type: ignore[misc]
    """An HTML document styled with the given user-agent sheet instead of the stock one."""

    def __init__(self, *args: Any, user_agent_sheet: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._user_agent_sheet = user_agent_sheet

    def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
        # `forms` would add the form-control rules; reports have no forms.
        return [self._user_agent_sheet]
