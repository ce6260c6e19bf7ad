"""The candidate's pages, reached through the private invite link (no account).

The token in the URL is the credential, so the forms carry no CSRF token; unsafe requests
are still refused when the browser says they came from another site.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.assessments import candidate as candidate_service
from app.assessments.candidate import (
    AnswerProblem,
    AnswersClosed,
    AnswersRefused,
    InviteExpired,
    InviteNotFound,
    InviteRevoked,
    NotStarted,
    Progress,
    SavedAnswer,
    TimeUp,
)
from app.assessments.models import Assessment
from app.assessments.states import Status
from app.db import run_in_slot, utcnow
from app.deps import SessionDep, SettingsDep, TransactionDep
from app.errors import Forbidden
from app.nul import NUL, nul_param
from app.web.negotiation import wants_json
from app.web.nul_characters import NulCharacter, nul_message
from app.web.templating import LANGUAGES, language, templates

LANG_COOKIE_SECONDS = 365 * 24 * 3600
GO_FIELD = "_go"  # item ids start with a letter, so no item is called this

PROBLEM_TEXT: dict[str, tuple[str, str]] = {
    "too_long": (
        "这一题最多 {limit} 个字符，你的回答有 {length} 个。请删减后再保存；你输入的内容仍在下面。",
        "This answer can have at most {limit} characters; yours has {length}. "
        "Shorten it and save again — what you typed is still below.",
    ),
    "unknown_option": (
        "所选选项不属于这道题，请重新选择。",
        "That option is not one of this question's.",
    ),
    "single_choice": ("这道题只能选一个答案。", "Choose only one answer for this question."),
    "not_text": ("这道题需要文字回答。", "This question needs a written answer."),
    "not_drawn": ("这道题不在你的评估中。", "This question is not part of your assessment."),
    "nul_character": (
        "这一题的回答里有空字符（NUL，常随粘贴的文字而来），无法保存。"
        "请删除或重新输入粘贴的部分后再保存。",
        "This answer holds a NUL character (it often comes with pasted text) and cannot be "
        "saved. Delete or retype the pasted part and save again.",
    ),
}
REFUSAL_TEXT: dict[str, tuple[str, str]] = {
    "answers_closed": (
        "你的作答已经提交，不能再修改。",
        "Your answers were submitted and can no longer change.",
    ),
    "time_up": ("时间已到，作答不能再保存。", "Time is up: answers can no longer be saved."),
    "not_started": ("评估还没有开始。", "The assessment has not been started."),
    "cross_origin": (
        "这个表单来自其他网站，已被拒绝。请直接打开邀请邮件中的链接。",
        "This form was sent from another site and was refused. Open the link in your "
        "invitation instead.",
    ),
    "unreadable": (
        "无法读取提交的内容，请重新加载页面后再试。",
        "The request could not be read; reload the page and try again.",
    ),
}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang")
    return chosen if chosen in LANGUAGES else language(request)


class CrossOriginRefused(Forbidden):
    code = "cross_origin"


def _origin(url: str) -> str | None:
    """scheme://host[:port] as browsers write it (default ports left out), None if unreadable."""
    parts = urlsplit(url.strip().lower())
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    shown = "" if port in (None, default) else f":{port}"
    return f"{parts.scheme}://{parts.hostname}{shown}"


async def same_origin(request: Request, settings: SettingsDep) -> None:
    """Refuse unsafe requests another site's page made (ARCHITECTURE §9).

    Our pages send no referrer, and browsers then send `Origin: null` even on their own
    site; `Sec-Fetch-Site` (which a page cannot forge) tells those apart from other sites.
    """
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    origin = request.headers.get("origin")
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site == "cross-site":
        raise CrossOriginRefused("cross-site request refused")
    if origin is None:
        return
    if origin == "null":
        if fetch_site in (None, "same-origin"):
            return
    elif (given := _origin(origin)) is not None and given == _origin(settings.public_base_url):
        return
    raise CrossOriginRefused("cross-site request refused")


Refusal = RequestValidationError | StarletteHTTPException | CrossOriginRefused | NulCharacter


def _refusal(request: Request, error: Refusal) -> Response:
    lang = _lang(request)
    if isinstance(error, CrossOriginRefused | NulCharacter):
        status, code = error.status_code, error.code
    elif isinstance(error, StarletteHTTPException):
        status, code = error.status_code, "unreadable"
    else:
        status, code = 422, "unreadable"
    if isinstance(error, NulCharacter):
        message = nul_message(lang, error.field)
    else:
        message = _t(lang, *REFUSAL_TEXT[code])
    if wants_json(request):
        detail: dict[str, Any] = {"code": code, "message": message}
        if isinstance(error, RequestValidationError):
            detail["errors"] = jsonable_encoder(error.errors())
        if isinstance(error, NulCharacter) and error.field:
            detail["field"] = error.field
        return JSONResponse({"detail": detail}, status_code=status)
    here = _home(request.path_params.get("token", ""))
    return _render(request, "error.html", here, {"message": message}, status)


