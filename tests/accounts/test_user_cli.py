"""`yardstick user create|list|deactivate` against a real, migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.accounts import service as account_service
from app.accounts.models import User
from app.cli import app as cli_app
from app.config import get_settings
from app.db import get_sessionmaker
from tests.conftest import app_database

PASSWORD = "a long enough passphrase"
runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the CLI's own settings, engine and sessionmaker at a fresh database."""
    with app_database(f"sqlite:///{tmp_path / 'cli.db'}", monkeypatch) as url:
        yield url


def users() -> list[User]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(User).order_by(User.id)))


def create(*args: str, answer: str = f"{PASSWORD}\n{PASSWORD}\n") -> tuple[int, str]:
    result = runner.invoke(cli_app, ["user", "create", *args], input=answer)
    return result.exit_code, result.output


def test_create_asks_for_the_password_twice_and_stores_the_user(cli_db: str) -> None:
    code, output = create("--email", "HR@Example.com", "--role", "hr", "--name", "王芳")

    assert code == 0, output
    assert output.count("Password") == 1
    assert "Repeat for confirmation" in output
    assert PASSWORD not in output  # hidden while typed
    assert "created user" in output
    assert "hr@example.com (王芳), role hr" in output
    [user] = users()
    assert (user.email, user.name, user.role, user.is_active) == (
        "hr@example.com",
        "王芳",
        "hr",
        True,
    )
    with get_sessionmaker().begin() as session:
        signed_in = account_service.authenticate(session, "hr@example.com", PASSWORD, "cli")
        assert signed_in is not None


def test_mismatched_passwords_are_asked_again(cli_db: str) -> None:
    code, output = create(
        "--email", "a@example.com", "--role", "member",
        answer=f"{PASSWORD}\ntypo {PASSWORD}\n{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip

    assert code == 0, output
    assert "do not match" in output
    assert [u.email for u in users()] == ["a@example.com"]


def test_a_short_password_is_refused(cli_db: str) -> None:
    code, output = create("--email", "a@example.com", "--role", "hr", answer="short\nshort\n")

    assert code == 1
    assert "password: the password needs at least 10 characters" in output
    assert users() == []


def test_a_bad_email_is_refused_before_asking_for_a_password(cli_db: str) -> None:
    code, output = create("--email", "not-an-email", "--role", "hr")

    assert code == 1
    assert "email: not an email address: 'not-an-email'" in output
    assert "Password" not in output
    assert users() == []


def test_a_duplicate_email_is_refused(cli_db: str) -> None:
    assert create("--email", "a@example.com", "--role", "hr")[0] == 0

    code, output = create("--email", "A@example.com", "--role", "lead")

    assert code == 1
    assert "a user with email a@example.com already exists" in output
    assert [u.role for u in users()] == ["hr"]


def test_an_unknown_role_is_refused(cli_db: str) -> None:
    code, output = create("--email", "a@example.com", "--role", "boss")

    assert code == 2
    assert "boss" in output
    assert users() == []


def test_list_shows_every_account_with_its_role_and_status(cli_db: str) -> None:
    assert runner.invoke(cli_app, ["user", "list"]).output.startswith("no users yet")
    create("--email", "hr@example.com", "--role", "hr", "--name", "王芳")
    create("--email", "rater@example.com", "--role", "member", "--name", "Rater")
    runner.invoke(cli_app, ["user", "deactivate", "--email", "rater@example.com"])

    result = runner.invoke(cli_app, ["user", "list"])

    assert result.exit_code == 0
    header, *rows = result.output.splitlines()
    assert header.split() == ["ID", "EMAIL", "NAME", "ROLE", "STATUS"]
    assert [row.split()[1:] for row in rows] == [
        ["rater@example.com", "Rater", "member", "deactivated"],
        ["hr@example.com", "王芳", "hr", "active"],
    ]


def test_deactivate_stops_sign_in_sessions_and_tokens(cli_db: str) -> None:
    create("--email", "gone@example.com", "--role", "lead")
    settings = get_settings()
    with get_sessionmaker().begin() as session:
        user = account_service.get_by_email(session, "gone@example.com")
        assert user is not None
        session_cookie, _ = account_service.start_session(session, user, settings)
        token, _ = account_service.create_token(session, user, "script")

    result = runner.invoke(cli_app, ["user", "deactivate", "--email", "Gone@example.com"])

    assert result.exit_code == 0, result.output
    assert "deactivated gone@example.com: 1 session(s) and 1 token(s) revoked" in result.output
    with get_sessionmaker().begin() as session:
        assert account_service.resolve_session(session, session_cookie, settings) is None
        assert account_service.user_for_token(session, token) is None
        assert account_service.authenticate(session, "gone@example.com", PASSWORD, "x") is None


def test_deactivating_an_unknown_email_fails_clearly(cli_db: str) -> None:
    result = runner.invoke(cli_app, ["user", "deactivate", "--email", "nobody@example.com"])

    assert result.exit_code == 1
    assert "no user with email nobody@example.com" in result.output
