"""What every report shares: the document handed to the renderer, texts in one language, and
the download file name (ASCII fallback plus RFC 5987 `filename*`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

LANGS = ("zh", "en")
# Characters no file system or header should see in a name: separators, quotes, controls.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f;,%]+')
NAME_MAX = 60


@dataclass(frozen=True)
class Document:
    """A report ready to render: its template, context (with `lang` and `title`) and file name."""

    template: str
    context: Mapping[str, Any]
    title: str
    lang: str
    # Without extension; may hold Chinese (see `content_disposition`).
    filename: str


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def pick(text: Mapping[str, str] | None, lang: str) -> str:
    """A rubric text in `lang`, falling back to English, then to any language it has."""
    if not text:
        return ""
    return text.get(lang) or text.get("en") or next(iter(text.values()), "")


# Dropped before an added "…", which would read oddly after them ("ended.…", "如下：…",
# "榨汁杯（…").
_TRAILING_PUNCTUATION = ".,;:，。；：、([“‘（《「"


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at the limit with "…" (punctuation just before the cut
    dropped); whitespace runs kept as they are."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip().rstrip(_TRAILING_PUNCTUATION).rstrip() + "…"


def first_line(text: str, limit: int) -> str:
    """The first non-empty line, shortened: a title for a long prompt. A line that ends in a
    colon introduces what follows, so "…" takes the colon's place."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if line.endswith((":", "：")):
        return shorten(line[:-1].rstrip() + "…", limit)
    return shorten(line, limit)


def day(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d") if value else "—"


def decimal(value: float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def name_part(name: str) -> str:
    """A person's or team's name as part of a file name: unsafe characters and spaces → "-"."""
    cleaned = _UNSAFE_NAME.sub("-", unicodedata.normalize("NFC", name))
    cleaned = re.sub(r"[\s-]+", "-", cleaned).strip("-.")
    return cleaned[:NAME_MAX].rstrip("-.")


def filename(stem: str, name: str = "") -> str:
    part = name_part(name)
    return f"{stem}-{part}" if part else stem


def content_disposition(name: str, extension: str = "pdf") -> str:
    """`attachment` with an ASCII-only `filename` and the full UTF-8 name in `filename*`.

    Browsers that understand RFC 6266/5987 use `filename*`; older ones get the ASCII name, in
    which every non-ASCII character became "_" (so "张伟" still leaves a readable stem).
    """
    full = f"{name}.{extension}"
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in full)
    ascii_name = re.sub(r"_+", "_", ascii_name)
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != full:
        value += f"; filename*=UTF-8''{quote(full, safe='')}"
    return value
