"""A member's side of 360 reviews: "my reviews", nominating peers, and the rating form.

The form works without script (Save, then Submit with a confirmation); `reviews.js` adds
autosave through the JSON answer of `…/autosave`. Only the rater ever sees their answers:
anyone else asking for a form by its id gets 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.config import Settings
from app.deps import CsrfChecked, SessionDep, SettingsDep, Staff, WebStaff
from app.errors import AppError, Conflict
from app.reviews import service as review_service
from app.reviews.views import RatingForm
from app.web.reviews_cycles import OPEN, cycle_page_response, form_failed, nomination_choices
from app.web.reviews_shared import (
    FormDep,
    Msg,
    error_flash,
    error_text,
    field_errors,
    form_id,
    form_text,
    page,
    pick,
    redirect,
)
from app.web.templating import when

router = APIRouter(include_in_schema=False)

NOT_OBSERVED = "na"
CHOOSE_PEER: Msg = ("请选择要提名的同事。", "Choose the colleague to nominate.")
CHOOSE_LEVEL: Msg = (
    "请选择量表中的一个等级或“未观察到”。",
    'Choose a level of the scale or "not observed".',
)
CONFIRM_SUBMIT: Msg = (
    "请勾选确认后再提交：提交后评分不能再修改。你的答案已保存。",
    "Tick the box to confirm before submitting: ratings cannot change afterwards. "
    "Your answers were saved.",
)
SAVED_AT: Msg = ("已自动保存 · {}", "Saved automatically · {}")


# ── my reviews ──────────────────────────────────────────────────────────────────────────


def my_reviews_page(
    request: Request,
    session: Session,
    settings: Settings,
    staff: Staff,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
    flash: dict[str, str] | None = None,
) -> HTMLResponse:
    tasks = review_service.list_tasks(session, staff.user)
    cycles = review_service.list_cycles(session, staff.user)
    nominations = []
    for cycle in cycles:
        if cycle.status != OPEN:
            continue
        view = review_service.get_cycle(session, staff.user, cycle.id)
        mine = next((r for r in view.ratees if r.user_id == staff.id), None)
        if view.can_nominate and mine is not None:
            choices = nomination_choices(session, staff, settings, view)
            nominations.append({"cycle": view.cycle, "mine": mine, "choices": choices})
    context: dict[str, Any] = {
        "to_do": [t for t in tasks if t.state == "to_do"],
        "done": [t for t in tasks if t.state != "to_do"],
        "cycles": cycles,
        "nominations": nominations,
        "results": review_service.list_my_results(session, staff.user),
        "values": values or {},
        "errors": errors or {},
    }
    if flash is not None:
        context["flash"] = flash
    return page(request, staff, "my_reviews.html", context, notice=notice, status_code=status_code)


@router.get("/staff/reviews", response_class=HTMLResponse)
def my_reviews(
    request: Request, session: SessionDep, settings: SettingsDep, staff: WebStaff, notice: str = ""
) -> HTMLResponse:
    return my_reviews_page(request, session, settings, staff, notice=notice)


@router.post("/staff/cycles/{cycle_id:rowid}/nominations", response_model=None)
def nominate(
    request: Request,
    cycle_id: int,
    session: SessionDep,
    settings: SettingsDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    rater_id = form_id(form, "rater_id")
    scope = f"nominate-{cycle_id}"
    values = {f"{scope}.rater_id": form_text(form, "rater_id")}
    # The form sits on "my reviews" and on the cycle page: back to where it was sent from.
    from_reviews = form_text(form, "back") == "reviews"
    if rater_id is None:
        review_service.get_cycle(session, staff.user, cycle_id)  # 404 before 422
        errors = {f"{scope}.rater_id": pick(request, CHOOSE_PEER)}
    else:
        try:
            review_service.nominate(session, staff.user, cycle_id, rater_id)
        except AppError as error:
            if not from_reviews:
                return form_failed(
                    request, session, settings, staff, cycle_id, error, scope, values
                )
            if error.field is None and isinstance(error, Conflict):
                # Closed meanwhile: "my reviews" again, saying so.
                return my_reviews_page(
                    request,
                    session,
                    settings,
                    staff,
                    flash=error_flash(request, error),
                    status_code=error.status_code,
                )
            if error.field is None:
                raise
            errors = {f"{scope}.{k}": v for k, v in field_errors(request, error).items()}
        else:
            return redirect(
                "/staff/reviews" if from_reviews else f"/staff/cycles/{cycle_id}",
                "nominated",
                scope,
            )
    if from_reviews:
        return my_reviews_page(
            request, session, settings, staff, values=values, errors=errors, status_code=422
        )
    return cycle_page_response(
        request, session, settings, staff, cycle_id, values=values, errors=errors, status_code=422
    )


# ── the rating form ─────────────────────────────────────────────────────────────────────


def _stored_values(form: RatingForm) -> dict[str, str]:
    """The rater's saved answers as the form's fields: `level.<id>` and `comment.<id>`."""
    values = {}
    for dimension in form.dimensions:
        for competency in dimension.competencies:
            answer = competency.answer
            if answer is None:
                continue
            level = NOT_OBSERVED if answer.not_observed else str(answer.level or "")
            values[f"level.{competency.id}"] = level
            values[f"comment.{competency.id}"] = answer.comment
    return values


def _answers(
    request: Request, rating: RatingForm, form: FormData
) -> tuple[dict[str, review_service.AnswerInput], dict[str, str], dict[str, str]]:
    """(answers, values as typed, errors) for every competency of the form."""
    answers, values, errors = {}, {}, {}
    scale = {str(level.value) for level in rating.scale}
    for dimension in rating.dimensions:
        for competency in dimension.competencies:
            level = form_text(form, f"level.{competency.id}")
            raw_comment = form.get(f"comment.{competency.id}")
            comment = raw_comment if isinstance(raw_comment, str) else ""
            values[f"level.{competency.id}"] = level
            values[f"comment.{competency.id}"] = comment
            if level and level != NOT_OBSERVED and level not in scale:
                errors[f"answers.{competency.id}"] = pick(request, CHOOSE_LEVEL)
                continue
            answers[competency.id] = review_service.AnswerInput(
                level=int(level) if level in scale else None,
                not_observed=level == NOT_OBSERVED,
                comment=comment,
            )
    return answers, values, errors


def last_saved(rating: RatingForm) -> datetime | None:
    return max(
        (c.answer.saved_at for d in rating.dimensions for c in d.competencies if c.answer),
        default=None,
    )


def _form_page(
    request: Request,
    staff: Staff,
    rating: RatingForm,
    values: Mapping[str, str],
    *,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
    notice: str | None = None,
    flash: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "form": rating,
        "values": values,
        "errors": errors or {},
        "confirmed": values.get("confirm") == "1",
        "not_observed": NOT_OBSERVED,
        "last_saved": last_saved(rating),
    }
    if flash is not None:
        context["flash"] = flash
    return page(request, staff, "rate.html", context, notice=notice, status_code=status_code)


def _path(request_id: int) -> str:
    return f"/staff/reviews/requests/{request_id}"


@router.get("/staff/reviews/requests/{request_id:rowid}", response_class=HTMLResponse)
def rating_form(
    request: Request, request_id: int, session: SessionDep, staff: WebStaff, notice: str = ""
) -> HTMLResponse:
    rating = review_service.get_form(session, staff.user, request_id)
    return _form_page(request, staff, rating, _stored_values(rating), notice=notice)


def _answer_errors(request: Request, error: AppError) -> dict[str, str]:
    """Service fields `answers.<id>[.level|.comment]` shown once per competency."""
    errors: dict[str, str] = {}
    for field, text in field_errors(request, error).items():
        if field.startswith("answers."):
            key = ".".join(field.split(".")[:2])
            errors.setdefault(key, text)
        else:
            errors[field] = text
    return errors


@router.post("/staff/reviews/requests/{request_id:rowid}", response_model=None)
def save_or_submit(
    request: Request,
    request_id: int,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    rating = review_service.get_form(session, staff.user, request_id)
    answers, values, errors = _answers(request, rating, form)
    submitting = form_text(form, "action") == "submit"
    values["confirm"] = form_text(form, "confirm")
    if not rating.editable:
        # Submitted or closed meanwhile (another tab): say so over the read-only form.
        conflict = {
            "kind": "error",
            "text": pick(
                request,
                (
                    "这份评分已不能修改（已提交，或评估周期已结束）。",
                    "This form can no longer change: it was submitted or the cycle closed.",
                ),
            ),
        }
        return _form_page(
            request, staff, rating, _stored_values(rating), flash=conflict, status_code=409
        )
    try:
        # Whatever else is wrong, what was typed is kept as a draft.
        rating = review_service.save_answers(session, staff.user, request_id, answers)
        if errors:
            return _form_page(request, staff, rating, values, errors=errors, status_code=422)
        if not submitting:
            return redirect(_path(request_id), "saved")
        if values["confirm"] != "1":
            errors = {"confirm": pick(request, CONFIRM_SUBMIT)}
            return _form_page(request, staff, rating, values, errors=errors, status_code=422)
        review_service.submit(session, staff.user, request_id)
    except AppError as error:
        if error.field is None:
            raise
        errors = {**errors, **_answer_errors(request, error)}
        return _form_page(request, staff, rating, values, errors=errors, status_code=422)
    return redirect(_path(request_id), "submitted")


@router.post("/staff/reviews/requests/{request_id:rowid}/autosave", response_model=None)
def autosave(
    request: Request,
    request_id: int,
    session: SessionDep,
    staff: WebStaff,
    _csrf: CsrfChecked,
    form: FormDep,
) -> Response:
    """The form's fields, saved as a draft; JSON for `reviews.js` in the page's language."""
    try:
        rating = review_service.get_form(session, staff.user, request_id)
        answers, _, errors = _answers(request, rating, form)
        if errors:
            return JSONResponse({"errors": errors}, status_code=422)
        rating = review_service.save_answers(session, staff.user, request_id, answers)
    except AppError as error:
        errors = _answer_errors(request, error) if error.field else {}
        message = error_text(request, error.field, error.message)
        return JSONResponse({"message": message, "errors": errors}, status_code=error.status_code)
    return JSONResponse(
        {
            "status": pick(request, SAVED_AT).format(when(last_saved(rating))),
            "answered": rating.answered,
            "total": rating.total,
        },
        headers={"Cache-Control": "no-store"},
    )
