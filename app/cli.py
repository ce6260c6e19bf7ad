"""The `yardstick` command line: thin commands over the domain services."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app.accounts import cli as user_cli
from app.assessments.schemas import ResponsesFileIn
from app.assessments.scoring import ScoringInputError, score
from app.privacy import cli as privacy_cli
from app.reports import cli as report_cli
from app.rubrics import cli as rubric_cli
from app.rubrics.loader import RubricError, load_rubric
from app.rubrics.versioning import content_version

app = typer.Typer(help="Yardstick: competency assessment and training.", no_args_is_help=True)
app.add_typer(rubric_cli.app, name="rubric")
app.add_typer(user_cli.app, name="user")
app.add_typer(report_cli.app, name="report")
app.add_typer(privacy_cli.person_app, name="person")
app.add_typer(privacy_cli.retention_app, name="retention")
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
review_app = typer.Typer(help="Review cycles.", no_args_is_help=True)
app.add_typer(review_app, name="review")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations to the configured database (YARDSTICK_DATABASE_URL)."""
    from app import migrations

    migrations.upgrade(revision=revision)
    typer.echo(f"database at {revision}")


@app.command("demo")
def demo() -> None:
    """Load the demo data into the configured database (safe to run twice)."""
    from app import demo as demo_data
    from app.config import get_settings
    from app.db import get_sessionmaker

    with get_sessionmaker().begin() as session:
        for line in demo_data.load(session, get_settings()):
            typer.echo(line)


@review_app.command("close-due")
def review_close_due() -> None:
    """Close and release every review cycle whose due date has passed (run it daily)."""
    from app.db import get_sessionmaker, utcnow
    from app.reviews import service as review_service

    with get_sessionmaker().begin() as session:
        closed = review_service.close_due_cycles(session, utcnow())
    typer.echo(f"closed {len(closed)} cycle(s)" + (f": {closed}" if closed else ""))


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
    reload: bool = False,
) -> None:
    """Run the web service (API and pages) with uvicorn."""
    from app import serving

    serving.run(host=host, port=port, workers=workers, reload=reload)


@app.command("score")
def score_command(
    responses_file: Annotated[Path, typer.Argument(help="RESPONSES.json")],
    rubric_file: Annotated[Path, typer.Option("--rubric", help="the rubric YAML")],
    role: Annotated[str, typer.Option("--role", help="role profile id")],
) -> None:
    """Score a responses file offline and print the result JSON (ARCHITECTURE §3)."""
    try:
        rubric = load_rubric(rubric_file)
    except RubricError as error:
        raise _fail(str(error)) from None
    try:
        raw = json.loads(responses_file.read_text(encoding="utf-8"))
        parsed = ResponsesFileIn.model_validate(raw)
    except OSError as error:
        raise _fail(f"{responses_file}: cannot read: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise _fail(
            f"{responses_file}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}"
        ) from None
    except ValidationError as error:
        lines = [
            f"{responses_file}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in error.errors()
        ]
        raise _fail("\n".join(lines)) from None
    try:
        result = score(
            rubric, content_version(rubric), role, parsed.drawn_items(), parsed.to_responses()
        )
    except ScoringInputError as error:
        raise _fail("\n".join(f"{responses_file}: {p}" for p in error.problems)) from None
    typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))


def main() -> None:
    app()
