"""HR and rater operations on hiring assessments: candidates, invite links, raters, ratings.

Functions take the session first and the acting user where authorization matters, raise
AppError subclasses and never commit; reads return the dataclasses of `views`.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypedDict, TypeGuard, Unpack

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.accounts.secrets import hash_token, new_token
from app.assessments import results, views
from app.assessments.drawing import draw_items
from app.assessments.models import (
    Answer,
    Assessment,
    AssessmentResult,
    Candidate,
    RaterAssignment,
    Rating,
)
from app.assessments.states import FINISHED, Status, transition
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.privacy import audit
from app.rubrics import service as rubric_service
from app.rubrics.spec import Item, ItemType, Rubric

HR_ROLES = frozenset({Role.HR, Role.ADMIN})
NAME_MAX = 200
EMAIL_MAX = 254
NOTE_MAX = 2000
RATING_NOTE_MAX = 2000
TIME_LIMIT_MAX_MINUTES = 600
LINK_VALID_MAX_DAYS = 365
DEFAULT_LINK_VALID_DAYS = 14
TAKE_PATH = "/take/"
# Deliberately loose: one @, something on each side, a dot in the domain, no spaces.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Ordered as the life cycle runs, so sorting by status reads like a pipeline.
STATUS_ORDER = (
    Status.INVITED,
    Status.IN_PROGRESS,
    Status.SUBMITTED,
    Status.SCORED,
    Status.EXPIRED,
    Status.REVOKED,
)

SortKey = Literal["created", "name", "level", "fit", "status"]
AnySelect = Select[*tuple[Any, ...]]
SORT_KEYS: tuple[SortKey, ...] = ("created", "name", "level", "fit", "status")


class FieldErrors(InvalidInput):
    """Several fields are wrong at once; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first = next(iter(errors))
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), field=first)
        self.errors = dict(errors)


def is_hr(user: User) -> bool:
    return Role(user.role) in HR_ROLES


def require_hr(user: User) -> None:
    if not is_hr(user):
        raise Forbidden("only HR and admins may do this")


# ── candidates ──────────────────────────────────────────────────────────────────────────


def _candidate_fields(name: str, email: str, note: str) -> tuple[str, str, str]:
    errors: dict[str, str] = {}
    name, email, note = name.strip(), email.strip().lower(), note.strip()
    if not 1 <= len(name) <= NAME_MAX:
        errors["name"] = f"give a name of 1–{NAME_MAX} characters"
    if len(email) > EMAIL_MAX or not EMAIL_PATTERN.match(email):
        errors["email"] = f"not an email address: {email!r}"
    if len(note) > NOTE_MAX:
        errors["note"] = f"the note has {len(note)} characters; at most {NOTE_MAX} are allowed"
    if errors:
        raise FieldErrors(errors)
    return name, email, note


def create_candidate(
    session: Session, actor: User, name: str, email: str, note: str = ""
) -> Candidate:
    require_hr(actor)
    name, email, note = _candidate_fields(name, email, note)
    candidate = Candidate(name=name, email=email, note=note, created_by_id=actor.id)
    session.add(candidate)
    session.flush()
    return candidate


def _candidate_view(candidate: Candidate) -> views.CandidateView:
    return views.CandidateView(
        id=candidate.id,
        name=candidate.name,
        email=candidate.email,
        note=candidate.note,
        created_at=candidate.created_at,
        anonymised=candidate.anonymised_at is not None,
    )


def list_candidates(
    session: Session, actor: User, search: str | None = None
) -> list[views.CandidateView]:
    require_hr(actor)
    query = select(Candidate).order_by(Candidate.created_at.desc(), Candidate.id.desc())
    if search and search.strip():
        term = search.strip()
        query = query.where(
            Candidate.name.icontains(term, autoescape=True)
            | Candidate.email.icontains(term, autoescape=True)
        )
    return [_candidate_view(c) for c in session.scalars(query)]


