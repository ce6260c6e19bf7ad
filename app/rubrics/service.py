"""The rubric set the service runs with, and the stored snapshots results point at."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from app.errors import NotFound
from app.lru import LockedLRU
from app.rubrics.loader import RubricError, load_rubric
from app.rubrics.models import RubricVersion
from app.rubrics.spec import Rubric
from app.rubrics.versioning import content_version, normalised_json, rubric_from_json


@dataclass(frozen=True)
class LoadedRubric:
    rubric: Rubric
    version: str
    path: Path


def rubric_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"})


def load_directory(directory: Path, *, include_examples: bool = False) -> dict[str, LoadedRubric]:
    """Every rubric under `directory` by id; raises RubricError with all problems of all files."""
    loaded: dict[str, LoadedRubric] = {}
    problems = []
    for path in rubric_files(directory):
        if not include_examples and "examples" in path.relative_to(directory).parts:
            continue
        try:
            rubric = load_rubric(path)
        except RubricError as error:
            problems += error.problems
            continue
        if rubric.id in loaded:
            raise RubricError.single(
                path, f"rubric id {rubric.id!r} is also used by {loaded[rubric.id].path}"
            )
        loaded[rubric.id] = LoadedRubric(rubric, content_version(rubric), path)
    if problems:
        raise RubricError(problems)
    return loaded


@lru_cache(maxsize=8)
def current_rubrics(directory: Path) -> dict[str, LoadedRubric]:
    """The parsed rubric set, cached per process (a restart picks up edited files)."""
    return load_directory(directory)


def get_current(directory: Path, rubric_id: str) -> LoadedRubric:
    rubrics = current_rubrics(directory)
    if rubric_id not in rubrics:
        raise NotFound(f"no rubric {rubric_id!r}", field="rubric")
    return rubrics[rubric_id]


def pin(session: Session, loaded: LoadedRubric) -> RubricVersion:
    """Store the snapshot of a rubric version that data is about to reference (idempotent)."""
    snapshot = session.get(RubricVersion, loaded.version)
    if snapshot is None:
        snapshot = RubricVersion(
            version=loaded.version,
            rubric_id=loaded.rubric.id,
            content=normalised_json(loaded.rubric),
            source_file=str(loaded.path),
        )
        session.add(snapshot)
        session.flush()
    return snapshot


class _ParsedVersions:
    """Parsed snapshots by version, least recently used dropped first.

    A version is the SHA-256 of its snapshot, so a snapshot whose text hashes to its key can
    never change: it is kept, and later requests neither read its 236 KB row again nor parse
    it. A row whose text does not match its key is parsed each time, never kept.
    """

    def __init__(self, size: int) -> None:
        self._rubrics: LockedLRU[str, Rubric] = LockedLRU(size)

    def get(self, version: str) -> Rubric | None:
        return self._rubrics.get(version)

    def keep(self, version: str, content: str, rubric: Rubric) -> None:
        if hashlib.sha256(content.encode("utf-8")).hexdigest() == version:
            self._rubrics.put(version, rubric)


_parsed_versions = _ParsedVersions(size=32)


def cached_version(version: str) -> Rubric | None:
    """The pinned rubric `version` if this process has parsed it already; no I/O."""
    return _parsed_versions.get(version)


def get_version(session: Session, version: str) -> Rubric:
    """The rubric exactly as it was when `version` was pinned, whatever the YAML says now."""
    rubric = _parsed_versions.get(version)
    if rubric is not None:
        return rubric
    snapshot = session.get(RubricVersion, version)
    if snapshot is None:
        raise NotFound(f"no stored rubric version {version!r}")
    rubric = rubric_from_json(snapshot.content)
    _parsed_versions.keep(version, snapshot.content, rubric)
    return rubric
