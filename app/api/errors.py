"""The error side of the JSON API: the error bodies declared on each router, so the OpenAPI
schema lists every status a route can answer with, and input refused before any route runs.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field

from app.errors import InvalidInput
from app.nul import NUL, nul_param


class ErrorDetailOut(BaseModel):
    code: str = Field(description="stable and machine-readable, e.g. 'not_found', 'conflict'")
    message: str
    field: str | None = Field(default=None, description="the input field at fault, if one is")


class ErrorOut(BaseModel):
    detail: ErrorDetailOut | str = Field(
        description="a plain message only for an unknown path or method or an unreadable body"
    )


class ValidationIssueOut(BaseModel):
    loc: list[str | int] = Field(description="where the bad value is, e.g. ['body', 'name']")
    msg: str
    type: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class InvalidOut(BaseModel):
    detail: ErrorDetailOut | list[ValidationIssueOut] = Field(
        description="a list when the request does not match the schema; one error when the "
        "values are well-formed but not acceptable"
    )


_ERRORS: dict[int, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The request body could not be read"},
    401: {"model": ErrorOut, "description": "No valid token or browser session"},
    403: {"model": ErrorOut, "description": "Your role may not do this, or CSRF check failed"},
    404: {"model": ErrorOut, "description": "No such object, or not one you may see"},
    409: {"model": ErrorOut, "description": "Not possible in the object's current state"},
    422: {"model": InvalidOut, "description": "Invalid input; names the field at fault"},
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a router: the given statuses, or every one a staff route can give."""
    return {status: _ERRORS[status] for status in statuses or _ERRORS}


STAFF_ERRORS = error_responses()


def _nul_at(value: Any, where: str) -> str | None:
    """The dotted path of the first string in `value` holding a NUL character."""
    if isinstance(value, str):
        return where if NUL in value else None
    if isinstance(value, dict):
        if any(NUL in key for key in value):
            return where
        items = [(f"{where}.{key}" if where else str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(f"{where}.{index}", item) for index, item in enumerate(value)]
    else:
        return None
    for at, item in items:
        found = _nul_at(item, at)
        if found is not None:
            return found
    return None


async def refuse_nul_characters(request: Request) -> None:
    """No name, note or id holds a NUL character, and PostgreSQL cannot store one: refuse it
    here, naming the field, instead of failing in the database."""
    name = nul_param(request)
    if name is not None:
        raise InvalidInput("NUL characters are not allowed", field=name)
    body = await request.body()
    # JSON spells NUL only as this escape; malformed JSON is left to request validation.
    if b"\\u0000" in body:
        try:
            field = _nul_at(json.loads(body), "")
        except ValueError:
            return
        if field is not None:
            raise InvalidInput("NUL characters are not allowed", field=field or "body")
