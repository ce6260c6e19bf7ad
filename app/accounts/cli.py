"""`yardstick user …` commands."""

from __future__ import annotations

import unicodedata
from typing import Annotated

import typer

from app.accounts import service as account_service
from app.accounts.models import Role
from app.db import get_sessionmaker
from app.errors import AppError

app = typer.Typer(help="Manage staff accounts.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def _problem(error: AppError) -> str:
    return f"{error.field}: {error.message}" if error.field else error.message


def _width(text: str) -> int:
    # Chinese characters take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)).rstrip()
        for row in rows
    )


@app.command("create")
def create(
    email: Annotated[str, typer.Option("--email", help="the sign-in email address")],
    role: Annotated[Role, typer.Option("--role", case_sensitive=False, help="what they may do")],
    name: Annotated[str, typer.Option("--name", help="display name (default: the email)")] = "",
) -> None:
    """Create a staff account; asks for the password twice without echoing it."""
    # Checked in its own short transaction: holding one open while someone types a password
    # would keep SQLite's write lock from the running service.
    with get_sessionmaker().begin() as session:
        try:
            email = account_service.check_new_email(session, email)
        except AppError as error:
            raise _fail(_problem(error)) from None
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_sessionmaker().begin() as session:
        try:
            user = account_service.create(
                session, email=email, name=name, role=role, password=password
            )
        except AppError as error:
            raise _fail(_problem(error)) from None
        summary = f"created user {user.id}: {user.email} ({user.name}), role {user.role}"
    typer.echo(summary)


@app.command("list")
def list_users() -> None:
    """List every staff account, deactivated ones included."""
    with get_sessionmaker().begin() as session:
        users = account_service.list_users(session, include_inactive=True)
        rows = [
            [str(u.id), u.email, u.name, u.role, "active" if u.is_active else "deactivated"]
            for u in users
        ]
    if not rows:
        typer.echo("no users yet; add one with `yardstick user create --email … --role …`")
        return
    typer.echo(_table([["ID", "EMAIL", "NAME", "ROLE", "STATUS"], *rows]))


@app.command("deactivate")
def deactivate(
    email: Annotated[str, typer.Option("--email", help="the account's email address")],
) -> None:
    """Lock an account out: its sign-in, browser sessions and API tokens stop working."""
    with get_sessionmaker().begin() as session:
        user = account_service.get_by_email(session, email)
        if user is None:
            raise _fail(f"email: no user with email {account_service.normalise_email(email)}")
        sessions, tokens = account_service.deactivate(session, user)
        summary = f"deactivated {user.email}: {sessions} session(s) and {tokens} token(s) revoked"
    typer.echo(summary)
