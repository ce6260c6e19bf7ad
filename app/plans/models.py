"""Development plans with their items and evidence notes, and practice sessions with answers."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class SourceKind(StrEnum):
    ASSESSMENT = "assessment"
    REVIEW = "review"


class ItemStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class DevelopmentPlan(Base):
    """One person's plan, made from one scored assessment or one released review result."""

    __tablename__ = "development_plan"
    # One plan per piece of evidence: a second "create" from the same source is a conflict.
    __table_args__ = (UniqueConstraint("source_kind", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    source_kind: Mapped[str] = mapped_column(String(16))
    # assessment.id or review_ratee.id: no foreign key, it points into one of two tables, and
    # the plan outlives an erased source because `baseline` keeps what it measured.
    source_id: Mapped[int] = mapped_column(Integer)
    # When the source measured the person; evidence after this is "after" on the plan page.
    source_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rubric_id: Mapped[str] = mapped_column(String(64))
    rubric_version: Mapped[str] = mapped_column(ForeignKey("rubric_version.version"))
    role_id: Mapped[str] = mapped_column(String(64))
    # competency → {"level": float | None, "target": float, "weight": float} at creation.
    baseline: Mapped[dict[str, Any]] = mapped_column(JSON)
    hours_budget: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlanItem(Base):
    """A catalogue module in a plan, under the competency it was planned for."""

    __tablename__ = "plan_item"
    # A module shared by two gaps is one item (taken once, counted once).
    __table_args__ = (UniqueConstraint("plan_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("development_plan.id", ondelete="CASCADE"))
    competency: Mapped[str] = mapped_column(String(64))
    module_id: Mapped[str] = mapped_column(String(64), index=True)
    position: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.PLANNED.value)
    # The lead's note on this item (what to focus on, who to shadow…).
    owner_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlanEvidence(Base):
    """A note the person adds to an item: what they did, where the proof is."""

    __tablename__ = "plan_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("plan_item.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PracticeSession(Base):
    """One run through the practice items of one competency, pinned to a rubric version."""

    __tablename__ = "practice_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    competency: Mapped[str] = mapped_column(String(64))
    rubric_id: Mapped[str] = mapped_column(String(64))
    rubric_version: Mapped[str] = mapped_column(ForeignKey("rubric_version.version"))
    # The items in the order this session asks them.
    item_ids: Mapped[list[str]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PracticeAnswer(Base):
    """The first answer to one item in one session; it stands (a repeat is answered as it was)."""

    __tablename__ = "practice_answer"
    __table_args__ = (UniqueConstraint("session_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("practice_session.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    selected: Mapped[list[str]] = mapped_column(JSON)
    points: Mapped[float] = mapped_column(Float)
    fraction: Mapped[float] = mapped_column(Float)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
