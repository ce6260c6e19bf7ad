"""`yardstick rubric …` as a user runs it: output, exit codes, and never a traceback."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.rubrics.loader import load_rubric
from app.rubrics.versioning import content_version, normalised_data, short_version

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "rubrics" / "examples" / "minimal.yaml"
SHIPPED = ROOT / "rubrics" / "new_media_operator.yaml"
BROKEN = Path(__file__).resolve().parent / "broken"

runner = CliRunner()


def rubric(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["rubric", *map(str, args)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


# Each fixture is minimal.yaml with one defect (its first line says which); a fixture with
# several problems has a row per problem.
BROKEN_CASES = [
    ("syntax_error.yaml", 4, "YAML syntax error: mapping values are not allowed here"),
    ("tab_indent.yaml", 120, "YAML does not allow tabs"),
    ("duplicate_key.yaml", 122, "modules[0]: duplicate key 'hours', first given at line 121"),
    ("wrong_type.yaml", 121, "modules[0].hours: expected a number, got 'two'"),
    ("unquoted_no.yaml", 69, "roles[0].bands[0].id: expected text, got false (YAML reads"),
    ("unknown_field.yaml", 26, "dimensions[0]: unknown field 'colour'"),
    ("missing_field.yaml", 88, "items[1]: missing required field 'explanation'"),
    ("missing_translation.yaml", 39, "competencies[1].name: missing translation: en"),
    ("empty_text.yaml", 43, "indicators[0].name: missing translation: zh, en"),
    ("duplicate_id.yaml", 100, "items[2].id: duplicate item id 'headline_keyword'"),
    (
        "dangling_role_competency.yaml",
        75,
        "roles[0].blueprint[2].competency: unknown competency 'proofreading'",
    ),
    (
        "dangling_indicator.yaml",
        81,
        "items[0].indicator: unknown indicator 'proofreading' for competency 'headlines'",
    ),
    ("missing_anchor.yaml", 46, "competency 'editing' has no anchor for level 3"),
    ("unreachable_max_points.yaml", 84, "options reach at most 1 of max_points 2"),
    ("nonpositive_weight.yaml", 66, "targets.editing.weight: weight must be positive, got 0"),
    ("role_missing_competency.yaml", 65, "role 'writer' has no target for competency editing"),
    ("target_outside_scale.yaml", 65, "target 4 is outside the scale 1–3"),
    ("overlapping_bands.yaml", 70, "roles[0].bands[1]: band 'maybe' overlaps band 'no'"),
    ("gapped_bands.yaml", 70, "roles[0].bands[1]: bands leave a gap between 0.6 and 0.65"),
    (
        "blueprint_too_many.yaml",
        75,
        "blueprint draws 2 situational item(s) of 'editing' but the bank has 1 for hiring",
    ),
    ("multiple_problems.yaml", 26, "unknown field 'colour'"),
    ("multiple_problems.yaml", 91, "items[1]: duplicate key 'type', first given at line 90"),
    ("multiple_problems.yaml", 123, "modules[0].hours: expected a number, got 'two'"),
    ("multiple_rule_problems.yaml", 46, "competency 'editing' has no anchor for level 3"),
    ("multiple_rule_problems.yaml", 65, "weight must be positive, got 0"),
    ("multiple_rule_problems.yaml", 69, "bands leave a gap between 0.6 and 0.65"),
]


@pytest.mark.parametrize(("name", "line", "fragment"), BROKEN_CASES)
def test_validate_reports_each_broken_fixture_at_its_line(
    name: str, line: int, fragment: str
) -> None:
    path = BROKEN / name

    code, output = rubric("validate", path)

    assert code == 1
    assert re.search(
        rf"^{re.escape(str(path))}:{line}:\d+: .*{re.escape(fragment)}", output, re.M
    ), output
    assert f"\n   {line} | " in output  # the numbered snippet shows the line


def test_every_broken_fixture_is_in_the_table_and_reports_only_its_rows() -> None:
    fixtures = sorted(p.name for p in BROKEN.glob("*.yaml"))
    assert fixtures == sorted({name for name, _, _ in BROKEN_CASES})
    for name in fixtures:
        _, output = rubric("validate", BROKEN / name)
        reported = re.findall(rf"^{re.escape(str(BROKEN / name))}:(\d+):", output, re.M)
        expected = [line for fixture, line, _ in BROKEN_CASES if fixture == name]
        assert [int(line) for line in reported] == expected, output


def test_validate_prints_a_summary_line_for_a_valid_file() -> None:
    minimal = load_rubric(MINIMAL)
    version = short_version(content_version(minimal))

    code, output = rubric("validate", MINIMAL)

    assert code == 0
    assert output == (
        f"ok  {MINIMAL}  minimal_writer  version {version}  "
        "2 competencies, 3 items, 1 module, 1 role\n"
    )


def test_validate_searches_directories_for_yaml_and_yml(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(MINIMAL, tmp_path / "a" / "one.yaml")
    text = MINIMAL.read_text(encoding="utf-8").replace("id: minimal_writer", "id: second_writer")
    (tmp_path / "a" / "b" / "two.yml").write_text(text, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a rubric", encoding="utf-8")

    code, output = rubric("validate", tmp_path)

    assert code == 0
    assert output.count("ok  ") == 2
    assert "one.yaml" in output
    assert "two.yml" in output


def test_validate_checks_every_file_and_fails_if_any_is_invalid(tmp_path: Path) -> None:
    shutil.copy(MINIMAL, tmp_path / "good.yaml")
    shutil.copy(BROKEN / "wrong_type.yaml", tmp_path / "bad.yaml")

    result = runner.invoke(app, ["rubric", "validate", str(tmp_path)])

    assert result.exit_code == 1
    assert f"ok  {tmp_path / 'good.yaml'}" in result.stdout
    assert f"{tmp_path / 'bad.yaml'}:121:12: modules[0].hours" in result.stderr
    assert "1 of 2 rubric file(s) invalid" in result.stderr


@pytest.mark.parametrize("args", [["{empty}"], ["{empty}/missing.yaml"]])
def test_validate_exits_2_when_it_finds_no_rubric_file(tmp_path: Path, args: list[str]) -> None:
    code, output = rubric("validate", *(arg.format(empty=tmp_path) for arg in args))

    assert code == 2
    assert "no rubric files found in" in output


def test_validate_refuses_two_files_with_the_same_rubric_id(tmp_path: Path) -> None:
    shutil.copy(MINIMAL, tmp_path / "a.yaml")
    shutil.copy(MINIMAL, tmp_path / "b.yaml")

    code, output = rubric("validate", tmp_path)

    assert code == 1
    assert f"ok  {tmp_path / 'a.yaml'}" in output
    assert (
        f"{tmp_path / 'b.yaml'}: rubric id 'minimal_writer' is also used by {tmp_path / 'a.yaml'}"
        in output
    )


def test_validate_names_a_missing_path_and_fails(tmp_path: Path) -> None:
    code, output = rubric("validate", MINIMAL, tmp_path / "gone.yaml")

    assert code == 1
    assert f"{tmp_path / 'gone.yaml'}: no such file or directory" in output


def test_validate_defaults_to_the_rubrics_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert rubric("validate")[0] == 2
    (tmp_path / "rubrics").mkdir()
    shutil.copy(MINIMAL, tmp_path / "rubrics" / "minimal.yaml")

    code, output = rubric("validate")

    assert code == 0
    assert output.startswith(f"ok  {Path('rubrics') / 'minimal.yaml'}  minimal_writer")


def test_validate_reports_a_non_utf8_file_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        MINIMAL.read_text(encoding="utf-8").replace("文案", "Caf\xe9").encode("latin-1", "replace")
    )

    code, output = rubric("validate", path)

    assert code == 1
    assert f"{path}:4:" in output
    assert "not UTF-8" in output


def test_the_shipped_rubric_validates() -> None:
    if not SHIPPED.exists():
        pytest.skip("rubrics/new_media_operator.yaml is not written yet")

    code, output = rubric("validate", SHIPPED)

    assert code == 0, output
    assert output.startswith(f"ok  {SHIPPED}  new_media_operator  version ")


def without_last_anchor(text: str) -> tuple[str, int, int]:
    """Drop the last level's anchor of the first competency (block style); return the text,
    the 1-based line the anchors start on, and the level removed."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == "anchors:") + 1
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) >= indent
    ):
        end += 1
    entries = [i for i in range(start, end) if re.match(rf"^ {{{indent}}}\d+:", lines[i])]
    assert len(entries) >= 2, "expected block-style anchors: one `N:` entry per level"
    last = entries[-1]
    level = int(lines[last].split(":")[0])
    return "".join(lines[:last] + lines[end:]), start + 1, level


