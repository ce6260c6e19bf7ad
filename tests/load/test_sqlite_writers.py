"""Writers of one app process take turns on SQLite's write lock instead of failing under load."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from app.db import make_engine

WRITERS = 12
HOLD_SECONDS = 0.03
SHORT_BUSY_TIMEOUT_MS = 100


def test_concurrent_write_transactions_of_one_process_queue_rather_than_fail(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")

    # SQLite's busy handler polls with sleeps growing to 100 ms, so under sustained load a
    # waiting connection keeps losing the lock to fresh ones until its busy timeout runs out
    # (10 s in the app: a 500). A short timeout makes any wait in the handler show here.
    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={SHORT_BUSY_TIMEOUT_MS}")

    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE visit (writer INTEGER)"))
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        barrier.wait()
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO visit VALUES (:w)"), {"w": writer})
                time.sleep(HOLD_SECONDS)  # the rest of a request's work, lock held
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        # Together they hold the lock far longer than the busy timeout: only a queue works.
        assert WRITERS * HOLD_SECONDS * 1000 > 3 * SHORT_BUSY_TIMEOUT_MS
        assert failures == []
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT writer FROM visit")).scalars().all()
        assert sorted(stored) == list(range(WRITERS))
    finally:
        engine.dispose()
