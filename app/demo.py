"""Demo data for a first look at the service; safe to load twice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.config import Settings
from app.rubrics import service as rubric_service


def load(session: Session, settings: Settings) -> list[str]:
    """Pin the shipped rubric versions and return what was loaded, one line each."""
    lines = []
    for loaded in rubric_service.current_rubrics(settings.rubrics_dir).values():
        rubric_service.pin(session, loaded)
        lines.append(
            f"rubric {loaded.rubric.id} version {loaded.version[:12]}: "
            f"{len(loaded.rubric.roles)} roles, {len(loaded.rubric.items)} items"
        )
    return lines
