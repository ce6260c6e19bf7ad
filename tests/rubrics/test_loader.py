"""The loader: positions, plain messages, safe YAML, and no traceback for any input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app.rubrics.loader import RubricError, SourceProblem, load_rubric, parse_rubric
from app.rubrics.spec import Rubric

MINIMAL_PATH = Path(__file__).resolve().parents[2] / "rubrics" / "examples" / "minimal.yaml"
MINIMAL = MINIMAL_PATH.read_text(encoding="utf-8")


def edited(old: str, new: str) -> str:
    assert old in MINIMAL, old
    return MINIMAL.replace(old, new, 1)


def problems_or_none(text: str) -> list[SourceProblem] | None:
    """The problems, or None if `text` is a valid rubric; any other exception fails the test."""
    try:
        parse_rubric(text, "x.yaml")
    except RubricError as error:
        return error.problems
    return None


def problems_of(text: str) -> list[SourceProblem]:
    with pytest.raises(RubricError) as caught:
        parse_rubric(text, "x.yaml")
    return caught.value.problems


def test_the_minimal_example_loads_to_the_same_data_as_plain_safe_load() -> None:
    rubric = parse_rubric(MINIMAL, "minimal.yaml")

    assert rubric == Rubric.model_validate(yaml.safe_load(MINIMAL))
    assert rubric.role("writer").targets["headlines"].critical


# (text, line, path, message fragment): what the user reads for one defect.
CASES = [
    (
        edited("languages: [zh, en]", "languages: [zh, en"),
        10,
        (),
        "YAML syntax error: expected ',' or ']'",
    ),
    (
        edited("    hours: 2\n", "    hours: 2\n    hours: 3\n"),
        122,
        ("modules", 0),
        "duplicate key 'hours', first given at line 121",
    ),
    (
        edited("hours: 2", "hours: abc"),
        121,
        ("modules", 0, "hours"),
        "expected a number, got 'abc'",
    ),
    (
        edited("levels: {from: 1, to: 2}", "levels: {from: 1.5, to: 2}"),
        119,
        ("modules", 0, "levels", "from"),
        "expected a whole number, got 1.5",
    ),
    (edited("hours: 2", "hours: 0"), 121, ("modules", 0, "hours"), "expected more than 0, got 0"),
    (
        edited("    format: course\n", "    format: course\n    hourz: 3\n"),
        121,
        ("modules", 0),
        "unknown field 'hourz' (did you mean 'hours'?)",
    ),
    (
        edited("    format: course\n", "    format: course\n    colour: red\n"),
        121,
        ("modules", 0),
        "unknown field 'colour'; allowed here: id, title, competencies",
    ),
    (edited("    format: course\n", ""), 116, ("modules", 0), "missing required field 'format'"),
    (
        edited("    format: course\n", "    format: lecture\n"),
        120,
        ("modules", 0, "format"),
        "expected one of 'course', 'workshop', 'practice', 'mentoring' or 'reading', got 'lecture'",
    ),
    (
        edited("    format: course\n", "    format:\n"),
        120,
        ("modules", 0, "format"),
        "got nothing (an empty value)",
    ),
    (
        edited('{id: "no",', "{id: no,"),
        69,
        ("roles", 0, "bands", 0, "id"),
        'got false (YAML reads unquoted yes/no/on/off as true/false: write "no" in quotes)',
    ),
    (
        edited("- id: craft", "- id: Craft"),
        23,
        ("dimensions", 0, "id"),
        "expected an id: lowercase letters, digits and _, starting with a letter, got 'Craft'",
    ),
    (
        edited("- id: craft", "- id: " + "a" * 65),
        23,
        ("dimensions", 0, "id"),
        "expected at most 64 characters",
    ),
    (
        edited("name: {zh: 校对, en: Proofreading}", "name: {ZH: 校对, en: Proofreading}"),
        43,
        ("dimensions", 0, "competencies", 1, "indicators", 0, "name"),
        "key 'ZH': expected a language code such as 'en' or 'zh'",
    ),
    (
        edited("          3: {zh: 建立团队", "          three: {zh: 建立团队"),
        48,
        ("dimensions", 0, "competencies", 1, "anchors"),
        "key 'three': expected a whole number",
    ),
    (
        edited("en: Proofreading}", "en: 2024-01-01}"),
        43,
        ("dimensions", 0, "competencies", 1, "indicators", 0, "name", "en"),
        "expected text, got the date 2024-01-01 (put it in quotes)",
    ),
    (
        edited("schema_version: 1", "schema_version: 2"),
        2,
        ("schema_version",),
        "unsupported schema_version 2: this Yardstick reads 1",
    ),
    (edited("languages: [zh, en]", "languages: []"), 8, ("languages",), "needs at least 1 entry"),
    (
        edited("languages: [zh, en]", "languages: zh"),
        8,
        ("languages",),
        "expected a list, got 'zh'",
    ),
    (
        edited("name: {zh: 编辑校对, en: Editing}", "name: 编辑校对"),
        39,
        ("dimensions", 0, "competencies", 1, "name"),
        "expected a mapping (key: value), got '编辑校对'",
    ),
    (
        edited("name: {zh: 编辑校对, en: Editing}", "name: {zh: 编辑校对}"),
        39,
        ("dimensions", 0, "competencies", 1, "name"),
        "missing translation: en",
    ),
    (
        edited(
            "name: {zh: 编辑校对, en: Editing}", "name: {zh: 编辑校对, en: Editing, fr: Édition}"
        ),
        39,
        ("dimensions", 0, "competencies", 1, "name"),
        "language not declared in `languages`: fr",
    ),
    (
        edited("name: {zh: 编辑校对, en: Editing}", "name: {}"),
        39,
        ("dimensions", 0, "competencies", 1, "name"),
        "missing translation: zh, en",
    ),
    (
        edited(
            "          3: {zh: 建立团队的校对流程。, en: Sets up the team's review workflow.}",
            "          3: {}",
        ),
        48,
        ("dimensions", 0, "competencies", 1, "anchors", 3),
        "missing translation: zh, en",
    ),
    (
        edited(
            "          3: {zh: 建立团队的校对流程。, en: Sets up the team's review workflow.}\n", ""
        ),
        46,
        ("dimensions", 0, "competencies", 1, "anchors"),
        "competency 'editing' has no anchor for level 3",
    ),
    (
        edited("hours: 2", "hours: .nan"),
        121,
        ("modules", 0, "hours"),
        "expected a finite number, got .nan",
    ),
    (
        edited("hours: 2", "hours: !!python/object/apply:os.system ['true']"),
        121,
        ("modules", 0, "hours"),
        "unsupported YAML tag '!!python/object/apply:os.system'",
    ),
    (
        edited("hours: 2", "hours: !custom 2"),
        121,
        ("modules", 0, "hours"),
        "cannot read this value: could not determine a constructor for the tag '!custom'",
    ),
    (
        edited("editing: {target: 2, weight: 1}", "editing: {target: 2, weight: -1}"),
        66,
        ("roles", 0, "targets", "editing", "weight"),
        "weight must be positive, got -1",
    ),
]


@pytest.mark.parametrize(("text", "line", "path", "fragment"), CASES)
def test_each_defect_is_reported_at_its_line_and_path_in_plain_words(
    text: str, line: int, path: tuple[str | int, ...], fragment: str
) -> None:
    problems = problems_of(text)

    assert [(p.line, p.path) for p in problems] == [(line, path)], [p.format() for p in problems]
    assert fragment in problems[0].message


def test_a_problem_formats_as_file_line_column_path_message_and_a_numbered_snippet() -> None:
    text = edited(
        "          3: {zh: 建立团队的校对流程。, en: Sets up the team's review workflow.}\n", ""
    )

    (problem,) = problems_of(text)

    assert problem.format() == (
        "x.yaml:46:11: dimensions[0].competencies[1].anchors: "
        "competency 'editing' has no anchor for level 3\n"
        "   45 |         anchors:\n"
        "   46 |           1: {zh: 发布后才发现错别字。, en: Finds typos only after publishing.}\n"
        "      |           ^"
    )


def test_the_caret_counts_chinese_characters_as_two_columns() -> None:
    (problem,) = problems_of(edited("en: Proofreading}", "en: 2024-01-01}"))

    source_line, caret_line = problem.snippet.splitlines()[-2:]
    # "校对" is two characters and four columns wide before the date.
    assert source_line.index("2024") + 2 == caret_line.index("^")


def test_every_structural_problem_is_reported_at_once_in_file_order() -> None:
    text = edited("hours: 2", "hours: abc")
    text = text.replace("- id: craft", "- id: Craft").replace(
        "schema_version: 1", "schema_version: 9"
    )

    problems = problems_of(text)

    assert [p.line for p in problems] == [2, 23, 121]
    assert "schema_version 9" in str(RubricError(problems))


def test_every_rule_problem_is_reported_at_once() -> None:
    text = edited("editing: {target: 2, weight: 1}", "editing: {target: 9, weight: 0}")
    text = text.replace("min: 0.6, max: 0.85", "min: 0.7, max: 0.85")

    messages = [p.message for p in problems_of(text)]

    assert messages == [
        "target 9 is outside the scale 1–3",
        "weight must be positive, got 0",
        "bands leave a gap between 0.6 and 0.7",
    ]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "the file is empty"),
        ("# only a comment\n", 1, "the file is empty"),
        ("- a\n- b\n", 1, "expected a mapping of rubric fields at the top, got a list"),
        (
            "just text\n",
            1,
            "expected a mapping of rubric fields at the top, got the value 'just text'",
        ),
        ("a: 1\n---\nb: 2\n", 2, "remove the extra '---'"),
        ("a: 1\n\tb: 2\n", 2, "YAML does not allow tabs"),
        ("a: b: c\n", 1, "mapping values are not allowed here"),
        ("a: *nowhere\n", 1, "found undefined alias 'nowhere'"),
        ("a: 1\nb: \x07\n", 2, "control character U+0007 is not allowed"),
        ("? [a, b]\n: 1\n", 1, "a key must be a plain value"),
        ("a: !!set {x, y}\n", 1, "unsupported YAML tag '!!set'"),
        ("a: &loop [*loop]\n", 1, "an alias refers to a node that contains it"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", 1, "nests too deeply"),
    ],
)
def test_unreadable_yaml_becomes_a_problem_with_a_line(text: str, line: int, fragment: str) -> None:
    problems = problems_of(text)

    assert any(p.line == line and fragment in p.message for p in problems), [
        p.format() for p in problems
    ]


def test_aliases_that_expand_exponentially_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]

    problems = problems_of("\n".join(lines) + "\n")

    assert "aliases expand into more data than any rubric needs" in problems[0].message


def test_anchors_aliases_and_merge_keys_work_as_in_yaml() -> None:
    text = edited(
        "      headlines: {target: 2, weight: 2, critical: true, tolerance: 0.5}\n"
        "      editing: {target: 2, weight: 1}\n",
        "      headlines: &usual {target: 2, weight: 2, critical: true, tolerance: 0.5}\n"
        "      editing: {<<: *usual, weight: 1, critical: false}\n",
    )

    rubric = parse_rubric(text, "x.yaml")

    assert rubric == parse_rubric(MINIMAL, "minimal.yaml")


def test_windows_line_endings_and_a_byte_order_mark_are_fine() -> None:
    text = "\ufeff" + edited("hours: 2", "hours: abc").replace("\n", "\r\n")

    (problem,) = problems_of(text)

    assert (problem.line, problem.column) == (121, 12)
    assert problem.snippet.splitlines()[-2].endswith("hours: abc")


def test_load_rubric_reads_a_file_and_names_it_in_problems(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(edited("hours: 2", "hours: abc"), encoding="utf-8")

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    assert str(caught.value).startswith(f"{path}:121:12: modules[0].hours: expected a number")
    assert load_rubric(MINIMAL_PATH) == parse_rubric(MINIMAL, "minimal.yaml")


def test_a_file_that_is_not_utf8_is_a_problem_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(MINIMAL.encode("utf-8").replace("文案写作".encode(), "文案写作".encode("gbk")))

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 4)
    assert "not UTF-8" in problem.message


@pytest.mark.parametrize("name", ["missing.yaml", "."])
def test_a_file_that_cannot_be_read_is_a_problem_with_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name

    with pytest.raises(RubricError) as caught:
        load_rubric(path)

    assert str(caught.value).startswith(f"{path}: cannot read the file: ")
    assert caught.value.problems[0].line == 0


def test_a_file_level_problem_formats_without_a_position() -> None:
    error = RubricError.single(Path("rubrics/a.yaml"), "rubric id 'x' is also used by b.yaml")

    assert str(error) == "rubrics/a.yaml: rubric id 'x' is also used by b.yaml"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{},&*!|>'\"# \n\t0.?%@`")), max_size=80))
def test_any_text_gives_a_rubric_or_a_rubric_error(text: str) -> None:
    problems = problems_or_none(text)

    assert problems is None or all(p.line >= 1 and p.snippet for p in problems)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_minimal_with_any_line_removed_gives_a_rubric_or_a_rubric_error(
    data: st.DataObject,
) -> None:
    lines = MINIMAL.splitlines(keepends=True)
    index = data.draw(st.integers(0, len(lines) - 1))
    problems = problems_or_none("".join(lines[:index] + lines[index + 1 :]))

    assert problems is None or problems
