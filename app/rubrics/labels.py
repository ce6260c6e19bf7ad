"""Bilingual labels looked up in a rubric, falling back to the id when a rubric lacks it.

Pure: pages, API views and reports of every domain name roles, competencies and bands the same way.
"""

from __future__ import annotations

from app.rubrics.spec import Rubric, Text


def t(zh: str, en: str) -> Text:
    return {"zh": zh, "en": en}


def role_name(rubric: Rubric | None, role_id: str) -> Text:
    """The role's name in the pinned rubric, or its id when the rubric no longer has it."""
    if rubric is not None:
        for role in rubric.roles:
            if role.id == role_id:
                return dict(role.name)
    return t(role_id, role_id)


def competency_name(rubric: Rubric | None, competency_id: str) -> Text:
    """The competency's name in `rubric`, or its id when the rubric no longer has it."""
    if rubric is not None and competency_id in rubric.competency_index():
        return dict(rubric.competency(competency_id).name)
    return t(competency_id, competency_id)


def band_label(rubric: Rubric | None, role_id: str, band_id: str | None) -> Text | None:
    """The decision band's label, its id when the rubric lacks it, None when there is no band."""
    if rubric is None or band_id is None:
        return None
    for role in rubric.roles:
        if role.id == role_id:
            for band in role.bands:
                if band.id == band_id:
                    return dict(band.label)
    return t(band_id, band_id)
