"""A working cache for the HTML parser WeasyPrint uses (tinyhtml5 2.1).

`HTMLInputStream.chars_until` caches one compiled pattern per set of stop characters, but
stores it under the pattern instead of the characters (`characters = cache[key] = regex`
rebinds `characters` before the key is built), so every call misses and builds its pattern
again: about 1,500 times per candidate report, 7 of its 16 ms of parsing. Here the cache
builds and keeps each pattern under the key it is looked up by; the patterns are the ones
tinyhtml5 builds, so documents parse exactly as before (tests/reports/test_html_parsing.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import tinyhtml5.inputstream  # type: ignore[import-untyped]


class StopCharacterPatterns(dict[tuple[Iterable[str], bool], re.Pattern[str]]):
    """`(characters, opposite)` → the pattern matching a run of characters up to (or, when
    `opposite`, made of) the given characters, built on first use."""

    def __missing__(self, key: tuple[Iterable[str], bool]) -> re.Pattern[str]:
        characters, opposite = key
        escaped = "".join(f"\\x{ord(character):02x}" for character in characters)
        pattern = re.compile(f"[{escaped}]+" if opposite else f"[^{escaped}]+")
        self[key] = pattern
        return pattern


def install() -> None:
    """Put the working cache in place (once; later calls keep the filled one)."""
    if not isinstance(tinyhtml5.inputstream.characters_until_regex, StopCharacterPatterns):
        tinyhtml5.inputstream.characters_until_regex = StopCharacterPatterns()
