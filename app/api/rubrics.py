"""Read-only rubric catalogue: which frameworks, roles and versions the service runs with."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.errors import error_responses
from app.deps import SettingsDep
from app.rubrics import service as rubric_service
from app.rubrics.schemas import RubricOut, RubricSummaryOut

router = APIRouter(prefix="/rubrics", tags=["rubrics"], responses=error_responses(404, 422))


@router.get("", response_model=list[RubricSummaryOut])
def list_rubrics(settings: SettingsDep) -> list[RubricSummaryOut]:
    rubrics = rubric_service.current_rubrics(settings.rubrics_dir)
    return [RubricSummaryOut.of(loaded) for loaded in rubrics.values()]


@router.get("/{rubric_id}", response_model=RubricOut)
def get_rubric(rubric_id: str, settings: SettingsDep) -> RubricOut:
    return RubricOut.of(rubric_service.get_current(settings.rubrics_dir, rubric_id))
