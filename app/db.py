"""Declarative base, engine (with SQLite pragmas) and the per-request session dependency."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


BUSY_TIMEOUT_SECONDS = 10
_HOLDS_WRITER = "yardstick_holds_writer"  # key in the pooled connection's `info`


# Each SQLite engine's writer turn (`_configure_sqlite`), for `sqlite_write`.
_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def _configure_sqlite(engine: Engine) -> None:
    # SQLite's busy handler polls with sleeps growing to 100 ms, so under sustained load a
    # connection that has waited long keeps losing the write lock to fresh ones and fails
    # after the busy timeout. The threads of one process queue here instead, woken in turn;
    # the busy handler is left to arbitrate between processes.
    writer = threading.Lock()
    _SQLITE_WRITERS[engine] = writer

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of pysqlite's deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that later needs the write lock fails at once with
        # "database is locked", ignoring busy_timeout; taking the lock up front waits instead.
        _take_writer_turn(connection.info, writer)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # Back in the pool, so after its COMMIT or ROLLBACK (even for an invalidated connection).
        if record.info.pop(_HOLDS_WRITER, False):
            writer.release()


def _take_writer_turn(info: dict[Any, Any], writer: threading.Lock) -> None:
    """Note in a pooled connection's `info` that it holds the turn; the pool's checkin
    releases it."""
    if not info.get(_HOLDS_WRITER):
        # Bounded, so a connection leaked while holding it only brings back the busy handler.
        info[_HOLDS_WRITER] = writer.acquire(timeout=BUSY_TIMEOUT_SECONDS)


@contextmanager
def sqlite_write(engine: Engine) -> Iterator[Any]:
    """A DBAPI cursor inside BEGIN IMMEDIATE … COMMIT on one of the engine's pooled SQLite
    connections, in the process's writer turn as its sessions take it: for a hot path that
    needs neither the ORM nor SQL compilation. Rolled back if the block raises.

    The writer turn is not reentrant: the calling thread must hold no transaction of its own
    on the engine (a session's would keep the turn, and the database's lock, until it ends).
    """
    connection = engine.raw_connection()
    try:
        _take_writer_turn(connection.info, _SQLITE_WRITERS[engine])
        with _immediate_transaction(connection, wait=True) as cursor:
            yield cursor
    finally:
        connection.close()


@contextmanager
def _immediate_transaction(connection: Any, *, wait: bool) -> Iterator[Any]:
    """BEGIN IMMEDIATE … COMMIT on a DBAPI connection, rolled back if the block raises; when
    not `wait`ing, a write lock another connection holds raises WriterBusy."""
    cursor = connection.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:  # SQLITE_BUSY, once the busy timeout is over
        if wait:
            raise
        raise WriterBusy(str(error)) from error
    try:
        yield cursor
    except BaseException:
        connection.rollback()
        raise
    cursor.execute("COMMIT")


class WriterBusy(Exception):
    """SQLite's write lock is taken (by this process or another): the write would wait."""


@contextmanager
def sqlite_write_now(engine: Engine) -> Iterator[Any]:
    """As `sqlite_write`, but raising WriterBusy, before anything is written, instead of
    waiting for the writer turn or for another process's write lock: for a write made on
    the event loop, which must never wait for a lock.

    The caller must hold a session slot (`session_slot_now`): with none in use by others,
    the pool has a connection to hand out at once.
    """
    connection = engine.raw_connection()
    try:
        if not connection.info.get(_HOLDS_WRITER):
            if not _SQLITE_WRITERS[engine].acquire(blocking=False):
                raise WriterBusy("another request of this process is writing")
            connection.info[_HOLDS_WRITER] = True  # released by the pool's checkin
        settings = connection.cursor()
        settings.execute("PRAGMA busy_timeout=0")
        try:
            with _immediate_transaction(connection, wait=False) as cursor:
                yield cursor
        finally:
            settings.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    finally:
        connection.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        # The pool hands a connection to one thread at a time, so the same-thread check only
        # gets in the way of threadpool routes.
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_after_idle(engine)
    return engine


# A pooled connection unused this long is tested before it is handed out; one in steady use
# is not. A ping costs a round trip (two on PostgreSQL, which opens a transaction for it), a
# fifth of the traffic of an autosave; connections cut while in use (a database restart)
# fail that one request and are replaced, as they would be with a ping on every checkout.
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "yardstick_idle_since"  # key in the pooled connection's `info`


