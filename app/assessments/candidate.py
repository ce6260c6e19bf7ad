"""The candidate's side of an assessment: open the invite link, start, autosave, submit.

Whatever depends on time takes `now` from the caller: the server clock (or a test) decides.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import JSON, Engine, Insert, Select, bindparam, func, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.accounts import service as account_service
from app.accounts.secrets import hash_token
from app.assessments import drawing, fast_save, results
from app.assessments.fast_save import Drawn
from app.assessments.models import Answer, Assessment, AssessmentResult
from app.assessments.states import FINISHED, Status, transition
from app.db import WriterBusy
from app.errors import AppError, Conflict, InvalidInput, NotFound
from app.nul import NUL
from app.privacy import audit
from app.rubrics import service as rubric_service
from app.rubrics.spec import Item, ItemType, Rubric

# Answers sent as the deadline passes are still in flight; a page view after it is not.
GRACE = timedelta(seconds=30)
MAX_TOKEN_LENGTH = 128

SECTION_NAMES: dict[ItemType, dict[str, str]] = {
    ItemType.KNOWLEDGE: {"zh": "专业知识", "en": "Knowledge"},
    ItemType.SITUATIONAL: {"zh": "情境判断", "en": "Situational judgement"},
    ItemType.WORK_SAMPLE: {"zh": "实操任务", "en": "Work samples"},
}
CONSENT: dict[str, str] = {
    "zh": (
        "你的作答只用于这次招聘评估：招聘方指定的评分人会阅读并评分，结果供招聘决策参考，"
        "并按招聘方的数据保留规定保存。你可以向邀请你的人询问你的数据，或要求删除。"
    ),
    "en": (
        "Your answers are used only for this hiring assessment: raters chosen by the hiring "
        "team read and score them, the result informs the hiring decision, and the data is "
        "kept according to the hiring organisation's retention rules. You can ask the person "
        "who invited you about your data or ask for it to be erased."
    ),
}

SavedAnswer = list[str] | str


class InviteNotFound(NotFound):
    code = "invite_not_found"


class InviteRevoked(AppError):
    status_code = 410
    code = "invite_revoked"


class InviteExpired(AppError):
    status_code = 410
    code = "invite_expired"


class NotStarted(Conflict):
    code = "not_started"


class AnswersClosed(Conflict):
    code = "answers_closed"


class TimeUp(Conflict):
    code = "time_up"


@dataclass(frozen=True)
class AnswerProblem:
    item_id: str
    code: str  # not_drawn | nul_character | unknown_option | single_choice | not_text | too_long
    message: str
    limit: int | None = None
    length: int | None = None


class AnswersRefused(InvalidInput):
    """Some answers were refused; the valid ones of the same call were saved before this."""

    def __init__(self, problems: list[AnswerProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems), field=problems[0].item_id)
        self.problems = problems


@dataclass(frozen=True)
class Section:
    number: int  # 1-based, the page the candidate sees
    kind: ItemType
    name: dict[str, str]
    items: tuple[Item, ...]
    first_number: int  # the number of its first question, counted over all sections
    answered: frozenset[str]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def answered_count(self) -> int:
        return len(self.answered)

    def unanswered_numbers(self) -> list[int]:
        return [
            self.first_number + i
            for i, item in enumerate(self.items)
            if item.id not in self.answered
        ]


@dataclass(frozen=True)
class Progress:
    sections: tuple[Section, ...]
    # The first section with an unanswered item; None when every item is answered.
    resume_at: int | None

    @property
    def total(self) -> int:
        return sum(s.total for s in self.sections)

    @property
    def answered(self) -> int:
        return sum(s.answered_count for s in self.sections)

    def section(self, number: int) -> Section:
        if not 1 <= number <= len(self.sections):
            raise NotFound(f"no section {number}")
        return self.sections[number - 1]


@dataclass(frozen=True)
class Landing:
    assessor: str | None
    role_name: dict[str, str]
    sections: tuple[Section, ...]
    total_items: int
    time_limit_minutes: int | None
    consent: dict[str, str]


# The statements of every candidate request are built once: SQLAlchemy then reuses their
# cache keys and compiled SQL instead of rebuilding both on each autosave.
_BY_TOKEN = select(Assessment).where(Assessment.token_hash == bindparam("token_hash"))
_BY_ID = select(Assessment).where(Assessment.id == bindparam("assessment_id"))
_LOCKED = {
    shared: _BY_ID.with_for_update(read=shared).execution_options(populate_existing=True)
    for shared in (False, True)
}
_answer = Answer.__table__.c
_assessment = Assessment.__table__.c
# Columns, not entities: answers are written with bulk upserts that bypass the identity map.
_ANSWERS = select(_answer.item_id, _answer.selected, _answer.text).where(
    _answer.assessment_id == bindparam("assessment_id")
)


class Sitting(Protocol):
    """What saving answers reads of an assessment: the mapped row, or `_OpenSitting`."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def deadline_at(self) -> datetime | None: ...
    @property
    def rubric_version(self) -> str: ...
    @property
    def item_ids(self) -> list[str]: ...


