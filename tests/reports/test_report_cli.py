"""`yardstick report …` against a real, migrated SQLite file: single reports and the batch."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.accounts.models import Role, User
from app.db import get_sessionmaker
from app.privacy.models import AuditEvent
from app.reports.cli import app as report_cli
from tests.conftest import app_database
from tests.reports.report_helpers import (
    make_settings,
    make_staff,
    released_review,
    scored_assessment,
)
from tests.reviews.review_helpers import make_team

runner = CliRunner()


@dataclass
class Data:
    assessments: list[int]
    ratee_id: int
    team_id: int


@pytest.fixture
def cli_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Data]:
    """A committed database the command (and its worker processes) can open."""
    with app_database(f"sqlite:///{tmp_path / 'reports.db'}", monkeypatch):
        settings = make_settings(tmp_path)
        with get_sessionmaker().begin() as session:

            def make_user(role: Role = Role.HR, *, name: str | None = None, **_: str) -> User:
                return make_staff(session, role, name or f"{role.value} 用户")

            team = make_team(session, settings, make_user)
            names = ["张伟", "Emily Zhao"]
            assessments = [scored_assessment(session, team.hr, settings, name=n) for n in names]
            review = released_review(session, settings, team, peers=(1, 2, 3))
            data = Data([a.id for a in assessments], review.ratee_id, team.id)
        yield data


def audit_log() -> list[tuple[str, str, str, str | None]]:
    """The audit events recorded by the command line (the data's set-up records others)."""
    with get_sessionmaker()() as session:
        rows = session.execute(
            select(
                AuditEvent.actor_label,
                AuditEvent.action,
                AuditEvent.object_type,
                AuditEvent.object_id,
            )
            .where(AuditEvent.actor_label == "command line")
            .order_by(AuditEvent.id)
        )
        return [(label, action, kind, object_id) for label, action, kind, object_id in rows]


def lang_of(path: Path) -> str:
    return str(pypdf.PdfReader(io.BytesIO(path.read_bytes())).trailer["/Root"]["/Lang"])


def test_one_candidate_report_to_a_file(cli_data: Data, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = runner.invoke(report_cli, ["candidate", str(cli_data.assessments[0]), "-o", str(out)])

    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert lang_of(out) == "zh-CN"


def test_review_and_team_reports_in_english_into_a_directory(
    cli_data: Data, tmp_path: Path
) -> None:
    review = runner.invoke(
        report_cli, ["review", str(cli_data.ratee_id), "-o", str(tmp_path), "--lang", "en"]
    )
    team = runner.invoke(
        report_cli, ["team", str(cli_data.team_id), "-o", str(tmp_path), "--lang", "en"]
    )

    assert review.exit_code == 0, review.output
    assert team.exit_code == 0, team.output
    [review_pdf] = tmp_path.glob(f"review-report-{cli_data.ratee_id}-*.pdf")
    [team_pdf] = tmp_path.glob(f"team-report-{cli_data.team_id}-*.pdf")
    assert lang_of(review_pdf) == "en"
    assert lang_of(team_pdf) == "en"


def test_every_report_made_from_the_command_line_is_in_the_audit_log(
    cli_data: Data, tmp_path: Path
) -> None:
    assessment_id = cli_data.assessments[0]
    for command, object_id in [
        ("candidate", assessment_id),
        ("review", cli_data.ratee_id),
        ("team", cli_data.team_id),
    ]:
        result = runner.invoke(report_cli, [command, str(object_id), "-o", str(tmp_path)])
        assert result.exit_code == 0, result.output
    refused = runner.invoke(report_cli, ["candidate", "999999", "-o", str(tmp_path)])
    assert refused.exit_code == 1

    events = [(label, action, kind) for label, action, kind, _ in audit_log()]
    assert events == [
        ("command line", "assessment.report_viewed", "assessment"),
        ("command line", "review.report_viewed", "review_cycle"),
        ("command line", "team.report_viewed", "team"),
    ]
    assert audit_log()[0][3] == str(assessment_id)


def test_unknown_id_and_missing_directory_are_clear_errors(cli_data: Data, tmp_path: Path) -> None:
    unknown = runner.invoke(report_cli, ["candidate", "999999", "-o", str(tmp_path / "x.pdf")])
    nowhere = runner.invoke(
        report_cli,
        ["candidate", str(cli_data.assessments[0]), "-o", str(tmp_path / "no" / "x.pdf")],
    )
    bad_lang = runner.invoke(report_cli, ["team", "1", "-o", str(tmp_path), "--lang", "fr"])

    assert unknown.exit_code == 1
    assert "no such assessment" in unknown.stderr
    assert not (tmp_path / "x.pdf").exists()
    assert nowhere.exit_code == 1
    assert "no such directory" in nowhere.stderr
    assert bad_lang.exit_code == 2
    assert "--lang" in bad_lang.stderr


@pytest.mark.slow
def test_batch_reports_a_bad_id_and_finishes_the_rest(cli_data: Data, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        report_cli,
        ["batch", "--role", "assistant", "--out", str(out), "--workers", "2", "--id", "999999"],
    )

    assert result.exit_code == 1, result.output
    assert "assessment 999999: no such assessment" in result.stderr
    # Progress, one line per finished report (stderr is not a terminal here).
    assert result.stderr.count("[") >= 3
    assert "2 of 3 reports written to" in result.stdout
    assert "with 2 worker(s); 1 failed" in result.stdout
    written = sorted(p.name for p in out.glob("*.pdf"))
    assert written == sorted(
        [
            f"candidate-report-{cli_data.assessments[0]}-张伟.pdf",
            f"candidate-report-{cli_data.assessments[1]}-Emily-Zhao.pdf",
        ]
    )
    assert all(lang_of(out / name) == "zh-CN" for name in written)
    assert not list(out.glob(".*.part"))
    # One audit event per report written, none for the one that failed.
    assert sorted(
        object_id for _, action, _, object_id in audit_log() if action == "assessment.report_viewed"
    ) == sorted(str(n) for n in cli_data.assessments)


def test_batch_needs_a_known_role_or_ids(cli_data: Data, tmp_path: Path) -> None:
    unknown = runner.invoke(report_cli, ["batch", "--role", "ceo", "--out", str(tmp_path)])
    nothing = runner.invoke(report_cli, ["batch", "--out", str(tmp_path)])
    empty = runner.invoke(report_cli, ["batch", "--role", "lead", "--out", str(tmp_path)])

    assert unknown.exit_code == 1
    assert "--role: no role 'ceo' (roles: assistant, lead, specialist)" in unknown.stderr
    assert nothing.exit_code == 1
    assert "give --role ROLE, or one or more --id N" in nothing.stderr
    assert empty.exit_code == 0
    assert "nothing to do" in empty.stdout
