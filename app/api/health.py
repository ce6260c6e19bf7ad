"""Liveness and readiness: the database answers and the rubric set is loaded."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from app.deps import SessionDep, SettingsDep
from app.rubrics import service as rubric_service

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str
    database: str
    rubrics: dict[str, str]


@router.get("/health", response_model=HealthOut)
def health(session: SessionDep, settings: SettingsDep) -> HealthOut:
    session.execute(text("SELECT 1"))
    rubrics = rubric_service.current_rubrics(settings.rubrics_dir)
    return HealthOut(
        status="ok",
        database=session.get_bind().dialect.name,
        rubrics={rubric_id: loaded.version for rubric_id, loaded in rubrics.items()},
    )