def get_candidate(session: Session, actor: User, candidate_id: int) -> views.CandidateDetail:
    """The candidate with every assessment they were invited to (HR only)."""
    require_hr(actor)
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise NotFound("no such candidate")
    assessments = list(
        session.scalars(
            select(Assessment)
            .where(Assessment.candidate_id == candidate_id)
            .order_by(Assessment.created_at, Assessment.id)
        )
    )
    rubrics = _rubrics(session, (a.rubric_version for a in assessments))
    return views.CandidateDetail(
        candidate=_candidate_view(candidate),
        assessments=tuple(
            views.AssessmentBrief(
                id=a.id,
                rubric_id=a.rubric_id,
                role_id=a.role_id,
                role_name=views.role_name(rubrics[a.rubric_version], a.role_id),
                status=Status(a.status).value,
                created_at=a.created_at,
                submitted_at=a.submitted_at,
            )
            for a in assessments
        ),
    )


# ── assessments and invite links ────────────────────────────────────────────────────────


def _rubrics(session: Session, versions: Iterable[str]) -> dict[str, Rubric]:
    """The pinned rubric of each version: one lookup per distinct version, not per row."""
    return {v: rubric_service.get_version(session, v) for v in set(versions)}


def _check_days(days: int | None, field: str) -> None:
    if days is not None and not 1 <= days <= LINK_VALID_MAX_DAYS:
        raise InvalidInput(f"give 1–{LINK_VALID_MAX_DAYS} days, or none", field=field)


def _invite_url(settings: Settings, token: str) -> str:
    # Built from configuration, never from the request's Host header (ARCHITECTURE §9).
    return settings.public_base_url.rstrip("/") + TAKE_PATH + token


def _issue_token(assessment: Assessment, link_valid_days: int | None, settings: Settings) -> str:
    token = new_token()
    now = utcnow()
    assessment.token_hash = hash_token(token)
    assessment.token_issued_at = now
    assessment.link_expires_at = (
        None if link_valid_days is None else now + timedelta(days=link_valid_days)
    )
    return _invite_url(settings, token)


