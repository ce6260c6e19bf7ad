"""Teams, review cycles, who rates whom, the ratings given and the released results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # The rubric role profile this person is measured against, e.g. "specialist".
    role_id: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewCycle(Base):
    __tablename__ = "review_cycle"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    rubric_id: Mapped[str] = mapped_column(String(64))
    rubric_version: Mapped[str] = mapped_column(ForeignKey("rubric_version.version"))
    role_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # {"peer": 3, "report": 3, …} and optional group weights for Others.
    min_raters: Mapped[dict[str, int]] = mapped_column(JSON)
    group_weights: Mapped[dict[str, float]] = mapped_column(JSON)
    # Orders released comments by a keyed hash, so the order says nothing about who or when.
    comment_seed: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewRatee(Base):
    __tablename__ = "review_ratee"
    __table_args__ = (UniqueConstraint("cycle_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycle.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )


class ReviewRequest(Base):
    """One rater asked to rate one ratee, in one group; never twice for the same ratee."""

    __tablename__ = "review_request"
    __table_args__ = (UniqueConstraint("ratee_id", "rater_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ratee_id: Mapped[int] = mapped_column(ForeignKey("review_ratee.id", ondelete="CASCADE"))
    rater_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    group: Mapped[str] = mapped_column(String(16))
    # nominated (awaiting the lead) → approved; declined nominations are kept as such.
    status: Mapped[str] = mapped_column(String(16))
    nominated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewAnswer(Base):
    """A rating of one competency: a level, or "not observed"; a draft may hold neither yet,
    only a comment. Submitting needs one of the two for every competency."""

    __tablename__ = "review_answer"
    __table_args__ = (
        UniqueConstraint("request_id", "competency_id"),
        CheckConstraint("level IS NULL OR NOT not_observed", name="level_or_not_observed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("review_request.id", ondelete="CASCADE"))
    competency_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[int | None] = mapped_column(Integer)
    not_observed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    comment: Mapped[str] = mapped_column(Text, default="")
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def chosen(self) -> bool:
        return self.level is not None or self.not_observed


class ReviewResult(Base):
    """The released, anonymised aggregate of one ratee in one cycle."""

    __tablename__ = "review_result"

    ratee_id: Mapped[int] = mapped_column(
        ForeignKey("review_ratee.id", ondelete="CASCADE"), primary_key=True
    )
    rubric_version: Mapped[str] = mapped_column(ForeignKey("rubric_version.version"))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
