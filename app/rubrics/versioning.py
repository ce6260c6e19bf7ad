"""A rubric's version is the SHA-256 of its normalised JSON, so layout, comments and key order
in the YAML never change it; the same JSON is the snapshot stored for pinned versions.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.rubrics.spec import Rubric


def normalised_data(rubric: Rubric) -> dict[str, Any]:
    """JSON-ready data under the YAML's own key names (`from`, not `from_`)."""
    return rubric.model_dump(mode="json", by_alias=True)


def normalised_json(rubric: Rubric) -> str:
    data = normalised_data(rubric)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pretty_json(rubric: Rubric) -> str:
    """The same content as `normalised_json`, indented for people."""
    return json.dumps(normalised_data(rubric), sort_keys=True, indent=2, ensure_ascii=False)


def content_version(rubric: Rubric) -> str:
    return hashlib.sha256(normalised_json(rubric).encode("utf-8")).hexdigest()


def short_version(version: str) -> str:
    return version[:12]


def rubric_from_json(text: str) -> Rubric:
    """Rebuild a stored snapshot; raises pydantic's ValidationError if it doesn't fit the spec."""
    return Rubric.model_validate_json(text)