class CandidateRoute(APIRoute):
    """Invite-page headers on every response; refusals made before the route ran as pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def candidate_handler(request: Request) -> Response:
            try:
                # Here, not as a dependency: the autosave route is the busiest of all. Form
                # fields are each route's own (an answer's NUL is refused beside its question).
                field = nul_param(request)
                if field is not None:
                    raise NulCharacter("NUL characters are not allowed", field=field)
                response = await handler(request)
            except (
                RequestValidationError,
                StarletteHTTPException,
                CrossOriginRefused,
                NulCharacter,
            ) as error:
                # All raised while the request is read and checked, before anything is written.
                response = _refusal(request, error)
            # The token is in the URL: never send it on as a referrer, never cache the page.
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
            chosen = request.query_params.get("lang")
            if chosen in LANGUAGES:
                response.set_cookie(
                    "lang",
                    chosen,
                    max_age=LANG_COOKIE_SECONDS,
                    httponly=True,
                    samesite="lax",
                    secure=request.url.scheme == "https",
                )
            return response

        return candidate_handler


router = APIRouter(
    route_class=CandidateRoute, include_in_schema=False, dependencies=[Depends(same_origin)]
)


async def _form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=500)


FormDep = Annotated[FormData, Depends(_form)]


class AutosaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, list[str] | str] = Field(max_length=200)


def _render(
    request: Request,
    template: str,
    here: str,
    context: Mapping[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    lang = _lang(request)

    def t(zh: str, en: str) -> str:
        return _t(lang, zh, en)

    def tx(text: Mapping[str, str]) -> str:
        return text.get(lang) or text.get("en") or next(iter(text.values()), "")

    return templates.TemplateResponse(
        request,
        f"candidate/{template}",
        {"lang": lang, "t": t, "tx": tx, "here": here, **context},
        status_code=status_code,
    )


def _home(token: str) -> str:
    return f"/take/{token}"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _invite(
    request: Request, session: Session, token: str, now: datetime, *, as_json: bool = False
) -> Assessment | Response:
    """The assessment, or the page saying why the link does not work.

    Returned rather than raised so the session commits: an expired link is recorded.
    """
    try:
        return candidate_service.open_invite(session, token, now)
    except (InviteNotFound, InviteRevoked, InviteExpired) as error:
        if as_json:
            return _link_closed_json(request, error)
        return _render(
            request, "closed.html", _home(token), {"reason": error.code}, error.status_code
        )


def _link_closed_json(
    request: Request, error: InviteNotFound | InviteRevoked | InviteExpired
) -> JSONResponse:
    message = _t(_lang(request), "链接不可用，请重新加载页面。", "This link no longer works.")
    return JSONResponse(
        {"detail": {"code": error.code, "message": message}}, status_code=error.status_code
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _landing(
    request: Request,
    session: Session,
    assessment: Assessment,
    token: str,
    now: datetime,
    *,
    consent_error: bool = False,
) -> HTMLResponse:
    view = candidate_service.landing(session, assessment)
    started = assessment.status == Status.IN_PROGRESS
    return _render(
        request,
        "landing.html",
        _home(token),
        {
            "token": token,
            "view": view,
            "started": started,
            "progress": candidate_service.progress(session, assessment) if started else None,
            "remaining": candidate_service.remaining_seconds(assessment, now),
            "consent_error": consent_error,
        },
        422 if consent_error else 200,
    )


def _confirmation(
    request: Request,
    session: Session,
    assessment: Assessment,
    token: str,
    *,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    late = (
        assessment.deadline_at is not None
        and assessment.submitted_at is not None
        and assessment.submitted_at > assessment.deadline_at
    )
    return _render(
        request,
        "confirmation.html",
        _home(token),
        {
            "token": token,
            "submitted_at": assessment.submitted_at,
            "submitted_iso": _iso(assessment.submitted_at),
            "deadline_iso": _iso(assessment.deadline_at),
            "deadline_at": assessment.deadline_at,
            "late": late,
            "progress": candidate_service.progress(session, assessment),
            "notice": notice,
        },
        status_code,
    )


def _not_found(request: Request, token: str) -> HTMLResponse:
    return _render(request, "closed.html", _home(token), {"reason": "page_not_found"}, 404)


def _resume(session: Session, assessment: Assessment, token: str) -> RedirectResponse:
    if candidate_service.is_finished(assessment):
        return _redirect(_home(token))
    resume_at = candidate_service.progress(session, assessment).resume_at
    if resume_at is None:
        return _redirect(f"{_home(token)}/review")
    return _redirect(f"{_home(token)}/section/{resume_at}")


def _problem_text(problem: AnswerProblem, lang: str) -> str:
    zh, en = PROBLEM_TEXT[problem.code]
    return _t(lang, zh, en).format(limit=problem.limit, length=problem.length)


def _section(
    request: Request,
    token: str,
    assessment: Assessment,
    progress: Progress,
    number: int,
    answers: Mapping[str, SavedAnswer],
    now: datetime,
    *,
    problems: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    section = progress.section(number)
    return _render(
        request,
        "section.html",
        f"{_home(token)}/section/{number}",
        {
            "token": token,
            "progress": progress,
            "section": section,
            "answers": answers,
            "problems": problems or {},
            "read_only": candidate_service.is_finished(assessment),
            "remaining": candidate_service.remaining_seconds(assessment, now),
            "is_last": number == len(progress.sections),
        },
        status_code,
    )


def _review(
    request: Request,
    session: Session,
    assessment: Assessment,
    token: str,
    now: datetime,
    *,
    confirm_error: bool = False,
) -> HTMLResponse:
    return _render(
        request,
        "review.html",
        f"{_home(token)}/review",
        {
            "token": token,
            "progress": candidate_service.progress(session, assessment),
            "remaining": candidate_service.remaining_seconds(assessment, now),
            "confirm_error": confirm_error,
        },
        422 if confirm_error else 200,
    )


@router.get("/take/{token}", response_class=HTMLResponse)
def landing_page(token: str, request: Request, session: SessionDep) -> Response:
    # A plain GET starts nothing: mail scanners open links before the candidate does.
    now = utcnow()
    found = _invite(request, session, token, now)
    if not isinstance(found, Assessment):
        return found
    candidate_service.close_if_time_up(session, found, now)
    if candidate_service.is_finished(found):
        return _confirmation(request, session, found, token)
    return _landing(request, session, found, token, now)


@router.post("/take/{token}/start")
def start(token: str, request: Request, session: SessionDep, form: FormDep) -> Response:
    now = utcnow()
    found = _invite(request, session, token, now)
    if not isinstance(found, Assessment):
        return found
    if found.status == Status.INVITED and form.get("consent") != "yes":
        return _landing(request, session, found, token, now, consent_error=True)
    candidate_service.start(session, found, now)
    candidate_service.close_if_time_up(session, found, now)
    return _resume(session, found, token)


@router.get("/take/{token}/section/{number:int}", response_class=HTMLResponse)
def section_page(token: str, number: int, request: Request, session: SessionDep) -> Response:
    now = utcnow()
    found = _invite(request, session, token, now)
    if not isinstance(found, Assessment):
        return found
    if candidate_service.close_if_time_up(session, found, now) or found.status == Status.INVITED:
        return _redirect(_home(token))
    progress = candidate_service.progress(session, found)
    if not 1 <= number <= len(progress.sections):
        return _not_found(request, token)
    answers = candidate_service.saved_answers(session, found)
    return _section(request, token, found, progress, number, answers, now)


def _form_answers(form: FormData, progress: Progress, number: int) -> dict[str, SavedAnswer]:
    """The section's answers as a browser sends them: an unticked question sends nothing."""
    answers: dict[str, SavedAnswer] = {}
    for item in progress.section(number).items:
        if item.is_choice:
            answers[item.id] = [v for v in form.getlist(item.id) if isinstance(v, str)]
        else:
            text = form.get(item.id)
            if isinstance(text, str):
                answers[item.id] = text
    return answers


