"""Stored rubric versions are parsed once per process, if the row is what its key says."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.rubrics import service as rubric_service
from app.rubrics.loader import parse_rubric
from app.rubrics.models import RubricVersion
from app.rubrics.spec import Rubric
from app.rubrics.versioning import content_version, normalised_json

MINIMAL = (Path(__file__).resolve().parents[2] / "rubrics" / "examples" / "minimal.yaml").read_text(
    encoding="utf-8"
)


def unique_rubric() -> Rubric:
    """The minimal rubric under a name no other test uses, so no process cache knows it."""
    marker = secrets.token_hex(6)
    text = MINIMAL.replace("en: Copywriting (example)", f"en: Copywriting ({marker})", 1)
    return parse_rubric(text, "minimal.yaml")


@contextmanager
def statements(db: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_pinned_version_is_read_and_parsed_once(db: Session) -> None:
    rubric = unique_rubric()
    version = content_version(rubric)
    rubric_service.pin(db, rubric_service.LoadedRubric(rubric, version, Path("minimal.yaml")))
    db.expunge_all()  # the row is not in the identity map: the first read goes to the database

    with statements(db) as first:
        found = rubric_service.get_version(db, version)
    with statements(db) as again:
        kept = rubric_service.get_version(db, version)

    assert found == rubric
    assert kept is found
    assert len(first) == 1
    assert again == []


def test_a_row_whose_text_is_not_its_version_is_read_every_time(db: Session) -> None:
    """Such a row can be rewritten under the same key; whatever it says now is what counts."""
    before, after = unique_rubric(), unique_rubric()
    key = secrets.token_hex(32)
    row = RubricVersion(
        version=key,
        rubric_id=before.id,
        content=normalised_json(before),
        source_file="minimal.yaml",
    )
    db.add(row)
    db.flush()

    first = rubric_service.get_version(db, key)
    row.content = normalised_json(after)
    db.flush()
    second = rubric_service.get_version(db, key)

    assert (first, second) == (before, after)
