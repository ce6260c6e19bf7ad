"""`yardstick rubric …`: validate, show, export and describe rubric files."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from app.rubrics import service as rubric_service
from app.rubrics.loader import RubricError, load_rubric
from app.rubrics.spec import ItemType, RoleProfile, Rubric, Text
from app.rubrics.versioning import content_version, pretty_json, short_version

app = typer.Typer(help="Validate, inspect and export rubric files.", no_args_is_help=True)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Rubric files or directories (searched for *.yaml, *.yml).", show_default=False
        ),
    ] = None,
) -> None:
    """Check rubric files and print every problem; exit 1 if any is invalid, 2 if none found."""
    targets = paths or [Path("rubrics")]
    files: list[Path] = []
    missing = 0
    for target in targets:
        if target.is_dir():
            files += rubric_service.rubric_files(target)
        elif target.exists():
            files.append(target)
        else:
            missing += 1
            typer.echo(f"{target}: no such file or directory", err=True)
    if not files:
        typer.echo(f"no rubric files found in {', '.join(map(str, targets))}", err=True)
        raise typer.Exit(2)
    invalid = 0
    seen: dict[str, Path] = {}
    for file in files:
        try:
            rubric = load_rubric(file)
            if rubric.id in seen:
                # The service loads every rubric by id, so it would refuse to start.
                raise RubricError.single(
                    file, f"rubric id {rubric.id!r} is also used by {seen[rubric.id]}"
                )
        except RubricError as error:
            invalid += 1
            typer.echo(f"{error}\n", err=True)
            continue
        seen[rubric.id] = file
        version = short_version(content_version(rubric))
        typer.echo(f"ok  {file}  {rubric.id}  version {version}  {_counts(rubric)}")
    if invalid:
        typer.echo(f"{invalid} of {len(files)} rubric file(s) invalid", err=True)
    if invalid or missing:
        raise typer.Exit(1)


@app.command()
def show(
    file: Annotated[Path, typer.Argument(help="A rubric file.")],
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language for names, e.g. zh or en [default: en]."),
    ] = None,
) -> None:
    """Print a rubric as a tree: dimensions, competencies, roles, item and module counts."""
    rubric = _load_or_exit(file)
    language = lang or ("en" if "en" in rubric.languages else rubric.languages[0])
    if language not in rubric.languages:
        declared = ", ".join(rubric.languages)
        raise typer.BadParameter(f"{language!r} is not one of this rubric's languages ({declared})")
    for line in _outline(rubric, language):
        typer.echo(line.rstrip())


@app.command()
def export(
    file: Annotated[Path, typer.Argument(help="A rubric file.")],
    format_: Annotated[str, typer.Option("--format", help="Output format: json.")] = "json",
) -> None:
    """Print the normalised rubric (the content its version is the hash of)."""
    if format_ != "json":
        raise typer.BadParameter(f"{format_!r} is not supported; use json", param_hint="--format")
    typer.echo(pretty_json(_load_or_exit(file)))


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of rubric files, for editors (see rubrics/README.md)."""
    text = json.dumps(_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        typer.echo(f"{output}: cannot write: {error.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {output}", err=True)


def _schema() -> dict[str, Any]:
    generated = Rubric.model_json_schema(by_alias=True)
    generated.pop("title", None)
    return {"$schema": SCHEMA_DIALECT, "title": "Yardstick rubric", **generated}


def _load_or_exit(file: Path) -> Rubric:
    try:
        return load_rubric(file)
    except RubricError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _counts(rubric: Rubric) -> str:
    return ", ".join(
        [
            _plural(sum(1 for _ in rubric.competencies()), "competency", "competencies"),
            _plural(len(rubric.items), "item", "items"),
            _plural(len(rubric.modules), "module", "modules"),
            _plural(len(rubric.roles), "role", "roles"),
        ]
    )


def _outline(rubric: Rubric, language: str) -> Iterator[str]:
    def name(text: Text) -> str:
        return text.get(language) or next(iter(text.values()), "")

    version = short_version(content_version(rubric))
    yield f"{name(rubric.name)}  [{rubric.id}]  version {version}"
    levels = ", ".join(f"{level.value} {name(level.name)}" for level in rubric.scale.levels)
    yield f"scale: {levels}"
    yield ""
    yield "Dimensions"
    for dimension in rubric.dimensions:
        yield f"  {dimension.id}  {name(dimension.name)}"
        for competency in dimension.competencies:
            yield f"    {competency.id}  {name(competency.name)}"
            for indicator in competency.indicators:
                yield f"      - {indicator.id}  {name(indicator.name)}"
    yield ""
    yield "Roles"
    for role in rubric.roles:
        yield f"  {role.id}  {name(role.name)}"
        yield from (f"    {row}" for row in _role_table(rubric, role))
        bands = " | ".join(
            f"{band.id} {band.min:g}–{band.max:g} ({name(band.label)})" for band in role.bands
        )
        yield f"    bands: {bands}"
        if role.critical_cap:
            yield f"    critical cap: {role.critical_cap}"
        yield f"    draws {sum(entry.count for entry in role.blueprint)} items per assessment"
    yield ""
    yield f"Items ({len(rubric.items)})"
    yield from (f"  {row}" for row in _item_table(rubric))
    yield ""
    yield f"Responsibility areas: {len(rubric.responsibility_areas)}"
    yield f"Modules: {len(rubric.modules)}"


def _role_table(rubric: Rubric, role: RoleProfile) -> list[str]:
    rows = [["competency", "target", "weight", "critical"]]
    for _, competency in rubric.competencies():
        target = role.targets.get(competency.id)
        if target is not None:
            critical = f"yes (tolerance {target.tolerance:g})" if target.critical else ""
            rows.append([competency.id, f"{target.target:g}", f"{target.weight:g}", critical])
    return _table(rows)


def _item_table(rubric: Rubric) -> list[str]:
    types = list(ItemType)
    counts = Counter((item.competency, item.type) for item in rubric.items)
    rows = [["competency", *types, "total"]]
    for _, competency in rubric.competencies():
        per_type = [counts[competency.id, kind] for kind in types]
        rows.append([competency.id, *map(str, per_type), str(sum(per_type))])
    totals = [sum(counts[c.id, kind] for _, c in rubric.competencies()) for kind in types]
    rows.append(["total", *map(str, totals), str(sum(totals))])
    return _table(rows)


def _table(rows: list[list[str]]) -> list[str]:
    """Numeric columns right-aligned, text columns left-aligned, under their headers."""
    columns = list(zip(*rows, strict=True))
    widths = [max(len(cell) for cell in column) for column in columns]
    numeric = [all(_is_number(cell) for cell in column[1:] if cell) for column in columns]
    return [
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        )
        for row in rows
    ]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