def test_the_shipped_rubric_with_an_anchor_removed_names_file_line_and_competency(
    tmp_path: Path,
) -> None:
    if not SHIPPED.exists():
        pytest.skip("rubrics/new_media_operator.yaml is not written yet")
    first = load_rubric(SHIPPED).dimensions[0].competencies[0].id
    text, line, level = without_last_anchor(SHIPPED.read_text(encoding="utf-8"))
    path = tmp_path / "new_media_operator.yaml"
    path.write_text(text, encoding="utf-8")

    code, output = rubric("validate", path)

    assert code == 1
    assert f"{path}:{line}:" in output
    assert f"competency {first!r} has no anchor for level {level}" in output


def test_show_prints_the_tree_in_english_by_default() -> None:
    code, output = rubric("show", MINIMAL)

    assert code == 0
    assert output.splitlines()[0].startswith("Copywriting (example)  [minimal_writer]  version ")
    for expected in [
        "  craft  Craft",
        "    headlines  Headlines",
        "      - keyword_use  Keywords",
        "  writer  Writer",
        "    headlines        2       2  yes (tolerance 0.5)",
        "    bands: no 0–0.6 (No) | maybe 0.6–0.85 (Maybe) | yes 0.85–1 (Yes)",
        "    critical cap: maybe",
        "  competency  knowledge  situational  work_sample  total",
        "  headlines           1            0            1      2",
        "  total               1            1            1      3",
        "Modules: 1",
    ]:
        assert f"{expected}\n" in output