def _visible(answers: Mapping[str, SavedAnswer]) -> dict[str, SavedAnswer]:
    """The answers as typed, a NUL shown as the replacement mark so it can be found."""
    return {k: v.replace(NUL, "\ufffd") if isinstance(v, str) else v for k, v in answers.items()}


@router.post("/take/{token}/section/{number:int}")
def save_section(
    token: str, number: int, request: Request, session: SessionDep, form: FormDep
) -> Response:
    """The path without JavaScript: Previous/Next post the section, which is saved first."""
    now = utcnow()
    found = _invite(request, session, token, now)
    if not isinstance(found, Assessment):
        return found
    if found.status == Status.INVITED:
        return _redirect(_home(token))
    progress = candidate_service.progress(session, found)
    if not 1 <= number <= len(progress.sections):
        return _not_found(request, token)
    typed = _form_answers(form, progress, number)
    refused: list[AnswerProblem] = []
    try:
        candidate_service.save_answers(session, found, typed, now)
    except AnswersClosed:
        notice = _t(_lang(request), *REFUSAL_TEXT["answers_closed"])
        return _confirmation(request, session, found, token, notice=notice, status_code=409)
    except TimeUp:
        candidate_service.submit(session, found, now)
        return _redirect(_home(token))
    except AnswersRefused as error:
        refused = error.problems
    if refused:
        lang = _lang(request)
        shown = {**candidate_service.saved_answers(session, found), **_visible(typed)}
        problems = {p.item_id: _problem_text(p, lang) for p in refused}
        progress = candidate_service.progress(session, found)
        return _section(
            request, token, found, progress, number, shown, now, problems=problems, status_code=422
        )
    go = form.get(GO_FIELD)
    if go == "prev" and number > 1:
        return _redirect(f"{_home(token)}/section/{number - 1}")
    if go == "next" and number < len(progress.sections):
        return _redirect(f"{_home(token)}/section/{number + 1}")
    if go in {"next", "review"}:
        return _redirect(f"{_home(token)}/review")
    return _redirect(f"{_home(token)}/section/{number}")