@dataclass(frozen=True)
class _OpenSitting:
    id: int
    status: str
    revoked_at: datetime | None
    deadline_at: datetime | None
    rubric_version: str
    item_ids: list[str]
    answers: dict[str, SavedAnswer]  # as saved before this request


@lru_cache(maxsize=4)
def _open_sitting_statement(dialect: str) -> Select[*tuple[Any, ...]]:
    """A sitting in progress by token hash, with its saved answers as one JSON array.

    One statement where open_invite, _locked and saved_answers take three; the row is
    locked as `_locked(shared=True)` locks it (FOR SHARE; SQLite has BEGIN IMMEDIATE).
    """
    if dialect == "postgresql":
        entry = func.json_build_array(_answer.item_id, _answer.selected, _answer.text)
        aggregate = func.json_agg(entry)
    else:
        entry = func.json_array(_answer.item_id, func.json(_answer.selected), _answer.text)
        aggregate = func.json_group_array(entry)
    answers = (
        select(type_coerce(aggregate, JSON))
        .where(_answer.assessment_id == _assessment.id)
        .scalar_subquery()
    )
    return (
        select(
            _assessment.id,
            _assessment.status,
            _assessment.revoked_at,
            _assessment.deadline_at,
            _assessment.rubric_version,
            _assessment.item_ids,
            answers,
        )
        .where(
            _assessment.token_hash == bindparam("token_hash"),
            _assessment.status == Status.IN_PROGRESS.value,
        )
        .with_for_update(read=True, of=Assessment.__table__)
    )


def _open_sitting(session: Session, token_hash: str) -> _OpenSitting | None:
    connection = session.connection()
    statement = _open_sitting_statement(connection.dialect.name)
    row = connection.execute(statement, {"token_hash": token_hash}).one_or_none()
    if row is None:
        return None
    id_, status, revoked_at, deadline_at, rubric_version, item_ids, saved = row
    answers = _saved_from_rows(saved or ())
    return _OpenSitting(id_, status, revoked_at, deadline_at, rubric_version, item_ids, answers)


def _saved_from_rows(rows: Iterable[Sequence[Any]]) -> dict[str, SavedAnswer]:
    """Item id → answer, from (item_id, selected, text) rows."""
    return {
        item_id: (list(selected) if selected is not None else (text or ""))
        for item_id, selected, text in rows
    }


def _token_hash(raw_token: str) -> str | None:
    return hash_token(raw_token) if 0 < len(raw_token) <= MAX_TOKEN_LENGTH else None


def open_invite(session: Session, raw_token: str, now: datetime) -> Assessment:
    """The assessment behind an invite link, or the reason the link no longer works.

    An invitation whose link expired before it was started is recorded as expired here, so
    the caller must keep (commit) the session even though InviteExpired is raised.
    """
    assessment = None
    if (token_hash := _token_hash(raw_token)) is not None:
        assessment = session.execute(_BY_TOKEN, {"token_hash": token_hash}).scalar_one_or_none()
    if assessment is None:
        raise InviteNotFound("this invitation link is not valid")
    _check_link(assessment, now)
    return assessment


def _check_link(assessment: Assessment, now: datetime) -> None:
    if assessment.status == Status.REVOKED or assessment.revoked_at is not None:
        raise InviteRevoked("this invitation was withdrawn")
    if (
        assessment.status == Status.INVITED
        and assessment.link_expires_at is not None
        and now >= assessment.link_expires_at
    ):
        assessment.status = transition(assessment.status, Status.EXPIRED)
    if assessment.status == Status.EXPIRED:
        raise InviteExpired("this invitation link has expired")


def rubric_of(session: Session, assessment: Assessment) -> Rubric:
    return rubric_service.get_version(session, assessment.rubric_version)


def saved_answers(session: Session, assessment: Assessment) -> dict[str, SavedAnswer]:
    """Item id → the selected option ids (choice items) or the text (work samples)."""
    return _saved_from_rows(session.execute(_ANSWERS, {"assessment_id": assessment.id}))


def _is_answered(value: SavedAnswer | None) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)