def create_assessment(
    session: Session,
    actor: User,
    candidate_id: int,
    rubric_id: str,
    role_id: str,
    time_limit_minutes: int | None,
    link_valid_days: int | None,
    settings: Settings,
) -> tuple[Assessment, str]:
    """Invite a candidate: pin the rubric, draw the items, return the invite URL once.

    Only the token's hash is stored, so the URL can never be shown again; `reissue_link`
    makes a new one. `None` means no time limit / a link that does not expire.
    """
    require_hr(actor)
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise InvalidInput(f"no candidate with id {candidate_id}", field="candidate_id")
    if candidate.anonymised_at is not None:
        raise Conflict("this candidate's data was anonymised", field="candidate_id")
    rubrics = rubric_service.current_rubrics(settings.rubrics_dir)
    if rubric_id not in rubrics:
        raise InvalidInput(
            f"no rubric {rubric_id!r} (rubrics: {', '.join(sorted(rubrics))})", field="rubric_id"
        )
    loaded = rubrics[rubric_id]
    try:
        role = loaded.rubric.role(role_id)
    except KeyError:
        known = ", ".join(r.id for r in loaded.rubric.roles)
        raise InvalidInput(f"no role {role_id!r} (roles: {known})", field="role_id") from None
    if time_limit_minutes is not None and not 1 <= time_limit_minutes <= TIME_LIMIT_MAX_MINUTES:
        raise InvalidInput(
            f"give a time limit of 1–{TIME_LIMIT_MAX_MINUTES} minutes, or none",
            field="time_limit_minutes",
        )
    _check_days(link_valid_days, "link_valid_days")

    rubric_service.pin(session, loaded)
    # 31 bits fit the Integer column on every backend.
    seed = secrets.randbelow(2**31)
    assessment = Assessment(
        candidate_id=candidate.id,
        rubric_id=rubric_id,
        rubric_version=loaded.version,
        role_id=role.id,
        status=Status.INVITED.value,
        seed=seed,
        item_ids=draw_items(loaded.rubric, role, seed),
        time_limit_minutes=time_limit_minutes,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    url = _issue_token(assessment, link_valid_days, settings)
    session.add(assessment)
    session.flush()
    audit.assessment_event(session, actor, "assessment.invited", assessment.id)
    return assessment, url


def _get(session: Session, assessment_id: int, *, lock: bool = False) -> Assessment:
    query = select(Assessment).where(Assessment.id == assessment_id)
    if lock:
        # Serialises ratings of one assessment on PostgreSQL (SQLite has a single writer), so
        # each rescoring sees every rating committed before it; refresh what was cached.
        query = query.with_for_update().execution_options(populate_existing=True)
    assessment = session.scalar(query)
    if assessment is None:
        raise NotFound("no such assessment")
    return assessment


def _assignment(session: Session, assessment_id: int, user_id: int) -> RaterAssignment | None:
    return session.scalar(
        select(RaterAssignment).where(
            RaterAssignment.assessment_id == assessment_id, RaterAssignment.user_id == user_id
        )
    )


def get_for(session: Session, user: User, assessment_id: int) -> Assessment:
    """The assessment if `user` may see it: HR and admins all, others where they rate.

    Anyone else gets NotFound, so assessment ids reveal nothing.
    """
    assessment = session.get(Assessment, assessment_id)
    if assessment is None or (
        not is_hr(user) and _assignment(session, assessment_id, user.id) is None
    ):
        raise NotFound("no such assessment")
    return assessment


def reissue_link(
    session: Session,
    actor: User,
    assessment_id: int,
    link_valid_days: int | None,
    settings: Settings,
) -> tuple[Assessment, str]:
    """A new invite link; the old one stops working at once.

    Allowed while invited, for an expired or revoked invitation that was never started
    (it becomes invited again), and in progress (to resume on another device: answers and
    deadline stay as they are). Refused once submitted, or for a revoked sitting that had
    started. The new link expires `link_valid_days` from now (None: never).
    """
    require_hr(actor)
    assessment = _get(session, assessment_id)
    _check_days(link_valid_days, "link_valid_days")
    status = Status(assessment.status)
    if status in (Status.EXPIRED, Status.REVOKED):
        if assessment.started_at is not None:
            raise Conflict("this sitting was started and then revoked; invite the candidate anew")
        assessment.status = transition(assessment.status, Status.INVITED)
        assessment.revoked_at = None
    elif status not in (Status.INVITED, Status.IN_PROGRESS):
        raise Conflict(f"an assessment that is {status.value} needs no link")
    url = _issue_token(assessment, link_valid_days, settings)
    session.flush()
    audit.assessment_event(
        session, actor, "assessment.link_reissued", assessment_id, status=assessment.status
    )
    return assessment, url


def revoke(session: Session, actor: User, assessment_id: int) -> Assessment:
    """Close the link (invited or in progress); the candidate is told it was withdrawn.

    The token hash stays so the candidate page can say "withdrawn" rather than "unknown".
    """
    require_hr(actor)
    assessment = _get(session, assessment_id)
    before = assessment.status
    assessment.status = transition(assessment.status, Status.REVOKED)
    assessment.revoked_at = utcnow()
    session.flush()
    audit.assessment_event(session, actor, "assessment.revoked", assessment_id, was=before)
    return assessment


def extend(session: Session, actor: User, assessment_id: int, days: int) -> Assessment:
    """Push the link's expiry `days` further (from now if it already passed).

    An expired, never-started invitation becomes invited again. A sitting in progress
    keeps its deadline: time limits are per sitting and are not extended.
    """
    require_hr(actor)
    _check_days(days, "days")
    assessment = _get(session, assessment_id)
    status = Status(assessment.status)
    if status not in (Status.INVITED, Status.EXPIRED, Status.IN_PROGRESS):
        raise Conflict(f"the link of an assessment that is {status.value} cannot be extended")
    if assessment.link_expires_at is None:
        raise Conflict("this link does not expire", field="days")
    if status is Status.EXPIRED:
        if assessment.started_at is not None:
            raise Conflict("this sitting was started; invite the candidate anew")
        assessment.status = transition(assessment.status, Status.INVITED)
    now = utcnow()
    assessment.link_expires_at = max(assessment.link_expires_at, now) + timedelta(days=days)
    session.flush()
    audit.assessment_event(
        session,
        actor,
        "assessment.link_extended",
        assessment_id,
        days=days,
        status=assessment.status,
    )
    return assessment


def set_candidate_feedback(
    session: Session, actor: User, assessment_id: int, enabled: bool
) -> Assessment:
    """Allow (or stop) the candidate-facing feedback report for this assessment."""
    require_hr(actor)
    assessment = _get(session, assessment_id)
    assessment.candidate_feedback = enabled
    session.flush()
    audit.assessment_event(session, actor, "assessment.feedback_changed", assessment_id, on=enabled)
    return assessment


def _link_active(assessment: Assessment, now: datetime) -> bool:
    # Link expiry guards invitations only: a started sitting runs to its own deadline.
    if assessment.token_hash is None:
        return False
    if assessment.status == Status.IN_PROGRESS:
        return True
    return assessment.status == Status.INVITED and (
        assessment.link_expires_at is None or assessment.link_expires_at > now
    )


def get_assessment_view(session: Session, user: User, assessment_id: int) -> views.AssessmentView:
    """The assessment page: HR sees candidate, raters and result; a rater sees it blind."""
    assessment = get_for(session, user, assessment_id)
    rubric = rubric_service.get_version(session, assessment.rubric_version)
    candidate = raters = summary = None
    if is_hr(user):
        candidate_row = session.get(Candidate, assessment.candidate_id)
        candidate = _candidate_view(candidate_row) if candidate_row else None
        raters = list_raters(session, user, assessment_id)
        stored = session.get(AssessmentResult, assessment_id)
        if stored is not None:
            summary = views.ResultSummary(
                final=stored.final,
                overall_level=stored.overall_level,
                fit=stored.fit,
                recommendation=stored.recommendation,
                recommendation_label=views.band_label(
                    rubric, assessment.role_id, stored.recommendation
                ),
                computed_at=stored.computed_at,
            )
    return views.AssessmentView(
        id=assessment.id,
        rubric_id=assessment.rubric_id,
        rubric_version=assessment.rubric_version,
        role_id=assessment.role_id,
        role_name=views.role_name(rubric, assessment.role_id),
        status=Status(assessment.status).value,
        item_count=len(assessment.item_ids),
        time_limit_minutes=assessment.time_limit_minutes,
        link_expires_at=assessment.link_expires_at,
        link_active=_link_active(assessment, utcnow()),
        candidate_feedback=assessment.candidate_feedback,
        token_issued_at=assessment.token_issued_at,
        created_at=assessment.created_at,
        started_at=assessment.started_at,
        deadline_at=assessment.deadline_at,
        submitted_at=assessment.submitted_at,
        scored_at=assessment.scored_at,
        revoked_at=assessment.revoked_at,
        candidate=candidate,
        raters=tuple(raters or ()),
        result=summary,
    )


# ── the candidate list ──────────────────────────────────────────────────────────────────


PAGE_SIZE = 50
PAGE_SIZE_MAX = 200
PAGE_MAX = 1_000_000  # keeps the row offset within every backend's integers
# Only what a row shows: the stored result (~10 KB of JSON each) and the drawn items are
# left in the database, where decoding them took most of the time of a long list.
_ROW_COLUMNS = (
    Assessment.id,
    Assessment.candidate_id,
    Candidate.name,
    Candidate.email,
    Assessment.rubric_id,
    Assessment.role_id,
    Assessment.rubric_version,
    Assessment.status,
    AssessmentResult.overall_level,
    AssessmentResult.fit,
    AssessmentResult.recommendation,
    AssessmentResult.final,
    Assessment.created_at,
    Assessment.submitted_at,
)


def _check_sort(sort: str) -> SortKey:
    for key in SORT_KEYS:
        if sort == key:
            return key
    raise InvalidInput(f"sort by one of {', '.join(SORT_KEYS)}, not {sort!r}", field="sort")


class ListFilters(TypedDict, total=False):
    """What narrows and orders the candidate list; every key may be left out."""

    rubric_id: str | None
    role_id: str | None
    status: str | None
    search: str | None
    sort: str  # a SortKey; "created" when left out
    descending: bool


def _filtered(query: AnySelect, filters: ListFilters) -> AnySelect:
    """`query` (over assessment joined to candidate) narrowed to the list's filters."""
    rubric_id, role_id = filters.get("rubric_id"), filters.get("role_id")
    status, search = filters.get("status"), filters.get("search")
    if rubric_id:
        query = query.where(Assessment.rubric_id == rubric_id)
    if role_id:
        query = query.where(Assessment.role_id == role_id)
    if status:
        if status not in {s.value for s in Status}:
            known = ", ".join(s.value for s in Status)
            raise InvalidInput(f"unknown status {status!r} (one of {known})", field="status")
        query = query.where(Assessment.status == status)
    if search and search.strip():
        term = search.strip()
        query = query.where(
            Candidate.name.icontains(term, autoescape=True)
            | Candidate.email.icontains(term, autoescape=True)
        )
    return query


def _sorted(query: AnySelect, sort: SortKey, descending: bool) -> AnySelect:
    column = {
        "created": Assessment.created_at,
        "name": Candidate.name,
        "level": AssessmentResult.overall_level,
        "fit": AssessmentResult.fit,
        "status": case(
            {s.value: n for n, s in enumerate(STATUS_ORDER)}, value=Assessment.status, else_=99
        ),
    }[sort]
    ordered = column.desc() if descending else column.asc()
    # Rows without a level or fit go last whichever way the list is sorted.
    tie = Assessment.id.desc() if descending else Assessment.id.asc()
    return query.order_by(ordered.nulls_last(), tie)


def _row_query(filters: ListFilters) -> AnySelect:
    query = (
        select(*_ROW_COLUMNS)
        .join(Candidate, Candidate.id == Assessment.candidate_id)
        .outerjoin(AssessmentResult, AssessmentResult.assessment_id == Assessment.id)
    )
    filtered = _filtered(query, filters)
    sort = _check_sort(filters.get("sort", "created"))
    return _sorted(filtered, sort, filters.get("descending", False))


def _list_rows(session: Session, query: AnySelect) -> list[views.AssessmentRow]:
    """The rows of `query`, plus one query per rubric version not yet parsed in this process."""
    rows = session.execute(query).all()
    rubrics = _rubrics(session, (row.rubric_version for row in rows))
    return [
        views.AssessmentRow(
            id=row.id,
            candidate_id=row.candidate_id,
            candidate_name=row.name,
            candidate_email=row.email,
            rubric_id=row.rubric_id,
            role_id=row.role_id,
            role_name=views.role_name(rubrics[row.rubric_version], row.role_id),
            status=Status(row.status).value,
            overall_level=row.overall_level,
            fit=row.fit,
            recommendation=row.recommendation,
            recommendation_label=views.band_label(
                rubrics[row.rubric_version], row.role_id, row.recommendation
            ),
            final=row.final,
            created_at=row.created_at,
            submitted_at=row.submitted_at,
        )
        for row in rows
    ]


def list_assessments(
    session: Session, actor: User, **filters: Unpack[ListFilters]
) -> list[views.AssessmentRow]:
    """HR's whole candidate list (for exports and batches), filtered and sorted in SQL.

    One query for the rows plus one per rubric version not yet parsed in this process
    (for role names and band labels), whatever the number of rows.
    """
    require_hr(actor)
    return _list_rows(session, _row_query(filters))


def page_assessments(
    session: Session,
    actor: User,
    *,
    page: int = 1,
    size: int = PAGE_SIZE,
    **filters: Unpack[ListFilters],
) -> views.AssessmentPage:
    """One page of the candidate list as `list_assessments` would order it, and the total.

    Two queries (the count and the page) plus those of `_list_rows`. A page past the last
    one is empty; FieldErrors names `page` and `size` when they are out of range.
    """
    require_hr(actor)
    errors: dict[str, str] = {}
    if not 1 <= page <= PAGE_MAX:
        errors["page"] = f"give a page number of 1–{PAGE_MAX:,}, not {page}"
    if not 1 <= size <= PAGE_SIZE_MAX:
        errors["size"] = f"give a page size of 1–{PAGE_SIZE_MAX}, not {size}"
    if errors:
        raise FieldErrors(errors)
    query = _row_query(filters)
    counted = _filtered(
        select(func.count())
        .select_from(Assessment)
        .join(Candidate, Candidate.id == Assessment.candidate_id),
        filters,
    )
    total = session.scalar(counted) or 0
    rows = _list_rows(session, query.limit(size).offset((page - 1) * size)) if total else []
    return views.AssessmentPage(rows=tuple(rows), total=total, page=page, size=size)


def status_counts(session: Session, actor: User) -> views.StatusCounts:
    """How many assessments are in each status, and how many results are provisional."""
    require_hr(actor)
    provisional = case((AssessmentResult.final.is_(False), 1), else_=0)
    rows = session.execute(
        select(Assessment.status, func.count(), func.coalesce(func.sum(provisional), 0))
        .outerjoin(AssessmentResult, AssessmentResult.assessment_id == Assessment.id)
        .group_by(Assessment.status)
    ).all()
    by_status = {s.value: 0 for s in STATUS_ORDER}
    by_status.update({status: count for status, count, _ in rows})
    return views.StatusCounts(by_status=by_status, provisional=sum(int(n) for _, _, n in rows))


def assessed_roles(session: Session, actor: User) -> list[tuple[str, str]]:
    """Each (rubric id, role id) candidates were invited for, in order of the first invitation."""
    require_hr(actor)
    first = func.min(Assessment.id)
    rows = session.execute(
        select(Assessment.rubric_id, Assessment.role_id)
        .group_by(Assessment.rubric_id, Assessment.role_id)
        .order_by(first)
    )
    return [(rubric_id, role_id) for rubric_id, role_id in rows]


# ── raters ──────────────────────────────────────────────────────────────────────────────


def list_raters(session: Session, actor: User, assessment_id: int) -> list[views.RaterView]:
    require_hr(actor)
    _get(session, assessment_id)
    given = Counter(
        session.scalars(select(Rating.rater_id).where(Rating.assessment_id == assessment_id))
    )
    rows = session.execute(
        select(RaterAssignment, User)
        .join(User, User.id == RaterAssignment.user_id)
        .where(RaterAssignment.assessment_id == assessment_id)
        .order_by(RaterAssignment.assigned_at, RaterAssignment.id)
    )
    return [
        views.RaterView(
            user_id=user.id,
            name=user.name,
            email=user.email,
            role=user.role,
            active=user.is_active,
            adjudicator=assignment.adjudicator,
            assigned_at=assignment.assigned_at,
            ratings_given=given[user.id],
        )
        for assignment, user in rows
    ]


def assign_rater(
    session: Session, actor: User, assessment_id: int, user_id: int, adjudicator: bool = False
) -> RaterAssignment:
    """Make an active staff user a rater (or the adjudicator) of this assessment's samples."""
    require_hr(actor)
    assessment = _get(session, assessment_id)
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidInput("no active staff user with this id", field="user_id")
    if assessment.status in (Status.EXPIRED, Status.REVOKED):
        raise Conflict(f"the assessment is {assessment.status}; there is nothing to rate")
    if _assignment(session, assessment_id, user_id) is not None:
        raise Conflict(f"{user.name} already rates this assessment", field="user_id")
    assignment = RaterAssignment(
        assessment_id=assessment_id,
        user_id=user_id,
        adjudicator=adjudicator,
        assigned_at=utcnow(),
    )
    session.add(assignment)
    session.flush()
    return assignment


def unassign_rater(session: Session, actor: User, assessment_id: int, user_id: int) -> None:
    """Remove a rater; ratings they already gave stay part of the score."""
    require_hr(actor)
    _get(session, assessment_id)
    assignment = _assignment(session, assessment_id, user_id)
    if assignment is None:
        raise NotFound("this user does not rate this assessment")
    session.delete(assignment)
    session.flush()


# ── rating ──────────────────────────────────────────────────────────────────────────────


def _flagged(stored: AssessmentResult | None) -> set[str]:
    if stored is None:
        return set()
    return {
        f["item"]
        for f in stored.result.get("flags", [])
        if f.get("code") == "needs_adjudication" and f.get("item")
    }


def _is_rateable(item: Item | None) -> TypeGuard[Item]:
    return item is not None and item.type is ItemType.WORK_SAMPLE


def rating_queue(session: Session, rater: User) -> list[views.QueueEntry]:
    """Work samples `rater` still has to rate, oldest submission first.

    Raters get every answered work sample of the submitted assessments they rate that they
    have not rated yet; adjudicators only the items flagged for adjudication.
    """
    rows = session.execute(
        select(Assessment, RaterAssignment.adjudicator)
        .join(RaterAssignment, RaterAssignment.assessment_id == Assessment.id)
        .where(
            RaterAssignment.user_id == rater.id,
            Assessment.status.in_([s.value for s in FINISHED]),
        )
        .order_by(Assessment.submitted_at.nulls_last(), Assessment.id)
    ).all()
    if not rows:
        return []
    ids = [a.id for a, _ in rows]
    answered = {
        (assessment_id, item_id)
        for assessment_id, item_id, text in session.execute(
            select(Answer.assessment_id, Answer.item_id, Answer.text).where(
                Answer.assessment_id.in_(ids), Answer.text.is_not(None)
            )
        )
        if text and text.strip()
    }
    rated = {
        (assessment_id, item_id)
        for assessment_id, item_id in session.execute(
            select(Rating.assessment_id, Rating.item_id).where(
                Rating.rater_id == rater.id, Rating.assessment_id.in_(ids)
            )
        )
    }
    adjudicating = [a.id for a, adjudicator in rows if adjudicator]
    flagged = {
        r.assessment_id: _flagged(r)
        for r in (
            session.scalars(
                select(AssessmentResult).where(AssessmentResult.assessment_id.in_(adjudicating))
            )
            if adjudicating
            else []
        )
    }
    rubrics = _rubrics(session, (a.rubric_version for a, _ in rows))
    queue = []
    for assessment, adjudicator in rows:
        rubric = rubrics[assessment.rubric_version]
        index = rubric.item_index()
        for item_id in assessment.item_ids:
            key = (assessment.id, item_id)
            item = index.get(item_id)
            if not _is_rateable(item) or key not in answered or key in rated:
                continue
            if adjudicator and item_id not in flagged.get(assessment.id, set()):
                continue
            queue.append(
                views.QueueEntry(
                    assessment_id=assessment.id,
                    item_id=item_id,
                    role_name=views.role_name(rubric, assessment.role_id),
                    competency_id=item.competency,
                    competency_name=dict(rubric.competency(item.competency).name),
                    prompt=dict(item.prompt),
                    submitted_at=assessment.submitted_at,
                    adjudication=adjudicator,
                )
            )
    return queue


@dataclass(frozen=True)
class _Task:
    assessment: Assessment
    assignment: RaterAssignment
    rubric: Rubric
    item: Item
    answer: str
    own: Rating | None


def _task(session: Session, rater: User, assessment_id: int, item_id: str, *, lock: bool) -> _Task:
    """The rating task if `rater` may rate this item now; NotFound/Conflict otherwise."""
    assessment = session.get(Assessment, assessment_id)
    assignment = _assignment(session, assessment_id, rater.id) if assessment else None
    if assessment is None or assignment is None:
        raise NotFound("no such rating task")
    if lock:
        assessment = _get(session, assessment_id, lock=True)
    rubric = rubric_service.get_version(session, assessment.rubric_version)
    item = rubric.item_index().get(item_id)
    if item_id not in assessment.item_ids or not _is_rateable(item):
        raise NotFound("no such rating task")
    if Status(assessment.status) not in FINISHED:
        raise Conflict("the candidate has not submitted yet; rate once the answers are final")
    answer = session.scalar(
        select(Answer).where(Answer.assessment_id == assessment_id, Answer.item_id == item_id)
    )
    text = (answer.text or "") if answer else ""
    if not text.strip():
        # A blank work sample scores 0 and is never sent to raters.
        raise NotFound("no such rating task")
    own = session.scalar(
        select(Rating).where(
            Rating.assessment_id == assessment_id,
            Rating.item_id == item_id,
            Rating.rater_id == rater.id,
        )
    )
    if (
        assignment.adjudicator
        and own is None
        and item_id not in _flagged(session.get(AssessmentResult, assessment_id))
    ):
        raise NotFound("no such rating task")
    return _Task(assessment, assignment, rubric, item, text, own)


def get_rating_task(
    session: Session, rater: User, assessment_id: int, item_id: str
) -> views.RatingTask:
    """The item, criteria, anchors and answer for an assigned rater, with their own rating.

    Never another rater's rating or any score; NotFound unless `rater` is assigned and the
    item is an answered work sample of this assessment.
    """
    task = _task(session, rater, assessment_id, item_id, lock=False)
    rubric, item = task.rubric, task.item
    return views.RatingTask(
        assessment_id=assessment_id,
        item_id=item_id,
        role_name=views.role_name(rubric, task.assessment.role_id),
        competency_id=item.competency,
        competency_name=dict(rubric.competency(item.competency).name),
        anchors=views.anchors_of(rubric, item.competency),
        prompt=dict(item.prompt),
        criteria=views.criteria_of(item),
        answer_text=task.answer,
        adjudication=task.assignment.adjudicator,
        own_rating=None if task.own is None else _own(task.own),
    )


def _own(rating: Rating) -> views.OwnRating:
    return views.OwnRating(
        criteria=dict(rating.criteria),
        note=rating.note,
        adjudication=rating.adjudication,
        rated_at=rating.rated_at,
    )


def _rating_errors(item: Item, criteria: Mapping[str, str], note: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    known = {c.id: c for c in item.criteria}
    for criterion_id in criteria:
        if criterion_id not in known:
            errors[f"criteria.{criterion_id}"] = f"unknown criterion {criterion_id!r}"
    for criterion in item.criteria:
        levels = [level.id for level in criterion.levels]
        chosen = criteria.get(criterion.id)
        if not chosen:
            errors[f"criteria.{criterion.id}"] = "pick a level for this criterion"
        elif chosen not in levels:
            errors[f"criteria.{criterion.id}"] = (
                f"unknown level {chosen!r} (levels: {', '.join(levels)})"
            )
    if len(note) > RATING_NOTE_MAX:
        errors["note"] = f"the note has {len(note)} characters; at most {RATING_NOTE_MAX} allowed"
    return errors


def save_rating(
    session: Session,
    rater: User,
    assessment_id: int,
    item_id: str,
    criteria: Mapping[str, str],
    note: str = "",
) -> views.OwnRating:
    """Store (or replace) the rater's levels for one work sample and rescore the assessment.

    Raises FieldErrors naming each criterion that is missing or has an unknown level.
    """
    task = _task(session, rater, assessment_id, item_id, lock=True)
    note = note.strip()
    errors = _rating_errors(task.item, criteria, note)
    if errors:
        raise FieldErrors(errors)
    rating = task.own
    changed = rating is not None
    if rating is None:
        # The assessment row is locked (see _task), so no concurrent insert can race this one.
        rating = Rating(assessment_id=assessment_id, item_id=item_id, rater_id=rater.id)
        session.add(rating)
    rating.criteria = {c.id: criteria[c.id] for c in task.item.criteria}
    rating.note = note
    rating.adjudication = task.assignment.adjudicator
    rating.rated_at = utcnow()
    session.flush()
    results.compute(session, task.assessment)
    audit.assessment_event(
        session,
        rater,
        "assessment.adjudicated" if rating.adjudication else "assessment.rating_saved",
        assessment_id,
        item=item_id,
        changed=changed,
    )
    return _own(rating)


# ── results ─────────────────────────────────────────────────────────────────────────────


def get_result_view(session: Session, actor: User, assessment_id: int) -> views.ResultView:
    """Everything the result page shows (HR only); NotFound until there is a result."""
    require_hr(actor)
    assessment_view = get_assessment_view(session, actor, assessment_id)
    stored = session.get(AssessmentResult, assessment_id)
    if stored is None:
        raise NotFound(f"no result yet: the assessment is {assessment_view.status}")
    assessment = _get(session, assessment_id)
    rubric = rubric_service.get_version(session, stored.rubric_version)
    answers = {
        a.item_id: a.text or ""
        for a in session.scalars(select(Answer).where(Answer.assessment_id == assessment_id))
    }
    ratings = [
        views.StoredRating(
            item_id=rating.item_id,
            rater_id=rating.rater_id,
            rater_name=name,
            adjudication=rating.adjudication,
            note=rating.note,
            rated_at=rating.rated_at,
        )
        for rating, name in session.execute(
            select(Rating, User.name)
            .join(User, User.id == Rating.rater_id)
            .where(Rating.assessment_id == assessment_id)
            .order_by(Rating.rated_at, Rating.id)
        )
    ]
    inputs = views.ResultInputs(
        rubric=rubric,
        role_id=assessment.role_id,
        data=stored.result,
        answers=answers,
        ratings=ratings,
        computed_at=stored.computed_at,
    )
    return views.build_result(inputs, assessment_view)
