"""`yardstick report …`: one report to a file, or a whole role's candidate reports in a batch.

The commands read with an administrator's rights (see `command_line_operator`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from app.assessments import service as assessment_service
from app.config import get_settings
from app.db import get_sessionmaker
from app.errors import AppError
from app.privacy import audit
from app.reports import batch
from app.reports import service as report_service
from app.reports.documents import Document
from app.reports.render import ReportRenderError
from app.rubrics import service as rubric_service

app = typer.Typer(help="PDF reports in Chinese or English.", no_args_is_help=True)


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


LangOption = Annotated[Lang, typer.Option("--lang", help="the report's language")]
OutFile = Annotated[Path, typer.Option("-o", "--output", help="the PDF file to write")]


# Who the audit log names for reports made here: whoever runs the command holds the database.
ACTOR = "command line"


def _assessment_viewed(session: Session, assessment_id: int, report: str) -> None:
    audit.assessment_event(
        session, ACTOR, "assessment.report_viewed", assessment_id, report=report, format="pdf"
    )


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def _write(
    load: Callable[[Session], Document], output: Path, audited: Callable[[Session], None]
) -> None:
    """Load and record it in the audit log in one transaction (committed, as a request would
    be), then render outside it."""
    try:
        with get_sessionmaker().begin() as session:
            document = load(session)
            audited(session)
    except AppError as error:
        raise _fail(error.message) from None
    if output.is_dir():
        output = output / f"{document.filename}.pdf"
    if not output.parent.is_dir():
        raise _fail(f"{output.parent}: no such directory")
    try:
        size = batch.write_pdf(document, output)
    except ReportRenderError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        raise _fail(f"{output}: cannot write: {error.strerror}") from None
    typer.echo(f"wrote {output} ({size / 1024:.0f} KiB)")


@app.command("candidate")
def candidate(
    assessment_id: Annotated[int, typer.Argument(help="the assessment's id")],
    output: OutFile,
    lang: LangOption = Lang.ZH,
) -> None:
    """HR's candidate report of one assessment."""
    operator = report_service.command_line_operator()
    _write(
        lambda s: report_service.candidate_report(s, operator, assessment_id, lang.value),
        output,
        lambda s: _assessment_viewed(s, assessment_id, "candidate"),
    )


@app.command("feedback")
def feedback(
    assessment_id: Annotated[int, typer.Argument(help="the assessment's id")],
    output: OutFile,
    lang: LangOption = Lang.ZH,
) -> None:
    """The feedback report HR sends the candidate (when enabled for the assessment)."""
    operator = report_service.command_line_operator()
    _write(
        lambda s: report_service.feedback_report(s, operator, assessment_id, lang.value),
        output,
        lambda s: _assessment_viewed(s, assessment_id, "feedback"),
    )


@app.command("review")
def review(
    ratee_id: Annotated[int, typer.Argument(help="the review ratee's id (one person, one cycle)")],
    output: OutFile,
    lang: LangOption = Lang.ZH,
) -> None:
    """The 360 review report of one person in one released cycle."""
    operator = report_service.command_line_operator()
    _write(
        lambda s: report_service.review_report(s, operator, ratee_id, lang.value),
        output,
        lambda s: audit.ratee_event(s, ACTOR, "review.report_viewed", ratee_id, format="pdf"),
    )


@app.command("team")
def team(
    team_id: Annotated[int, typer.Argument(help="the team's id")],
    output: OutFile,
    lang: LangOption = Lang.ZH,
) -> None:
    """The team report: heat map, team means against target, plan completion."""
    operator = report_service.command_line_operator()
    settings = get_settings()
    _write(
        lambda s: report_service.team_report(s, operator, team_id, lang.value, settings),
        output,
        lambda s: audit.record(s, ACTOR, "team.report_viewed", "team", team_id, format="pdf"),
    )


def _role_ids(role: str) -> list[int]:
    """Assessments of `role` that have a result (final or provisional), oldest first."""
    rubrics = rubric_service.current_rubrics(get_settings().rubrics_dir).values()
    known = sorted({r.id for loaded in rubrics for r in loaded.rubric.roles})
    if role not in known:
        raise _fail(f"--role: no role {role!r} (roles: {', '.join(known)})")
    operator = report_service.command_line_operator()
    with get_sessionmaker()() as session:
        rows = assessment_service.list_assessments(session, operator, role_id=role)
        session.rollback()
    return [row.id for row in rows if row.final is not None]


@app.command("batch")
def batch_command(
    out: Annotated[Path, typer.Option("--out", help="directory for the PDFs (created)")],
    role: Annotated[
        str | None, typer.Option("--role", help="every assessment of this role with a result")
    ] = None,
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="an assessment id (repeatable)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="worker processes (default: CPUs)")
    ] = None,
    lang: LangOption = Lang.ZH,
) -> None:
    """Candidate reports for a whole role (and/or the ids given), in parallel processes.

    A report that fails is listed with its reason while the others are still written; the
    command then exits with status 1.
    """
    chosen = list(dict.fromkeys([*(_role_ids(role) if role else []), *(ids or [])]))
    if role is None and not ids:
        raise _fail("give --role ROLE, or one or more --id N")
    if not chosen:
        typer.echo(f"no assessment of role {role!r} has a result yet; nothing to do")
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _fail(f"--out: cannot create {out}: {error.strerror}") from None
    count = workers or min(os.cpu_count() or 1, len(chosen))
    jobs = [batch.Job(n, lang.value, out) for n in chosen]
    start = time.perf_counter()
    outcomes = batch.run(
        jobs, database_url=get_settings().database_url, workers=count, progress=sys.stderr
    )
    seconds = time.perf_counter() - start
    failed = [o for o in outcomes if not o.ok]
    for outcome in failed:
        typer.secho(
            f"assessment {outcome.assessment_id}: {outcome.error}", err=True, fg=typer.colors.RED
        )
    written = len(outcomes) - len(failed)
    if written:
        with get_sessionmaker().begin() as session:
            for outcome in outcomes:
                if outcome.ok:
                    _assessment_viewed(session, outcome.assessment_id, "candidate")
    size = sum(o.size for o in outcomes) / 1024 / 1024
    typer.echo(
        f"{written} of {len(outcomes)} reports written to {out} ({size:.1f} MB) in "
        f"{seconds:.1f} s with {count} worker(s); {len(failed)} failed"
    )
    if failed:
        raise typer.Exit(1)