def progress(session: Session, assessment: Assessment) -> Progress:
    return _progress(session, assessment, rubric_of(session, assessment))


def _progress(session: Session, assessment: Assessment, rubric: Rubric) -> Progress:
    return _progress_of(rubric, assessment.item_ids, saved_answers(session, assessment))


def _progress_of(
    rubric: Rubric, item_ids: list[str], answers: Mapping[str, SavedAnswer]
) -> Progress:
    built: list[Section] = []
    first = 1
    for number, (kind, items) in enumerate(drawing.sections(rubric, item_ids), start=1):
        answered = frozenset(i.id for i in items if _is_answered(answers.get(i.id)))
        built.append(Section(number, kind, SECTION_NAMES[kind], tuple(items), first, answered))
        first += len(items)
    resume_at = next((s.number for s in built if s.answered_count < s.total), None)
    return Progress(tuple(built), resume_at)


def landing(session: Session, assessment: Assessment) -> Landing:
    rubric = rubric_of(session, assessment)
    sections = _progress(session, assessment, rubric).sections
    assessor = (
        account_service.get(session, assessment.created_by_id).name
        if assessment.created_by_id is not None
        else None
    )
    return Landing(
        assessor=assessor,
        role_name=dict(rubric.role(assessment.role_id).name),
        sections=sections,
        total_items=sum(s.total for s in sections),
        time_limit_minutes=assessment.time_limit_minutes,
        consent=CONSENT,
    )


def _locked(session: Session, assessment: Assessment, *, shared: bool = False) -> Assessment:
    """Re-read the assessment row under a lock held to the end of the transaction.

    FOR UPDATE serialises starts and submits; autosaves take FOR SHARE so a submit waits for
    saves in flight and a save never lands after the result was computed. (SQLite has no row
    locks, but its write transactions already start with BEGIN IMMEDIATE.)
    """
    return session.execute(_LOCKED[shared], {"assessment_id": assessment.id}).scalar_one()


def start(session: Session, assessment: Assessment, now: datetime) -> None:
    """Begin the sitting (and the clock, when timed); starting again just continues."""
    assessment = _locked(session, assessment)
    _check_link(assessment, now)
    if assessment.status != Status.INVITED:
        return
    assessment.status = transition(assessment.status, Status.IN_PROGRESS)
    assessment.started_at = now
    if assessment.time_limit_minutes:
        assessment.deadline_at = now + timedelta(minutes=assessment.time_limit_minutes)
    session.flush()


def is_finished(assessment: Sitting) -> bool:
    return Status(assessment.status) in FINISHED


def remaining_seconds(assessment: Assessment, now: datetime) -> int | None:
    """Whole seconds to the deadline, rounded up so a countdown never ends early."""
    if assessment.deadline_at is None:
        return None
    return max(0, math.ceil((assessment.deadline_at - now).total_seconds()))


def time_is_up(assessment: Sitting, now: datetime) -> bool:
    """Past the deadline and its grace period: no answer is accepted any more."""
    return assessment.deadline_at is not None and now > assessment.deadline_at + GRACE


def save_answers(
    session: Session,
    assessment: Assessment,
    answers: Mapping[str, SavedAnswer],
    now: datetime,
) -> None:
    """Store answers (autosave); each replaces that item's earlier answer.

    Choice answers are option ids of the item (one at most for single choice); work samples
    are plain text up to the item's `max_length`. Refused whole after submit and once time
    is up; otherwise valid answers are saved and AnswersRefused lists the rest.
    """
    assessment = _locked(session, assessment, shared=True)
    _save(session, assessment, rubric_of(session, assessment), answers, now)


def autosave(
    session: Session, raw_token: str, answers: Mapping[str, SavedAnswer], now: datetime
) -> Progress:
    """`open_invite` and `save_answers` for the page's script, then the progress made.

    The usual case, a sitting in progress, is found, locked and its answers read in one
    query; anything else takes the link's checks first, so it raises (and records) what
    open_invite would. The progress is the answers read then with this request's on top,
    as a read after the save would see them unless another save of the sitting is in flight.
    """
    token_hash = _token_hash(raw_token)
    engine = fast_save.engine_for(session) if token_hash is not None else None
    if engine is not None and token_hash is not None:
        quick = _fast_autosave(session, engine, token_hash, answers, now)
        if quick is not None:
            return quick
    sitting = _open_sitting(session, token_hash) if token_hash is not None else None
    if sitting is None or sitting.revoked_at is not None:
        assessment = _locked(session, open_invite(session, raw_token, now), shared=True)
        rubric = rubric_of(session, assessment)
        _save(session, assessment, rubric, answers, now)
        return _progress(session, assessment, rubric)
    if engine is not None and token_hash is not None:
        drawn = Drawn(sitting.id, sitting.rubric_version, tuple(sitting.item_ids))
        fast_save.DRAWN.put(token_hash, drawn)
    rubric = rubric_service.get_version(session, sitting.rubric_version)
    saved = _save(session, sitting, rubric, answers, now)
    return _progress_of(rubric, sitting.item_ids, {**sitting.answers, **saved})


