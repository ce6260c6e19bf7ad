"""Alembic environment: the app's metadata, batch mode for SQLite, type comparison."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext

from app.config import get_settings
from app.db import make_engine
from app.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _skip_empty(
    context: MigrationContext, revision: Any, directives: list[MigrationScript]
) -> None:
    # An autogenerate run that finds nothing should not leave an empty revision behind.
    if getattr(context.config, "cmd_opts", None) and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        process_revision_directives=_skip_empty,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
