"""The privacy domain's entry point: person export and erasure, retention, the audit log.

Functions take the session first, raise AppError subclasses and never commit. The work is
done in small modules: people (finding records), export, erasure, retention, audit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.privacy import audit, erasure, people
from app.privacy import export as exporting
from app.privacy.audit import ACTIONS, Actor, EventPage, Person, list_events, record
from app.privacy.erasure import Erasure, ErasureRefused
from app.privacy.people import PersonNotFound, Records
from app.privacy.retention import RetentionRun
from app.privacy.retention import run as run_retention

__all__ = [
    "ACTIONS",
    "Actor",
    "Erasure",
    "ErasureRefused",
    "EventPage",
    "Person",
    "PersonNotFound",
    "Records",
    "RetentionRun",
    "erase_person",
    "export_person",
    "find_person",
    "list_events",
    "record",
    "run_retention",
]


def find_person(session: Session, email: str) -> Records:
    return people.find(session, email)


def export_person(session: Session, email: str, actor: Actor, now: datetime) -> dict[str, Any]:
    """Everything stored under `email`; the export itself is logged for each record."""
    records = people.find(session, email)
    data = exporting.export(session, records, now)
    for person in records.people:
        audit.record(session, actor, "person.exported", person.kind, person.id, subject=person)
    return data


def erase_person(session: Session, email: str, actor: Actor, now: datetime) -> Erasure:
    """Erase every record under `email` (see `erasure` for what stays and why)."""
    return erasure.erase(session, people.find(session, email), actor, now)
