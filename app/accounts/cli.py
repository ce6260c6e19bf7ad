"""`yardstick user …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Manage staff accounts.", no_args_is_help=True)
