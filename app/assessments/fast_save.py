"""The autosave of a sitting this process has seen under way, without the ORM.

The usual autosave opens a session, finds and locks the sitting and reads its answers, then
upserts and commits: on PostgreSQL four round trips, and on either backend more time in
the ORM and SQL compilation than in the database. Once a sitting is under way, what its
answers are checked against never changes (the rubric version and the items drawn at
invitation), so a process keeps those facts by token hash; the next save of that sitting
checks the answers first and then stores them directly:

- PostgreSQL: one auto-committed statement finds the sitting still open and share-locks it,
  upserts, and reads the answers saved before. A submit takes the row FOR UPDATE, so it
  waits for a save in flight, and a save that comes after it finds the sitting closed.
- SQLite: on a pooled connection, in the process's writer turn (`db.sqlite_write`), one
  transaction reads the open sitting's earlier answers and upserts. BEGIN IMMEDIATE holds
  the database's one write lock, so no submit can come between the two.

Whenever the sitting is not open (submitted, revoked, time up, link replaced or erased),
nothing is stored and the caller takes the usual path, which says why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Dialect, Engine, bindparam, text
from sqlalchemy.orm import Session

from app.assessments.models import Answer
from app.assessments.states import Status
from app.db import (
    UTCDateTime,
    WriterBusy,
    loop_connection_pool,
    session_slot_now,
    sqlite_write,
    sqlite_write_now,
)
from app.lru import LockedLRU

CACHED_SITTINGS = 10_000  # about 200 bytes each
DIALECTS = frozenset({"postgresql", "sqlite"})


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
# as the usual path stores it. Written with psycopg's placeholders for the event loop's
# connections (`save_on_loop`), and turned into SQLAlchemy's for the worker-thread path.
_POSTGRES_SAVE_SQL = """
    WITH sitting AS (
        SELECT id FROM assessment
        WHERE id = %(assessment_id)s AND token_hash = %(token_hash)s AND status = %(in_progress)s
          AND revoked_at IS NULL AND (deadline_at IS NULL OR deadline_at >= %(not_before)s)
        FOR SHARE
    ), given AS (
        SELECT * FROM json_to_recordset(CAST(%(answers)s AS json))
            AS g(item_id varchar(64), selected json, text text)
    ), saved AS (
        INSERT INTO answer (assessment_id, item_id, selected, text, saved_at)
        SELECT sitting.id, given.item_id, coalesce(given.selected, 'null'::json), given.text,
               %(now)s
        FROM sitting CROSS JOIN given
        ON CONFLICT (assessment_id, item_id) DO UPDATE
        SET selected = excluded.selected, text = excluded.text, saved_at = excluded.saved_at
    )
    SELECT (SELECT json_agg(json_build_array(a.item_id, a.selected, a.text))
            FROM answer AS a WHERE a.assessment_id = sitting.id)
    FROM sitting
"""
_POSTGRES_SAVE = text(re.sub(r"%\((\w+)\)s", r":\1", _POSTGRES_SAVE_SQL)).bindparams(
    bindparam("now", type_=UTCDateTime()),
    bindparam("not_before", type_=UTCDateTime()),
)

_SQLITE_EARLIER = """
    SELECT (SELECT json_group_array(json_array(a.item_id, json(a.selected), a.text))
            FROM answer AS a WHERE a.assessment_id = assessment.id)
    FROM assessment
    WHERE id = ? AND token_hash = ? AND status = ? AND revoked_at IS NULL
      AND (deadline_at IS NULL OR deadline_at >= ?)
