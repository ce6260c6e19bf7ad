"""Practice rules, pure: which items may be practised, how an answer scores, what feedback says.

Only auto-scored items (knowledge, situational) flagged `practice` and NOT flagged `hiring`
are practised: an item anyone can rehearse at will would be worthless in a hiring bank.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.rubrics.spec import Item, ItemType, ItemUse, Rubric, Text

AUTO_SCORED = frozenset({ItemType.KNOWLEDGE, ItemType.SITUATIONAL})


def is_practice_item(item: Item) -> bool:
    return (
        item.type in AUTO_SCORED and ItemUse.PRACTICE in item.use and ItemUse.HIRING not in item.use
    )


def practice_items(rubric: Rubric, competency: str) -> list[Item]:
    """The practisable items of `competency`, in rubric order."""
    return [i for i in rubric.items if i.competency == competency and is_practice_item(i)]


def selection_problem(item: Item, selected: Sequence[str]) -> Text | None:
    """What is wrong with `selected` as an answer to `item`, or None when it can be scored."""
    if not selected:
        return {"zh": "请选择一个选项。", "en": "Choose an option."}
    unknown = [o for o in selected if o not in item.option_points]
    if unknown:
        listed = ", ".join(unknown)
        return {"zh": f"没有这个选项：{listed}", "en": f"No such option: {listed}"}
    if len(set(selected)) != len(selected):
        return {"zh": "同一选项选了两次。", "en": "An option is selected twice."}
    if item.select == "single" and len(selected) > 1:
        return {"zh": "这道题只能选一个选项。", "en": "This question takes one option only."}
    return None


@dataclass(frozen=True)
class Scored:
    points: float
    maximum: float

    @property
    def fraction(self) -> float:
        return self.points / self.maximum


def score(item: Item, selected: Sequence[str]) -> Scored:
    """The rule of ARCHITECTURE §3: Σ points of the selected options, clipped to [0, m_i]."""
    raw = sum(item.option_points[o] for o in selected)
    return Scored(min(max(raw, 0.0), item.maximum), item.maximum)


def best_options(item: Item) -> frozenset[str]:
    """Single choice: the options worth the most; multiple choice: every option worth points."""
    if item.select == "multiple":
        return frozenset(o.id for o in item.options if o.points > 0)
    top = max(o.points for o in item.options)
    return frozenset(o.id for o in item.options if o.points == top)


@dataclass(frozen=True)
class OptionFeedback:
    id: str
    text: Text
    points: float
    selected: bool
    best: bool
    rationale: Text | None


@dataclass(frozen=True)
class Feedback:
    """Shown right after an answer: the score, the explanation and every option's worth."""

    item_id: str
    points: float
    maximum: float
    fraction: float
    # Full marks.
    correct: bool
    explanation: Text
    options: tuple[OptionFeedback, ...]


def feedback(item: Item, selected: Sequence[str], scored: Scored | None = None) -> Feedback:
    scored = scored or score(item, selected)
    best = best_options(item)
    chosen = set(selected)
    return Feedback(
        item_id=item.id,
        points=scored.points,
        maximum=scored.maximum,
        fraction=scored.fraction,
        correct=math.isclose(scored.points, scored.maximum),
        explanation=dict(item.explanation),
        options=tuple(
            OptionFeedback(
                id=o.id,
                text=dict(o.text),
                points=o.points,
                selected=o.id in chosen,
                best=o.id in best,
                rationale=dict(o.rationale) if o.rationale else None,
            )
            for o in item.options
        ),
    )


def running_score(answers: Iterable[tuple[float, float]]) -> float | None:
    """Σ w_i f_i / Σ w_i over answered items as (weight, fraction) pairs; None before any.

    The same weighting as a competency fraction (§3), but over what was answered only: a
    practice score is a share of points (0–1), never a level, so nobody mistakes it for one.
    """
    pairs = list(answers)
    total = math.fsum(w for w, _ in pairs)
    if not pairs or total == 0:
        return None
    return math.fsum(w * f for w, f in pairs) / total
