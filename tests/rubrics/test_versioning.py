"""A rubric's version follows its content, never its layout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.rubrics.loader import parse_rubric
from app.rubrics.versioning import (
    content_version,
    normalised_json,
    rubric_from_json,
    short_version,
)

MINIMAL = (Path(__file__).resolve().parents[2] / "rubrics" / "examples" / "minimal.yaml").read_text(
    encoding="utf-8"
)
VERSION = content_version(parse_rubric(MINIMAL, "minimal.yaml"))


def edited(*changes: tuple[str, str]) -> str:
    text = MINIMAL
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


SAME_CONTENT = {
    "comments and blank lines": edited(("scale:\n", "# the scale\n\nscale:\n")),
    "top-level key order": edited(
        ("languages: [zh, en]\n", ""),
        ("schema_version: 1\n", "languages: [zh, en]\nschema_version: 1\n"),
    ),
    "key order in a flow mapping": edited(
        (
            "{target: 2, weight: 2, critical: true, tolerance: 0.5}",
            "{tolerance: 0.5, critical: true, weight: 2, target: 2}",
        )
    ),
    "block instead of flow style": edited(
        ("name: {zh: 专业技能, en: Craft}", "name:\n      zh: 专业技能\n      en: Craft")
    ),
    "quoting and spacing": edited(("  - id: craft\n", '  - id:    "craft"\n')),
    "2.0 for 2": edited(("{target: 2, weight: 1}", "{target: 2.0, weight: 1.0}")),
    "a default written out": edited(
        ("editing: {target: 2, weight: 1}", "editing: {target: 2, weight: 1, critical: false}")
    ),
}

OTHER_CONTENT = {
    "a translation": edited(("en: Craft}", "en: Crafts}")),
    "a weight": edited(("{target: 2, weight: 1}", "{target: 2, weight: 1.5}")),
    "the order of a list": edited(("use: [hiring, practice]", "use: [practice, hiring]")),
}


@pytest.mark.parametrize("text", SAME_CONTENT.values(), ids=SAME_CONTENT.keys())
def test_layout_changes_keep_the_version(text: str) -> None:
    assert content_version(parse_rubric(text, "x.yaml")) == VERSION


@pytest.mark.parametrize("text", OTHER_CONTENT.values(), ids=OTHER_CONTENT.keys())
def test_content_changes_change_the_version(text: str) -> None:
    assert content_version(parse_rubric(text, "x.yaml")) != VERSION


def test_the_version_is_the_sha256_of_compact_sorted_json() -> None:
    rubric = parse_rubric(MINIMAL, "minimal.yaml")
    text = normalised_json(rubric)

    assert re.fullmatch("[0-9a-f]{64}", VERSION)
    assert short_version(VERSION) == VERSION[:12]
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert '"from":1' in text
    assert "文案写作（示例）" in text


def test_a_snapshot_rebuilds_the_same_rubric_and_version() -> None:
    rubric = parse_rubric(MINIMAL, "minimal.yaml")

    rebuilt = rubric_from_json(normalised_json(rubric))

    assert rebuilt == rubric
    assert content_version(rebuilt) == VERSION
