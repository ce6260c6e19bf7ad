"""API models for the audit log (read-only: events are written by the services, never posted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None = Field(description="the staff user who acted; null for the system")
    actor_name: str | None = Field(description="that user's current name")
    actor_label: str = Field(
        description="role and id at the time, or what acted (e.g. 'retention')"
    )
    action: str = Field(examples=["assessment.result_viewed"])
    object_type: str = Field(examples=["assessment"])
    object_id: str | None
    subject: str | None = Field(
        description="the person the event is about: `user:ID` or `candidate:ID`"
    )
    subject_name: str | None = Field(description="that person's current (possibly erased) name")
    detail: dict[str, Any]


class AuditPageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    events: list[AuditEventOut] = Field(description="newest first")
    page: int
    per_page: int
    total: int = Field(description="events matching the filters, over all pages")
    pages: int