def _fast_autosave(
    session: Session,
    engine: Engine,
    token_hash: str,
    answers: Mapping[str, SavedAnswer],
    now: datetime,
) -> Progress | None:
    """The save without the ORM (`fast_save`) for a sitting this process has seen under way;
    None to take the usual path, which also refuses what this one does not take."""
    drawn = fast_save.DRAWN.get(token_hash)
    if drawn is None:
        return None
    rubric = rubric_service.get_version(session, drawn.rubric_version)
    if session.in_transaction():
        # The rubric was read from the database: on SQLite that transaction holds the write
        # lock the save is about to take on another connection. It only read; end it.
        session.commit()
    rows, problems = _checked_rows(drawn.assessment_id, rubric, drawn.item_ids, answers, now)
    if problems:
        return None
    before = fast_save.save(engine, token_hash, drawn, rows, now, GRACE)
    return _progress_after(rubric, drawn, before, rows)


async def autosave_on_loop(
    engine: Engine, raw_token: str, answers: Mapping[str, SavedAnswer], now: datetime
) -> Progress | None:
    """`autosave` made on the event loop, where it needs neither a worker thread nor any
    query but the save (`fast_save.save_on_loop`): for a sitting this process has seen under
    way, its rubric parsed and every answer valid. None, having stored nothing: call
    `autosave`, which also says why anything is refused."""
    token_hash = _token_hash(raw_token)
    drawn = fast_save.DRAWN.get(token_hash) if token_hash is not None else None
    rubric = rubric_service.cached_version(drawn.rubric_version) if drawn is not None else None
    if token_hash is None or drawn is None or rubric is None:
        return None
    rows, problems = _checked_rows(drawn.assessment_id, rubric, drawn.item_ids, answers, now)
    if problems:
        return None
    try:
        before = await fast_save.save_on_loop(engine, token_hash, drawn, rows, now, GRACE)
    except WriterBusy:
        return None
    return _progress_after(rubric, drawn, before, rows)


def _progress_after(
    rubric: Rubric, drawn: Drawn, before: fast_save.Earlier | None, rows: fast_save.Rows
) -> Progress | None:
    """The progress once `rows` are stored over the answers saved `before` (None: the
    sitting was not open, nothing stored)."""
    if before is None:
        return None
    saved = {**_saved_from_rows(before), **_as_saved(rows)}
    return _progress_of(rubric, list(drawn.item_ids), saved)


def _save(
    session: Session,
    assessment: Sitting,
    rubric: Rubric,
    answers: Mapping[str, SavedAnswer],
    now: datetime,
) -> dict[str, SavedAnswer]:
    """save_answers on an assessment row already locked in this transaction; what it saved."""
    if is_finished(assessment):
        raise AnswersClosed("the answers were submitted and can no longer be changed")
    if assessment.status != Status.IN_PROGRESS:
        raise NotStarted("the assessment has not been started")
    if time_is_up(assessment, now):
        raise TimeUp("time is up: answers can no longer be saved")
    rows, problems = _checked_rows(assessment.id, rubric, assessment.item_ids, answers, now)
    if rows:
        _upsert(session, rows)
    if problems:
        raise AnswersRefused(problems)
    return _as_saved(rows)


def _checked_rows(
    assessment_id: int,
    rubric: Rubric,
    item_ids: Sequence[str],
    answers: Mapping[str, SavedAnswer],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[AnswerProblem]]:
    """The answer rows to store, and the problems of those refused."""
    items = rubric.item_index()
    drawn = set(item_ids)
    rows: list[dict[str, Any]] = []
    problems: list[AnswerProblem] = []
    for item_id, value in answers.items():
        if item_id not in drawn:
            problems.append(
                AnswerProblem(item_id, "not_drawn", f"item {item_id!r} is not in this assessment")
            )
            continue
        if _holds_nul(value):
            # PostgreSQL cannot store it, and nobody means to type it (it comes with pasted
            # text): refused beside its question rather than dropped unseen.
            problems.append(
                AnswerProblem(item_id, "nul_character", f"item {item_id!r}: the answer holds a NUL")
            )
            continue
        item = items[item_id]
        checked = _choice(item, value) if item.is_choice else _text(item, value)
        if isinstance(checked, AnswerProblem):
            problems.append(checked)
        else:
            selected, text = checked
            rows.append(
                {
                    "assessment_id": assessment_id,
                    "item_id": item_id,
                    "selected": selected,
                    "text": text,
                    "saved_at": now,
                }
            )
    return rows, problems


