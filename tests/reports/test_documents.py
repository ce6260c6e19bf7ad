"""Texts the reports shorten: work-sample headings and long answers."""

from __future__ import annotations

import pytest

from app.reports.documents import first_line, shorten


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short enough", 20, "short enough"),
        ("The campaign has ended. Here are the figures", 24, "The campaign has ended…"),
        ("活动已经结束。目标与实际数据如下", 8, "活动已经结束…"),
        ("产品为一款便携榨汁杯（约 300 毫升）", 12, "产品为一款便携榨汁杯…"),
        ("one two three four", 10, "one two t…"),
    ],
)
def test_a_cut_never_leaves_punctuation_before_the_ellipsis(
    text: str, limit: int, expected: str
) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("\n  Write a pitch.\nMore detail here", "Write a pitch."),
        ("A live stream produced:\n| PV | UV |", "A live stream produced…"),
        ("一场618护肤品直播的数据如下：\n| PV | UV |", "一场618护肤品直播的数据如下…"),
    ],
)
def test_a_heading_from_a_prompt_that_introduces_data_ends_in_an_ellipsis(
    prompt: str, expected: str
) -> None:
    assert first_line(prompt, 60) == expected
