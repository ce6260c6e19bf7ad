"""Pages refuse a NUL character in a path or query parameter or a form field, naming the field,
before the route runs: PostgreSQL cannot store one, and no name, note or id holds one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from app.errors import InvalidInput
from app.nul import NUL, nul_field, nul_param
from app.web.templating import language

FormReader = Callable[[Request], Awaitable[FormData]]

# A field's name is put on the page only when it looks like one of ours: a crafted link must
# not be able to write its own sentence on our error page.
_SHOWN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")


class NulCharacter(InvalidInput):
    code = "nul_character"


def nul_message(lang: str, field: str | None) -> str:
    if field and _SHOWN_NAME.fullmatch(field):
        if lang == "zh":
            return f"字段“{field}”中含有不允许的空字符（NUL）。请删除后再试。"
        return (
            f"The field “{field}” contains a NUL character, which is not allowed. "
            "Remove it and try again."
        )
    if lang == "zh":
        return "提交的内容中含有不允许的空字符（NUL）。请删除后再试。"
    return "The request contains a NUL character, which is not allowed. Remove it and try again."


async def _read_form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=200)


def refuse_nul_characters(
    read_form: FormReader = _read_form,
) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A router dependency; `read_form` parses the body with the router's own limits (the
    parse is kept on the request, so the route's own form dependency gets it as is)."""

    async def dependency(request: Request) -> None:
        field = nul_param(request)
        if field is None:
            form = await read_form(request)
            field = nul_field(form.multi_items())
            if field is None and any(NUL in key for key in (*request.query_params, *form)):
                field = ""
        if field is not None:
            raise NulCharacter(nul_message(language(request), field), field=field)

    return dependency
