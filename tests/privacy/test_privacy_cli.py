"""`yardstick person export|erase` and `yardstick retention run` against a real, migrated
database on each backend: output, messages and exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.accounts.models import Role, User
from app.assessments.models import Candidate
from app.cli import app as cli_app
from app.config import get_settings
from app.db import get_sessionmaker
from app.privacy.models import AuditEvent
from tests.conftest import BACKENDS, app_database, database_url
from tests.privacy.privacy_helpers import candidate_of, days_ago, scored, started
from tests.reports.report_helpers import make_settings, make_staff

runner = CliRunner()


@dataclass
class Data:
    member_email: str
    done_email: str
    done_id: int
    running_email: str
    old_id: int


@pytest.fixture(params=BACKENDS)
def cli_data(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Data]:
    """A committed database the commands open through their own settings and engine."""
    with (
        database_url(request.param, tmp_path, "privacy_cli") as url,
        app_database(url, monkeypatch),
    ):
        monkeypatch.delenv("YARDSTICK_CANDIDATE_RETENTION_DAYS", raising=False)
        settings = make_settings(tmp_path)
        with get_sessionmaker().begin() as session:
            hr = make_staff(session, Role.HR, "人事")
            member = make_staff(session, Role.MEMBER, "王小明")
            done = scored(session, hr, settings, name="张伟", email="zhang@example.com")
            done.submitted_at = days_ago(10)
            old = scored(session, hr, settings, name="旧候选人", email="old@example.com")
            old.submitted_at = days_ago(400)
            running = scored(session, hr, settings, name="李雷", email="li@example.com")
            started(session, hr, settings, candidate_of(session, running))
            data = Data(
                member.email,
                "zhang@example.com",
                done.candidate_id,
                "li@example.com",
                old.candidate_id,
            )
        yield data


def invoke(*args: str, answer: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, list(args), input=answer)
    return result.exit_code, result.stdout, result.stderr


def candidate(candidate_id: int) -> Candidate:
    with get_sessionmaker()() as session:
        found = session.get(Candidate, candidate_id)
        assert found is not None
        return found


def actions() -> list[str]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_export_prints_json_or_writes_a_file(cli_data: Data, tmp_path: Path) -> None:
    code, out, err = invoke("person", "export", cli_data.done_email)

    assert code == 0, err
    data = json.loads(out)
    assert data["candidates"][0]["candidate"]["name"] == "张伟"

    target = tmp_path / "person.json"
    code, out, err = invoke("person", "export", cli_data.member_email, "-o", str(target))

    assert code == 0, err
    assert out.strip() == f"exported 1 record(s) to {target}"
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["staff_user"]["account"]["name"] == "王小明"
    assert actions().count("person.exported") == 2


@pytest.mark.parametrize("args", [["export"], ["erase", "--yes"]])
def test_an_unknown_email_fails_with_exit_code_1(cli_data: Data, args: list[str]) -> None:
    code, out, err = invoke("person", args[0], "Nobody@Example.com", *args[1:])

    assert code == 1
    assert out == ""
    assert "no staff user or candidate with email nobody@example.com" in err


def test_erase_asks_first_and_does_nothing_unless_confirmed(cli_data: Data) -> None:
    code, out, err = invoke("person", "erase", cli_data.done_email, answer="n\n")

    assert code == 1
    assert f"Erase the personal data of candidate #{cli_data.done_id}?" in out
    assert "nothing was erased" in err
    assert candidate(cli_data.done_id).name == "张伟"

    code, out, err = invoke("person", "erase", cli_data.done_email, answer="y\n")

    assert code == 0, err
    assert f"erased candidate:{cli_data.done_id}" in out
    assert candidate(cli_data.done_id).name == f"Erased person #{cli_data.done_id}"
    assert actions().count("person.erased") == 1


def test_erase_with_yes_skips_the_question_and_a_repeat_says_so(cli_data: Data) -> None:
    code, out, err = invoke("person", "erase", cli_data.member_email, "--yes")

    assert code == 0, err
    assert out.startswith("erased user:")
    with get_sessionmaker()() as session:
        assert session.scalar(select(User).where(User.email == cli_data.member_email)) is None


def test_erase_is_refused_while_an_assessment_is_in_progress(cli_data: Data) -> None:
    code, out, err = invoke("person", "erase", cli_data.running_email, "--yes")

    assert code == 1
    assert out == ""
    assert "refused, nothing was erased" in err
    assert "is in_progress" in err
    assert "person.erased" not in actions()


def test_retention_needs_a_period(cli_data: Data, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = invoke("retention", "run")

    assert code == 1
    assert "no retention period: set YARDSTICK_CANDIDATE_RETENTION_DAYS or pass --days" in err

    monkeypatch.setenv("YARDSTICK_CANDIDATE_RETENTION_DAYS", "365")
    get_settings.cache_clear()
    code, out, err = invoke("retention", "run", "--dry-run")

    assert code == 0, err
    assert out.strip() == (
        "would anonymise 1 candidate(s) whose assessments ended more than 365 day(s) ago "
        "(dry run: nothing changed)"
    )


def test_retention_runs_once_and_then_finds_nothing(cli_data: Data) -> None:
    code, out, err = invoke("retention", "run", "--days", "365", "--dry-run")
    assert code == 0, err
    assert candidate(cli_data.old_id).anonymised_at is None

    code, out, err = invoke("retention", "run", "--days", "365")

    assert code == 0, err
    assert out.strip() == (
        "anonymised 1 candidate(s) whose assessments ended more than 365 day(s) ago"
    )
    assert candidate(cli_data.old_id).anonymised_at is not None
    assert candidate(cli_data.done_id).anonymised_at is None
    code, out, err = invoke("retention", "run", "--days", "365")
    assert out.startswith("anonymised 0 candidate(s)")
    assert actions().count("retention.run") == 1