@router.post("/take/{token}/autosave")
async def autosave(
    token: str, body: AutosaveIn, request: Request, transaction: TransactionDep
) -> Response:
    """What candidate.js posts as answers change: JSON in, JSON out.

    A later save of a sitting this process knows is made on the event loop
    (`autosave_on_loop`): handing it to a worker thread would cost more than the save. The
    rest in one worker-thread call once a session slot is free: open, save, commit, close.
    Either way the answer is acknowledged only after the commit.
    """
    now = utcnow()
    if transaction.engine is not None:
        progress = await candidate_service.autosave_on_loop(
            transaction.engine, token, body.answers, now
        )
        if progress is not None:
            return _progress_json(progress, now)

    def save() -> Response:
        with transaction.open() as session:
            return _autosave(token, body, request, session, now)

    return await run_in_slot(save)


def _autosave(
    token: str, body: AutosaveIn, request: Request, session: Session, now: datetime
) -> Response:
    try:
        progress = candidate_service.autosave(session, token, body.answers, now)
    except (InviteNotFound, InviteRevoked, InviteExpired) as error:
        # Returned, not raised, so the session commits: an expired link is recorded.
        return _link_closed_json(request, error)
    except (AnswersClosed, TimeUp, NotStarted) as error:
        message = _t(_lang(request), *REFUSAL_TEXT[error.code])
        return JSONResponse({"detail": {"code": error.code, "message": message}}, 409)
    except AnswersRefused as error:
        lang = _lang(request)
        problems = {p.item_id: _problem_text(p, lang) for p in error.problems}
        message = _t(
            lang,
            "有答案没有保存，请查看题目旁的提示。",
            "Some answers were not saved; see the questions.",
        )
        return JSONResponse(
            {"detail": {"code": AnswersRefused.code, "message": message, "problems": problems}},
            422,
        )
    return _progress_json(progress, now)


def _progress_json(progress: candidate_service.Progress, now: datetime) -> JSONResponse:
    return JSONResponse(
        {
            "saved_at": _iso(now),
            "answered": progress.answered,
            "total": progress.total,
            "sections": [
                {"number": s.number, "answered": s.answered_count, "total": s.total}
                for s in progress.sections
            ],
        }
    )


@router.get("/take/{token}/review", response_class=HTMLResponse)
def review_page(token: str, request: Request, session: SessionDep) -> Response:
    now = utcnow()
    found = _invite(request, session, token, now)
    if not isinstance(found, Assessment):
        return found
    candidate_service.close_if_time_up(session, found, now)
    if found.status != Status.IN_PROGRESS:
        return _redirect(_home(token))
    return _review(request, session, found, token, now)


@router.post("/take/{token}/submit")
def submit(token: str, request: Request, session: SessionDep, form: FormDep) -> Response:
    """Idempotent: a repeated or concurrent submit ends on the same confirmation."""
    now = utcnow()
    found = _invite(request, session, token, now)
    if not isinstance(found, Assessment):
        return found
    if found.status == Status.INVITED:
        return _redirect(_home(token))
    closed = candidate_service.is_finished(found) or candidate_service.close_if_time_up(
        session, found, now
    )
    if not closed and form.get("confirm") != "yes":
        return _review(request, session, found, token, now, confirm_error=True)
    candidate_service.submit(session, found, now)
    return _redirect(_home(token))


@router.api_route("/take/{token}/{rest:path}", methods=["GET", "POST"])
def unknown_page(token: str, request: Request) -> Response:
    return _not_found(request, token)
