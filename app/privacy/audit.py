"""The audit log: `record` writes one row in the caller's transaction; admins read it back.

Callers pass ids and short codes, never personal data: `detail` says what changed (an item
id, a status), not what anyone wrote, so erasing a person never has to rewrite the log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import false, func, insert, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.assessments.models import Assessment, Candidate
from app.db import utcnow
from app.errors import Forbidden, InvalidInput
from app.privacy.models import AuditEvent
from app.reviews.models import ReviewRatee

Text = tuple[str, str]  # (zh, en)
PersonKind = Literal["user", "candidate"]

# Every action the log knows, with what the admin page calls it.
ACTIONS: Mapping[str, Text] = {
    "assessment.result_viewed": ("查看测评结果", "Assessment result viewed"),
    "assessment.report_viewed": ("查看或下载测评报告", "Assessment report viewed or downloaded"),
    "assessment.invited": ("发出测评邀请", "Candidate invited"),
    "assessment.revoked": ("撤回测评邀请", "Invitation revoked"),
    "assessment.link_reissued": ("重新生成邀请链接", "Invite link reissued"),
    "assessment.link_extended": ("延长链接有效期", "Invite link extended"),
    "assessment.submitted": ("候选人提交作答", "Answers submitted"),
    "assessment.feedback_changed": ("更改候选人反馈设置", "Candidate feedback switched"),
    "assessment.rating_saved": ("保存或修改评分", "Rating saved or changed"),
    "assessment.adjudicated": ("仲裁评分", "Adjudication saved"),
    "assessment.list_exported": ("导出候选人列表", "Candidate list exported"),
    "review.result_viewed": ("查看 360 结果", "Review result viewed"),
    "review.results_listed": ("查看周期全部结果", "Cycle results viewed"),
    "review.report_viewed": ("查看或下载 360 报告", "Review report viewed or downloaded"),
    "review.cycle_opened": ("开启评估周期", "Review cycle opened"),
    "review.cycle_closed": ("关闭并发布评估周期", "Review cycle closed and released"),
    "review.rating_submitted": ("提交 360 评分", "Review rating submitted"),
    "team.report_viewed": ("查看或下载团队报告", "Team report viewed or downloaded"),
    "plan.created": ("制定发展计划", "Plan created"),
    "plan.changed": ("修改发展计划", "Plan changed"),
    "person.exported": ("导出个人数据", "Personal data exported"),
    "person.erased": ("删除个人数据", "Personal data erased"),
    "retention.run": ("按保留期限匿名化", "Retention run"),
}
PER_PAGE = 50
PER_PAGE_MAX = 200
_PERSON = re.compile(r"(user|candidate):(\d{1,12})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Person:
    """A person the log is about: a staff user or a candidate, by id."""

    kind: PersonKind
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


Actor = User | str | None


def actor_label(actor: Actor) -> str:
    if isinstance(actor, User):
        return f"{actor.role} #{actor.id}"
    return actor or "system"


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: int | str | None = None,
    *,
    subject: Person | None = None,
    **detail: Any,
) -> None:
    """One INSERT, committed (or rolled back) with the caller's transaction.

    `actor` is the signed-in user, or a label for what acted without an account
    ("command line", "candidate", "retention").
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    # A transient stand-in user (id 0, the command line's reports) has no row to point at.
    user_id = actor.id if isinstance(actor, User) and actor.id else None
    session.execute(
        insert(AuditEvent).values(
            at=utcnow(),
            actor_id=user_id,
            actor_label=actor_label(actor),
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            subject_kind=subject.kind if subject else None,
            subject_id=subject.id if subject else None,
            detail=detail,
        )
    )


def assessment_event(
    session: Session, actor: Actor, action: str, assessment_id: int, **detail: Any
) -> None:
    """An event about one assessment, its candidate as the subject."""
    # Usually already in the identity map: the caller has just loaded it.
    assessment = session.get(Assessment, assessment_id)
    subject = Person("candidate", assessment.candidate_id) if assessment else None
    record(session, actor, action, "assessment", assessment_id, subject=subject, **detail)


def review_event(
    session: Session, actor: Actor, action: str, cycle_id: int, user_id: int, **detail: Any
) -> None:
    """An event about one person's result in one review cycle."""
    record(
        session, actor, action, "review_cycle", cycle_id, subject=Person("user", user_id), **detail
    )


def ratee_event(session: Session, actor: Actor, action: str, ratee_id: int, **detail: Any) -> None:
    """As `review_event`, for routes that address the result by its review_ratee id."""
    ratee = session.get(ReviewRatee, ratee_id)
    if ratee is None:
        record(session, actor, action, "review_ratee", ratee_id, **detail)
        return
    review_event(session, actor, action, ratee.cycle_id, ratee.user_id, **detail)


