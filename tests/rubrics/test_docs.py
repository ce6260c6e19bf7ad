"""The format's documentation and editor schema stay true to the code."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel
from typer.testing import CliRunner

from app.cli import app
from app.rubrics.loader import parse_rubric
from app.rubrics.spec import Rubric

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "rubrics" / "README.md").read_text(encoding="utf-8")
MINIMAL = (ROOT / "rubrics" / "examples" / "minimal.yaml").read_text(encoding="utf-8")


def yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", markdown, re.M | re.S)


def test_the_readme_example_is_minimal_yaml_and_validates() -> None:
    examples = [block for block in yaml_blocks(README) if "schema_version:" in block]

    assert examples == [MINIMAL], "copy rubrics/examples/minimal.yaml into the README's example"
    parse_rubric(examples[0], "rubrics/README.md")


def test_the_committed_schema_is_what_the_code_generates() -> None:
    committed = (ROOT / "rubrics" / "rubric.schema.json").read_text(encoding="utf-8")

    generated = CliRunner().invoke(app, ["rubric", "schema"]).output

    assert committed == generated, (
        "regenerate: yardstick rubric schema --output rubrics/rubric.schema.json"
    )


def models(annotation: Any, found: set[type[BaseModel]]) -> set[type[BaseModel]]:
    is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    if is_model and annotation not in found:
        found.add(annotation)
        for info in annotation.model_fields.values():
            models(info.annotation, found)
    for argument in get_args(annotation):
        models(argument, found)
    return found


def test_the_readme_names_every_field_and_every_choice() -> None:
    names: set[str] = set()
    for model in models(Rubric, set()):
        names |= {info.alias or name for name, info in model.model_fields.items()}
        for info in model.model_fields.values():
            for argument in [info.annotation, *get_args(info.annotation)]:
                if isinstance(argument, type) and issubclass(argument, Enum):
                    names |= {str(member.value) for member in argument}

    assert sorted(name for name in names if f"`{name}`" not in README) == []
