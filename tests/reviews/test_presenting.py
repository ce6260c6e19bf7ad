"""The words a released result is shown with: figures per competency, agreement for staff
with its statistic and for the person reviewed without it."""

from __future__ import annotations

from typing import Any

import pytest

from app.reviews.presenting import (
    agreement_in_words,
    agreement_method,
    agreement_view,
    explanation,
)
from app.rubrics.spec import Text

LOW = {"interval": 0.4261, "ordinal": 0.43, "low": True, "pairable_units": 7}
FINE = {"interval": 0.8123, "ordinal": 0.8, "low": False, "pairable_units": 7}
TOO_FEW: dict[str, Any] = {"interval": None, "low": False, "pairable_units": 0}
ALL_SAME: dict[str, Any] = {"interval": None, "low": False, "pairable_units": 4}


@pytest.mark.parametrize(
    ("self_level", "others", "blind", "hidden", "expected"),
    [
        (
            4.0,
            2.6667,
            True,
            False,
            ("自评 4.0，他评 2.7：自评高出 1.3", "Self 4.0, others 2.7: self 1.3 higher"),
        ),
        (
            2.0,
            3.5,
            False,
            True,
            ("自评 2.0，他评 3.5：他评高出 1.5", "Self 2.0, others 3.5: others 1.5 higher"),
        ),
        (3.0, 3.5, False, False, None),
        (None, 3.0, False, False, None),
        (4.0, None, False, False, None),
    ],
)
def test_explanation_gives_only_the_figures(
    self_level: float | None,
    others: float | None,
    blind: bool,
    hidden: bool,
    expected: tuple[str, str] | None,
) -> None:
    text = explanation(self_level, others, blind, hidden)
    assert text == (None if expected is None else {"zh": expected[0], "en": expected[1]})


def test_staff_message_keeps_the_statistic() -> None:
    assert "α = 0.426 < 0.667" in agreement_view(LOW).message["en"]
    assert "α = 0.426" in agreement_view(LOW).message["zh"]
    assert "α = 0.812" in agreement_view(FINE).message["en"]
    assert "pairable units" in agreement_view(TOO_FEW).message["en"]


@pytest.mark.parametrize(
    ("raw", "en"),
    [
        (
            LOW,
            "Your raters see you quite differently from one another; read these levels "
            "together with examples.",
        ),
        (FINE, "Your raters broadly agree with one another."),
        (TOO_FEW, "Too few colleagues rated you to say how much they agree."),
        (
            ALL_SAME,
            "Your raters all gave the same levels, so there is no difference of view to weigh.",
        ),
    ],
)
def test_the_person_reviewed_reads_plain_words(raw: dict[str, Any], en: str) -> None:
    words: Text = agreement_in_words(agreement_view(raw))
    assert words["en"] == en
    for text in words.values():
        assert "α" not in text
        assert "pairable" not in text
        assert "可配对" not in text
        assert not any(ch.isdigit() for ch in text)


def test_the_statistic_moves_to_the_method_note() -> None:
    low = agreement_method(agreement_view(LOW))
    assert low["en"] == (
        "Krippendorff's α = 0.43 (over the others' ratings, self left out; below 0.667 "
        "counts as low agreement)."
    )
    assert "α = 0.43" in low["zh"]
    undefined = agreement_method(agreement_view(TOO_FEW))
    assert "undefined" in undefined["en"]
    assert "无法计算" in undefined["zh"]
