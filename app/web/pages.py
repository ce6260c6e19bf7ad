"""Public pages: the home page with the rubric set the service runs with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.deps import SettingsDep, Staff, optional_staff
from app.rubrics import service as rubric_service
from app.web.nul_characters import refuse_nul_characters
from app.web.templating import language, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(refuse_nul_characters())])


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    settings: SettingsDep,
    # Signed-in staff see their navigation here too, not a "sign in" button.
    staff: Annotated[Staff | None, Depends(optional_staff)],
) -> HTMLResponse:
    rubrics = rubric_service.current_rubrics(settings.rubrics_dir)
    return templates.TemplateResponse(
        request,
        "home.html",
        {"lang": language(request), "rubrics": list(rubrics.values()), "staff": staff},
    )
