"""PostgreSQL: an autosave of a sitting under way as one auto-committed statement.

The usual autosave is BEGIN, a query that finds and share-locks the sitting and reads its
answers, the upsert, and COMMIT: four round trips to the database for every change a
candidate makes. Once a sitting is under way, what its answers are checked against never
changes (the rubric version and the items drawn at invitation), so a process keeps those
facts by token hash and the next save of that sitting checks the answers first and then
does in a single statement what the four did: find the sitting still open and share-lock
it, upsert, read the answers saved before. A submit takes the row FOR UPDATE, so it waits
for a save in flight, and a save that comes after it finds the sitting closed.

Whenever the statement finds no open sitting (submitted, revoked, time up, link replaced or
erased), the caller takes the usual path, which says why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, text
from sqlalchemy.orm import Session

from app.assessments.states import Status
from app.db import UTCDateTime
from app.lru import LockedLRU

CACHED_SITTINGS = 10_000  # about 200 bytes each


@dataclass(frozen=True)
class Drawn:
    """What a sitting's answers are checked against; fixed when the invitation was made."""

    assessment_id: int
    rubric_version: str
    item_ids: tuple[str, ...]


# Token hash → what that sitting drew.
DRAWN: LockedLRU[str, Drawn] = LockedLRU(CACHED_SITTINGS)

# Answers arrive as one JSON parameter, so the SQL text is the same for any number of them
# and the server can keep it prepared. A text answer's `selected` is stored as JSON null,
# as the usual path stores it.
_SAVE = text(
    """
    WITH sitting AS (
        SELECT id FROM assessment
        WHERE id = :assessment_id AND token_hash = :token_hash AND status = :in_progress
          AND revoked_at IS NULL AND (deadline_at IS NULL OR deadline_at >= :not_before)
        FOR SHARE
    ), given AS (
        SELECT * FROM json_to_recordset(CAST(:answers AS json))
            AS g(item_id varchar(64), selected json, text text)
    ), saved AS (
        INSERT INTO answer (assessment_id, item_id, selected, text, saved_at)
        SELECT sitting.id, given.item_id, coalesce(given.selected, 'null'::json), given.text,
               :now
        FROM sitting CROSS JOIN given
        ON CONFLICT (assessment_id, item_id) DO UPDATE
        SET selected = excluded.selected, text = excluded.text, saved_at = excluded.saved_at
    )
    SELECT (SELECT json_agg(json_build_array(a.item_id, a.selected, a.text))
            FROM answer AS a WHERE a.assessment_id = sitting.id)
    FROM sitting
    """
).bindparams(
    bindparam("now", type_=UTCDateTime()),
    bindparam("not_before", type_=UTCDateTime()),
)


def engine_for(session: Session) -> Engine | None:
    """The PostgreSQL engine to save through, or None where this path does not apply.

    A session bound to a connection (a transaction opened by its caller) must see its own
    uncommitted rows, which another connection would not: it takes the usual path.
    """
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        return bind
    return None


def save(
    engine: Engine,
    token_hash: str,
    drawn: Drawn,
    rows: Sequence[Mapping[str, Any]],
    now: datetime,
    grace: timedelta,
) -> list[list[Any]] | None:
    """Store checked answer rows if the sitting is still open; the answers saved before them,
    as `[item_id, selected, text]` rows.

    None when the sitting is not open to answers: nothing was stored.
    """
    given = [{"item_id": r["item_id"], "selected": r["selected"], "text": r["text"]} for r in rows]
    parameters = {
        "assessment_id": drawn.assessment_id,
        "token_hash": token_hash,
        "in_progress": Status.IN_PROGRESS.value,
        "not_before": now - grace,
        "answers": json.dumps(given, ensure_ascii=False),
        "now": now,
    }
    # Its own connection in autocommit mode: the statement is its own transaction, and the
    # caller's session keeps a connection of the usual kind should it need one.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_SAVE, parameters).one_or_none()
    if row is None:
        return None
    (before,) = row
    return list(before or ())