def plan_event(
    session: Session, actor: Actor, action: str, plan_id: int, user_id: int, **detail: Any
) -> None:
    """An event about one development plan, the person it is for as the subject."""
    record(
        session,
        actor,
        action,
        "development_plan",
        plan_id,
        subject=Person("user", user_id),
        **detail,
    )


# ── reading (admins only) ───────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    actor_label: str
    action: str
    action_label: Text
    object_type: str
    object_id: str | None
    subject: str | None
    subject_name: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class EventPage:
    events: tuple[EventView, ...]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def parse_person(text: str) -> list[Person] | None:
    """`user:ID` or `candidate:ID`; None when `text` is an email (looked up by the caller)."""
    text = text.strip().lower()
    found = _PERSON.fullmatch(text)
    if found:
        kind: PersonKind = "user" if found.group(1) == "user" else "candidate"
        return [Person(kind, int(found.group(2)))]
    if _EMAIL.fullmatch(text):
        return None
    raise InvalidInput(
        f"give an email address, user:ID or candidate:ID, not {text!r}", field="person"
    )


def people_with_email(session: Session, email: str) -> list[Person]:
    email = email.strip().lower()
    users = session.scalars(select(User.id).where(func.lower(User.email) == email))
    candidates = session.scalars(select(Candidate.id).where(func.lower(Candidate.email) == email))
    return [Person("user", i) for i in users] + [Person("candidate", i) for i in candidates]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def list_events(
    session: Session,
    viewer: User,
    *,
    action: str | None = None,
    person: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> EventPage:
    """Events newest first, filtered by action, person (email, `user:ID`, `candidate:ID`)
    and UTC days (both ends included). Admins only."""
    if Role(viewer.role) is not Role.ADMIN:
        raise Forbidden("only admins may read the audit log")
    if action and action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}", field="action")
    if page < 1:
        raise InvalidInput("page numbers start at 1", field="page")
    if not 1 <= per_page <= PER_PAGE_MAX:
        raise InvalidInput(f"give 1–{PER_PAGE_MAX} events per page", field="per_page")
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("the start date is after the end date", field="date_from")
    conditions: list[Any] = []
    if action:
        conditions.append(AuditEvent.action == action)
    if person and person.strip():
        subjects = parse_person(person)
        if subjects is None:
            subjects = people_with_email(session, person)
        matches = [
            (AuditEvent.subject_kind == s.kind) & (AuditEvent.subject_id == s.id) for s in subjects
        ]
        # An email nobody has matches no event, rather than every event.
        conditions.append(or_(*matches) if matches else false())
    if date_from:
        conditions.append(AuditEvent.at >= _day_start(date_from))
    if date_to:
        conditions.append(AuditEvent.at < _day_start(date_to + timedelta(days=1)))
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    rows = session.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    names = _subject_names(session, [event for event, _ in rows])
    return EventPage(
        events=tuple(
            EventView(
                id=event.id,
                at=event.at,
                actor_id=event.actor_id,
                actor_name=actor_name,
                actor_label=event.actor_label,
                action=event.action,
                action_label=ACTIONS.get(event.action, (event.action, event.action)),
                object_type=event.object_type,
                object_id=event.object_id,
                subject=_subject_key(event),
                subject_name=names.get(_subject_key(event) or ""),
                detail=dict(event.detail or {}),
            )
            for event, actor_name in rows
        ),
        page=page,
        per_page=per_page,
        total=total,
    )


def _subject_key(event: AuditEvent) -> str | None:
    if event.subject_kind is None or event.subject_id is None:
        return None
    return f"{event.subject_kind}:{event.subject_id}"


def _subject_names(session: Session, events: list[AuditEvent]) -> dict[str, str]:
    """The current name of every subject on the page (two queries, whatever the page size)."""
    ids: dict[str, set[int]] = {"user": set(), "candidate": set()}
    for event in events:
        if event.subject_kind in ids and event.subject_id is not None:
            ids[event.subject_kind].add(event.subject_id)
    found: dict[str, str] = {}
    if ids["user"]:
        for user_id, name in session.execute(
            select(User.id, User.name).where(User.id.in_(ids["user"]))
        ):
            found[f"user:{user_id}"] = name
    if ids["candidate"]:
        for candidate_id, name in session.execute(
            select(Candidate.id, Candidate.name).where(Candidate.id.in_(ids["candidate"]))
        ):
            found[f"candidate:{candidate_id}"] = name
    return found
