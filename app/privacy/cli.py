"""`yardstick person export|erase` and `yardstick retention run`.

Whoever runs these holds the database already; the audit log records them as the command
line. Errors go to stderr with exit code 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings
from app.db import get_sessionmaker, utcnow
from app.errors import AppError
from app.privacy import people
from app.privacy import service as privacy_service

ACTOR = "command line"

person_app = typer.Typer(help="One person's data: export and erasure.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention of candidate data.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def _describe(records: privacy_service.Records) -> str:
    parts = [f"staff user #{records.user.id}"] if records.user else []
    parts += [f"candidate #{c.id}" for c in records.candidates]
    return ", ".join(parts)


@person_app.command("export")
def export(
    email: Annotated[str, typer.Argument(help="the person's email address")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the JSON here (default: stdout)")
    ] = None,
) -> None:
    """Print (or write) everything stored about one staff user or candidate, as JSON."""
    with get_sessionmaker().begin() as session:
        try:
            data = privacy_service.export_person(session, email, ACTOR, utcnow())
        except AppError as error:
            raise _fail(error.message) from None
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if output is None:
            typer.echo(text, nl=False)
            return
        try:
            # Inside the transaction: if the file cannot be written, the export is not logged.
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise _fail(f"{output}: cannot write: {error.strerror}") from None
        records = len(data["candidates"]) + (data["staff_user"] is not None)
    typer.echo(f"exported {records} record(s) to {output}")


@person_app.command("erase")
def erase(
    email: Annotated[str, typer.Argument(help="the person's email address")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Remove one person's personal data and free text; anonymous figures others rely on stay.

    Refused while an assessment of the person is invited or in progress, or a review cycle
    reviewing them is open.
    """
    # Checked in its own short transaction: holding one open while someone answers the
    # prompt would keep SQLite's write lock from the running service.
    with get_sessionmaker().begin() as session:
        try:
            records = privacy_service.find_person(session, email)
        except AppError as error:
            raise _fail(error.message) from None
        problems = people.running(session, records, utcnow())
        described = _describe(records)
    if problems:
        raise _fail("refused, nothing was erased: " + "; ".join(problems))
    if not yes and not typer.confirm(f"Erase the personal data of {described}?"):
        raise _fail("nothing was erased")
    with get_sessionmaker().begin() as session:
        try:
            done = privacy_service.erase_person(session, email, ACTOR, utcnow())
        except AppError as error:
            raise _fail(f"refused, nothing was erased: {error.message}") from None
    erased = ", ".join(p.key for p in done.erased) or "nothing"
    already = f"; already erased before: {', '.join(p.key for p in done.already)}"
    typer.echo(f"erased {erased}" + (already if done.already else ""))


@retention_app.command("run")
def retention_run(
    days: Annotated[
        int | None,
        typer.Option(
            help="keep candidates this many days after their assessment ended "
            "(default: YARDSTICK_CANDIDATE_RETENTION_DAYS)"
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only count, change nothing")] = False,
) -> None:
    """Anonymise candidates whose assessments ended more than N days ago (safe to repeat)."""
    chosen = days if days is not None else get_settings().candidate_retention_days
    with get_sessionmaker().begin() as session:
        try:
            found = privacy_service.run_retention(session, chosen, utcnow(), dry_run=dry_run)
        except AppError as error:
            raise _fail(error.message) from None
    typer.echo(found.summary())
