"""What the benchmarks share: the repository on the import path, private databases, percentiles.

The benchmarks run as plain scripts (`make bench`), so the repository root is put on
`sys.path` here before `tests.load` is imported.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app import migrations

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POSTGRES_ENV = ("YARDSTICK_BENCH_POSTGRES_URL", "YARDSTICK_TEST_POSTGRES_URL")


def postgres_url() -> str | None:
    """The PostgreSQL server to benchmark on, if one was given."""
    return next((os.environ[name] for name in POSTGRES_ENV if os.environ.get(name)), None)


def backends() -> list[str]:
    return ["sqlite", *(["postgresql"] if postgres_url() else [])]


@contextmanager
def private_database(backend: str, directory: Path, suffix: str) -> Iterator[str]:
    """A new, empty database (a SQLite file, or a PostgreSQL database dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'{suffix}.db'}"
        return
    server = postgres_url()
    assert server is not None, f"set one of {', '.join(POSTGRES_ENV)}"
    base = make_url(server)
    name = f"{base.database}_bench_{suffix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(
        base.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate(url: str) -> None:
    """`alembic upgrade head`, without Alembic's log lines in the printed figures."""
    config = migrations.alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted sample lies (nearest rank)."""
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]
