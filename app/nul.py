"""NUL characters in request input: no name, note or id holds one and PostgreSQL cannot store
one (SQLite would, silently), so both fronts refuse them before a route runs, naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

from starlette.requests import HTTPConnection

NUL = "\x00"


def nul_field(pairs: Iterable[tuple[str, object]]) -> str | None:
    """The name of the first (name, value) pair whose value is a string holding a NUL."""
    for name, value in pairs:
        if isinstance(value, str) and NUL in value:
            return name
    return None


def nul_param(connection: HTTPConnection) -> str | None:
    """The first path or query parameter whose value holds a NUL."""
    return nul_field(chain(connection.path_params.items(), connection.query_params.multi_items()))