def _ping_after_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        # A connection just made (no entry yet) needs no test.
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (a new one if need be).
            raise DisconnectionError(f"pooled connection is gone: {error}") from error


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


# Requests of one process that may hold a session at once: SQLite has one writer and every
# transaction takes the write lock; elsewhere the `database_session_slots` setting (at most
# 15, the size of SQLAlchemy's default pool: 5 + 10). Both stay below the thread pool's 40.
SQLITE_SESSION_SLOTS = 1
_session_slots: RunVar[anyio.CapacityLimiter] = RunVar("yardstick_session_slots")


def _slots() -> anyio.CapacityLimiter:
    try:
        return _session_slots.get()
    except LookupError:
        sqlite = get_engine().dialect.name == "sqlite"
        count = SQLITE_SESSION_SLOTS if sqlite else get_settings().database_session_slots
        slots = anyio.CapacityLimiter(count)
        _session_slots.set(slots)
        return slots


@contextmanager
def session_slot_now() -> Iterator[bool]:
    """A session slot held for the block if one is free now (True), else nothing (False);
    never waits. On the event loop only."""
    slots = _slots()
    try:
        slots.acquire_nowait()
    except anyio.WouldBlock:
        yield False
        return
    try:
        yield True
    finally:
        slots.release()


# PostgreSQL connections for statements made on the event loop: psycopg's own asynchronous
# pool, per event loop and database. Small: a statement holds one only for a round trip.
LOOP_POOL_SIZE = 8
_loop_pools: RunVar[dict[str, AsyncConnectionPool]] = RunVar("yardstick_loop_pools")


async def loop_connection_pool(engine: Engine) -> AsyncConnectionPool:
    """An open pool of auto-committing psycopg connections to `engine`'s PostgreSQL
    database, for this event loop; closed by `close_loop_pools` when the app stops."""
    try:
        pools = _loop_pools.get()
    except LookupError:
        pools = {}
        _loop_pools.set(pools)
    key = engine.url.render_as_string(hide_password=False)
    pool = pools.get(key)
    if pool is None:
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = pools[key] = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=LOOP_POOL_SIZE,
            kwargs={"autocommit": True},
            open=False,
            name="yardstick-loop",
        )
    if pool.closed:
        await pool.open()
    return pool


async def close_loop_pools() -> None:
    try:
        pools = _loop_pools.get()
    except LookupError:
        return
    for pool in pools.values():
        await pool.close()
    pools.clear()


async def _in_own_thread(call: Callable[[], object]) -> None:
    # Not from the shared thread pool: finishing a request must never wait for a free thread.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(call, limiter=anyio.CapacityLimiter(1))


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


T = TypeVar("T")


@contextmanager
def transaction() -> Iterator[Session]:
    """A session for work done in one worker thread: committed there when the block ends,
    rolled back (closed) if it raises."""
    with get_sessionmaker()() as session:
        yield session
        session.commit()


async def run_in_slot(work: Callable[[], T]) -> T:
    """`work` in a worker thread once one of the session slots `get_session` waits for is free.

    For a route that does all its database work in that one call (`transaction`): it holds a
    slot only while it runs, and never needs a second thread while it holds the database.
    """
    return await anyio.to_thread.run_sync(work, limiter=_slots())


async def get_session() -> AsyncIterator[Session]:
    """One transaction per request: committed here when the route returns, else rolled back.

    Requests wait for a slot here, on the event loop, not in a worker thread: FastAPI checks
    a sync route's response model in the thread pool before this commits, so if every thread
    waited for the database, the request holding it would wait for a thread until the busy
    or pool timeout (a 500 for all of them).
    """
    async with _slots():
        session = get_sessionmaker()()
        try:
            yield session
        except BaseException:
            # close() rolls the transaction back without expiring loaded objects, so the
            # error page can still show who is signed in.
            await _in_own_thread(session.close)
            raise
        if session.in_transaction():
            await _in_own_thread(lambda: _commit_and_close(session))
        else:
            # The route did no database work: no connection is held, so closing does no I/O
            # and needs no thread.
            session.close()
