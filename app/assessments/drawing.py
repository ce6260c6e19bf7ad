"""Which items an assessment shows, in which order: pure and reproducible from a seed."""

from __future__ import annotations

import random
from collections.abc import Sequence

from app.rubrics.spec import Item, ItemType, ItemUse, RoleProfile, Rubric

SECTION_ORDER = (ItemType.KNOWLEDGE, ItemType.SITUATIONAL, ItemType.WORK_SAMPLE)


def draw_items(rubric: Rubric, role: RoleProfile, seed: int) -> list[str]:
    """Draw each blueprint entry's count from the hiring items of its competency and type.

    Items are grouped in sections (knowledge, situational, work samples) and shuffled within
    each section; the same rubric, role and seed always give the same list.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible order, not a secret
    drawn: dict[ItemType, list[str]] = {kind: [] for kind in SECTION_ORDER}
    for entry in role.blueprint:
        pool = sorted(
            item.id
            for item in rubric.items
            if item.competency == entry.competency
            and item.type is entry.type
            and ItemUse.HIRING in item.use
        )
        drawn[entry.type] += rng.sample(pool, entry.count)
    ordered: list[str] = []
    for kind in SECTION_ORDER:
        section = drawn[kind]
        rng.shuffle(section)
        ordered += section
    return ordered


def sections(rubric: Rubric, item_ids: Sequence[str]) -> list[tuple[ItemType, list[Item]]]:
    """The drawn items split into the candidate's pages, empty sections left out."""
    index = rubric.item_index()
    grouped = [
        (kind, [index[i] for i in item_ids if index[i].type is kind]) for kind in SECTION_ORDER
    ]
    return [(kind, items) for kind, items in grouped if items]