def _holds_nul(value: SavedAnswer) -> bool:
    return NUL in value if isinstance(value, str) else any(NUL in v for v in value)


def _as_saved(rows: Sequence[Mapping[str, Any]]) -> dict[str, SavedAnswer]:
    return {r["item_id"]: r["text"] if r["selected"] is None else r["selected"] for r in rows}


def _choice(item: Item, value: SavedAnswer) -> tuple[list[str], None] | AnswerProblem:
    given = [value] if isinstance(value, str) else list(value)
    # A form sends one value per ticked box; repeats and blanks carry no meaning.
    selected = list(dict.fromkeys(v for v in given if v))
    known = {o.id for o in item.options}
    unknown = [v for v in selected if v not in known]
    if unknown:
        return AnswerProblem(
            item.id, "unknown_option", f"item {item.id!r} has no option {unknown[0]!r}"
        )
    if item.select == "single" and len(selected) > 1:
        return AnswerProblem(
            item.id,
            "single_choice",
            f"item {item.id!r} takes one option, {len(selected)} were given",
        )
    return selected, None


def _text(item: Item, value: SavedAnswer) -> tuple[None, str] | AnswerProblem:
    if not isinstance(value, str):
        return AnswerProblem(item.id, "not_text", f"item {item.id!r} takes a text answer")
    text = plain_text(value)
    if len(text) > item.max_length:
        return AnswerProblem(
            item.id,
            "too_long",
            f"item {item.id!r}: the answer has {len(text)} characters, "
            f"at most {item.max_length} are allowed",
            limit=item.max_length,
            length=len(text),
        )
    return None, text


def plain_text(value: str) -> str:
    """The text as typed, with line breaks as "\\n" and nothing a database would refuse.

    Browsers send a textarea's line breaks as CRLF but count them as one character against
    `maxlength`; control characters and lone surrogates are dropped (an answer holding a NUL
    is refused before it gets here).
    """
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch >= " " or ch in "\t\n")
    return text.encode("utf-8", "replace").decode("utf-8")


@lru_cache(maxsize=4)
def _upsert_statement(dialect: str) -> Insert:
    """INSERT … ON CONFLICT DO UPDATE, so concurrent saves of one item never collide.

    Built once per dialect with the row values as parameters: SQLAlchemy then reuses its
    compiled SQL (and the statement's cache key) for every save.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Answer)
    return statement.on_conflict_do_update(
        index_elements=[Answer.assessment_id, Answer.item_id],
        set_={
            "selected": statement.excluded.selected,
            "text": statement.excluded.text,
            "saved_at": statement.excluded.saved_at,
        },
    )


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    connection = session.connection()
    # Rows in one order for every caller, so two saves never wait on each other crosswise.
    ordered = sorted(rows, key=lambda row: str(row["item_id"]))
    connection.execute(_upsert_statement(connection.dialect.name), ordered)


def submit(session: Session, assessment: Assessment, now: datetime) -> AssessmentResult:
    """Close the sitting and score what can be scored now; a repeat returns the first result.

    Late submits are accepted with what was saved: they are how a timed-out sitting ends.
    """
    assessment = _locked(session, assessment)
    if is_finished(assessment):
        stored = session.get(AssessmentResult, assessment.id)
        return stored if stored is not None else results.compute(session, assessment)
    if assessment.status == Status.INVITED:
        raise NotStarted("the assessment has not been started")
    assessment.status = transition(assessment.status, Status.SUBMITTED)
    assessment.submitted_at = now
    session.flush()
    audit.assessment_event(session, "candidate", "assessment.submitted", assessment.id)
    return results.compute(session, assessment)


def close_if_time_up(session: Session, assessment: Assessment, now: datetime) -> bool:
    """Submit the saved answers of a sitting whose deadline has passed; True if it did.

    Called when the candidate opens a page: the grace period is for saves already on their
    way at the deadline, not for looking at the items afterwards.
    """
    if (
        assessment.status == Status.IN_PROGRESS
        and assessment.deadline_at is not None
        and now >= assessment.deadline_at
    ):
        submit(session, assessment, now)
        return True
    return False