"""
_SQLITE_UPSERT = """
    INSERT INTO answer (assessment_id, item_id, selected, text, saved_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (assessment_id, item_id) DO UPDATE
    SET selected = excluded.selected, text = excluded.text, saved_at = excluded.saved_at
"""

Rows = Sequence[Mapping[str, Any]]
Earlier = list[list[Any]]


def engine_for(session: Session) -> Engine | None:
    """The engine to save through, or None where this path does not apply.

    A session bound to a connection (a transaction opened by its caller) must see its own
    uncommitted rows, which another connection would not: it takes the usual path.
    """
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name in DIALECTS:
        return bind
    return None


def save(
    engine: Engine,
    token_hash: str,
    drawn: Drawn,
    rows: Rows,
    now: datetime,
    grace: timedelta,
) -> Earlier | None:
    """Store checked answer rows if the sitting is still open; the answers saved before them,
    as `[item_id, selected, text]` rows.

    None when the sitting is not open to answers: nothing was stored.
    """
    if engine.dialect.name == "sqlite":
        return _save_sqlite(engine, token_hash, drawn, rows, now - grace, writer=sqlite_write)
    return _save_postgres(engine, token_hash, drawn, rows, now, now - grace)


async def save_on_loop(
    engine: Engine,
    token_hash: str,
    drawn: Drawn,
    rows: Rows,
    now: datetime,
    grace: timedelta,
) -> Earlier | None:
    """As `save`, from the event loop, where nothing may wait for a lock.

    SQLite: only with a session slot, the writer turn and the write lock free now
    (`db.session_slot_now`, `db.sqlite_write_now`); else `WriterBusy`, nothing stored, and
    the caller saves in a worker thread. PostgreSQL: the one statement on an auto-committing
    connection of the loop's pool (`db.loop_connection_pool`), awaited.
    """
    if engine.dialect.name == "sqlite":
        with session_slot_now() as free:
            if not free:
                raise WriterBusy("every session slot is in use")
            return _save_sqlite(
                engine, token_hash, drawn, rows, now - grace, writer=sqlite_write_now
            )
    pool = await loop_connection_pool(engine)
    async with pool.connection() as connection:
        cursor = await connection.execute(
            _POSTGRES_SAVE_SQL, _postgres_parameters(token_hash, drawn, rows, now, now - grace)
        )
        row = await cursor.fetchone()
    if row is None:
        return None
    (earlier,) = row
    return list(earlier or ())


def _postgres_parameters(
    token_hash: str, drawn: Drawn, rows: Rows, now: datetime, not_before: datetime
) -> dict[str, Any]:
    given = [{"item_id": r["item_id"], "selected": r["selected"], "text": r["text"]} for r in rows]
    return {
        "assessment_id": drawn.assessment_id,
        "token_hash": token_hash,
        "in_progress": Status.IN_PROGRESS.value,
        # As UTCDateTime binds them on the worker-thread path.
        "not_before": not_before.astimezone(UTC),
        "answers": json.dumps(given, ensure_ascii=False),
        "now": now.astimezone(UTC),
    }


def _save_postgres(
    engine: Engine, token_hash: str, drawn: Drawn, rows: Rows, now: datetime, not_before: datetime
) -> Earlier | None:
    parameters = _postgres_parameters(token_hash, drawn, rows, now, not_before)
    # Its own connection in autocommit mode: the statement is its own transaction, and the
    # caller's session keeps a connection of the usual kind should it need one.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_POSTGRES_SAVE, parameters).one_or_none()
    if row is None:
        return None
    (earlier,) = row
    return list(earlier or ())


def _save_sqlite(
    engine: Engine,
    token_hash: str,
    drawn: Drawn,
    rows: Rows,
    not_before: datetime,
    *,
    writer: Callable[[Engine], AbstractContextManager[Any]],
) -> Earlier | None:
    stored_time, stored_json = _sqlite_converters(engine.dialect)
    status = Status.IN_PROGRESS.value
    # Rows in one order for every caller, as the usual path writes them.
    values = [
        (
            drawn.assessment_id,
            r["item_id"],
            stored_json(r["selected"]),
            r["text"],
            stored_time(r["saved_at"]),
        )
        for r in sorted(rows, key=lambda row: str(row["item_id"]))
    ]
    with writer(engine) as cursor:
        cursor.execute(
            _SQLITE_EARLIER, (drawn.assessment_id, token_hash, status, stored_time(not_before))
        )
        found = cursor.fetchone()
        if found is None:
            return None
        cursor.executemany(_SQLITE_UPSERT, values)
    (earlier,) = found
    return list(json.loads(earlier)) if earlier else []


@cache
def _sqlite_converters(dialect: Dialect) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """How SQLAlchemy stores a datetime and a JSON value on SQLite: the same column text the
    usual path writes and compares with."""
    stored_time = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stored_json = Answer.__table__.c.selected.type.dialect_impl(dialect).bind_processor(dialect)
    if stored_time is None or stored_json is None:
        raise RuntimeError(f"{dialect.name}: no conversion for datetimes or JSON")
    return stored_time, stored_json
