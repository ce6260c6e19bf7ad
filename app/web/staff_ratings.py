"""The rating queue and the rating form, for any staff user assigned as a rater.

Raters work blind: the form shows the item, the scale and the answer, never the candidate,
a score or another rater's rating. Tasks not assigned to the user are 404.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.assessments import service as assessment_service
from app.assessments.service import RATING_NOTE_MAX, FieldErrors
from app.assessments.views import RatingTask
from app.deps import CsrfChecked, SessionDep, Staff, WebStaff
from app.web.staff_shared import FormDep, Msg, form_text, notice_flash, page, pick, redirect

router = APIRouter(include_in_schema=False)

CRITERION_FIELD = "criteria."
PICK_LEVEL: Msg = ("请为这一项评分标准选择一个等级。", "Pick a level for this criterion.")
UNKNOWN_LEVEL: Msg = (
    "所选等级不属于这一项评分标准，请重新选择。",
    "That level is not one of this criterion's; pick again.",
)
NOTE_TOO_LONG: Msg = (
    f"备注最多 {RATING_NOTE_MAX} 个字符。",
    f"The note can have at most {RATING_NOTE_MAX} characters.",
)


def task_path(assessment_id: int, item_id: str) -> str:
    return f"/staff/ratings/{assessment_id}/{item_id}"


@router.get("/staff/ratings", response_class=HTMLResponse)
def queue(request: Request, session: SessionDep, staff: WebStaff, notice: str = "") -> HTMLResponse:
    entries = assessment_service.rating_queue(session, staff.user)
    return page(
        request, staff, "queue.html", {"queue": entries, "flash": notice_flash(request, notice)}
    )


def _form_page(
    request: Request,
    staff: Staff,
    task: RatingTask,
    *,
    chosen: Mapping[str, str],
    note: str,
    errors: Mapping[str, str] | None = None,
    flash: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        staff,
        "rate.html",
        {
            "task": task,
            "chosen": chosen,
            "note": note,
            "errors": errors or {},
            "flash": flash,
            "note_max": RATING_NOTE_MAX,
            "action": task_path(task.assessment_id, task.item_id),
        },
        status_code=status_code,
    )


@router.get("/staff/ratings/{assessment_id:int}/{item_id}", response_class=HTMLResponse)
def rating_form(
    request: Request,
    assessment_id: int,
    item_id: str,
    session: SessionDep,
    staff: WebStaff,
    notice: str = "",
) -> HTMLResponse:
    task = assessment_service.get_rating_task(session, staff.user, assessment_id, item_id)
    own = task.own_rating
    return _form_page(
        request,
        staff,
        task,
        chosen=dict(own.criteria) if own else {},
        note=own.note if own else "",
        flash=notice_flash(request, notice),
    )


def _next_task(session: Session, staff: Staff) -> str | None:
    upcoming = assessment_service.rating_queue(session, staff.user)
    return task_path(upcoming[0].assessment_id, upcoming[0].item_id) if upcoming else None


def _error_text(request: Request, key: str, chosen: Mapping[str, str]) -> str:
    if key == "note":
        return pick(request, NOTE_TOO_LONG)
    given = chosen.get(key.removeprefix(CRITERION_FIELD))
    return pick(request, UNKNOWN_LEVEL if given else PICK_LEVEL)


@router.post("/staff/ratings/{assessment_id:int}/{item_id}", response_model=None)
def save_rating(
    request: Request,
    assessment_id: int,
    item_id: str,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    chosen = {
        key.removeprefix(CRITERION_FIELD): value
        for key, value in form.multi_items()
        if key.startswith(CRITERION_FIELD) and isinstance(value, str) and value
    }
    note = form_text(form, "note")
    try:
        assessment_service.save_rating(session, staff.user, assessment_id, item_id, chosen, note)
    except FieldErrors as error:
        task = assessment_service.get_rating_task(session, staff.user, assessment_id, item_id)
        errors = {key: _error_text(request, key, chosen) for key in error.errors}
        return _form_page(
            request, staff, task, chosen=chosen, note=note, errors=errors, status_code=422
        )
    following = _next_task(session, staff)
    if following is None:
        return redirect("/staff/ratings", "rated_last")
    return redirect(following, "rated")