def test_show_uses_the_language_asked_for() -> None:
    code, output = rubric("show", MINIMAL, "--lang", "zh")

    assert code == 0
    assert "文案写作（示例）" in output
    assert "    editing  编辑校对" in output


def test_show_refuses_a_language_the_rubric_does_not_have() -> None:
    code, output = rubric("show", MINIMAL, "--lang", "fr")

    assert code == 2
    assert "'fr' is not one of this rubric's languages (zh, en)" in output


@pytest.mark.parametrize("command", ["show", "export"])
def test_show_and_export_print_the_problems_of_an_invalid_file(command: str) -> None:
    code, output = rubric(command, BROKEN / "missing_anchor.yaml")

    assert code == 1
    assert f"{BROKEN / 'missing_anchor.yaml'}:46:11:" in output


def test_export_prints_the_normalised_rubric_as_sorted_indented_json() -> None:
    code, output = rubric("export", MINIMAL, "--format", "json")

    assert code == 0
    data = json.loads(output)
    assert data == normalised_data(load_rubric(MINIMAL))
    assert list(data) == sorted(data)
    assert output.startswith('{\n  "description": {\n    "en": ')
    assert "文案写作（示例）" in output


def test_export_refuses_other_formats() -> None:
    code, output = rubric("export", MINIMAL, "--format", "yaml")

    assert code == 2
    assert "'yaml' is not supported; use json" in output


def test_schema_prints_a_json_schema_and_can_write_it(tmp_path: Path) -> None:
    code, printed = rubric("schema")
    schema = json.loads(printed)
    assert code == 0
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Yardstick rubric"
    assert "from" in schema["$defs"]["LevelRange"]["properties"]

    code, _ = rubric("schema", "--output", tmp_path / "schema.json")

    assert code == 0
    assert (tmp_path / "schema.json").read_text(encoding="utf-8") == printed


def test_schema_reports_a_file_it_cannot_write(tmp_path: Path) -> None:
    code, output = rubric("schema", "--output", tmp_path / "no" / "such" / "dir.json")

    assert code == 1
    assert "cannot write" in output
