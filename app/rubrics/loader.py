"""Rubric YAML → `Rubric`, or a `RubricError` listing every problem at file:line:column.

The node tree comes from `yaml.SafeLoader`; we build the plain data ourselves so each key path
keeps where its key and value stand in the file (the dagster approach, see STYLE.md).
"""

from __future__ import annotations

import difflib
import math
import re
import types
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.rubrics.spec import Path, Problem, Rubric, Text, check_rubric

# Aliases may fan a small file out into a huge tree ("billion laughs"); no rubric comes close.
_MAX_NODES = 500_000
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class SourceProblem:
    """One problem; `line` and `column` count from 1, and are 0 when it concerns the whole file."""

    file: str
    line: int
    column: int
    path: Path
    message: str
    snippet: str

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        what = f"{format_path(self.path)}: {self.message}" if self.path else self.message
        return f"{where}: {what}" + (f"\n{self.snippet}" if self.snippet else "")


class RubricError(Exception):
    def __init__(self, problems: list[SourceProblem]) -> None:
        super().__init__("\n\n".join(problem.format() for problem in problems))
        self.problems = problems

    @classmethod
    def single(cls, file: str | FilePath, message: str) -> RubricError:
        """A problem with the file as a whole (unreadable, clashing with another file…)."""
        return cls([SourceProblem(str(file), 0, 0, (), message, "")])


def format_path(path: Path) -> str:
    """`dimensions[0].competencies[2].anchors`; keys that aren't plain words get quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"\w+", part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def load_rubric(path: FilePath) -> Rubric:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RubricError.single(path, f"cannot read the file: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n")
        column = len(before) - (before.rfind(b"\n") + 1)
        shown = data.decode("utf-8", errors="replace")
        message = f"not UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8"
        raise RubricError(
            [_problem(str(path), _lines(shown), (line, column), (), message)]
        ) from None
    return parse_rubric(text, str(path))


def parse_rubric(text: str, filename: str) -> Rubric:
    """Structure and cross-reference problems are reported together, sorted by position."""
    text = text.removeprefix("\ufeff")
    lines = _lines(text)
    reader = _Reader()
    data = reader.read(text)
    problems = [
        _problem(filename, lines, at, path, message) for at, path, message in reader.problems
    ]
    if data is None:
        raise RubricError(problems)
    try:
        rubric: Rubric | None = Rubric.model_validate(data)
    except ValidationError as error:
        rubric = None
        for detail in error.errors():
            explained = _explain(detail)
            if explained is None:
                continue
            path, message, on_key = explained
            at = reader.find(path, on_key)
            if at not in reader.unreadable:
                shown = path[:-1] if on_key else path
                problems.append(_problem(filename, lines, at, shown, message))
    if rubric is not None:
        missing = f"missing translation: {', '.join(rubric.languages)}"
        for problem in [*check_rubric(rubric), *_empty_texts(rubric, (), missing)]:
            at = reader.find(problem.path, on_key=False)
            problems.append(_problem(filename, lines, at, problem.path, problem.message))
    if problems:
        unique = dict.fromkeys(problems)
        raise RubricError(sorted(unique, key=lambda p: (p.line, p.column)))
    assert rubric is not None
    return rubric


# --- YAML with positions -------------------------------------------------------------------

_At = tuple[int, int]  # 0-based line and column, as in yaml.Mark


class _TooLarge(Exception):
    pass


class _Reader:
    """Builds plain data from the node tree, remembering where every key path came from."""

    def __init__(self) -> None:
        self.problems: list[tuple[_At, Path, str]] = []
        # Values already reported as unreadable; pydantic's complaints about them are echoes.
        self.unreadable: set[_At] = set()
        self._keys: dict[tuple[str, ...], _At] = {}
        self._values: dict[tuple[str, ...], _At] = {}
        self._loader = yaml.SafeLoader("")
        self._open: set[int] = set()
        self._budget = _MAX_NODES

    def read(self, text: str) -> dict[Any, Any] | None:
        """The top-level mapping, or None when the file can't be read as one."""
        loader: yaml.SafeLoader | None = None
        try:
            loader = yaml.SafeLoader(text)  # already checks for unprintable characters
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            self._syntax_error(error)
            return None
        except yaml.reader.ReaderError as error:
            line, column = _position(text, error.position)
            message = f"control character U+{error.character:04X} is not allowed in YAML"
            self.problems.append(((line, column), (), message))
            return None
        except RecursionError:
            self.problems.append(((0, 0), (), "the file nests too deeply to be a rubric"))
            return None
        finally:
            if loader is not None:
                loader.dispose()
        if node is None:
            self.problems.append(((0, 0), (), "the file is empty; a rubric is a YAML mapping"))
            return None
        if not isinstance(node, yaml.MappingNode):
            message = f"expected a mapping of rubric fields at the top, got {_kind(node)}"
            self.problems.append((_mark(node), (), message))
            return None
        try:
            data = self._build(node, ())
        except (_TooLarge, RecursionError):
            message = "aliases expand into more data than any rubric needs"
            self.problems.append(((0, 0), (), message))
            return None
        assert isinstance(data, dict)
        return data

    def find(self, path: Path, on_key: bool) -> _At:
        """Where `path` stands, or its nearest recorded ancestor (a missing field's parent)."""
        for end in range(len(path), -1, -1):
            canonical = _canonical(path[:end])
            if on_key and end == len(path) and canonical in self._keys:
                return self._keys[canonical]
            if canonical in self._values:
                return self._values[canonical]
        return (0, 0)

    def _syntax_error(self, error: yaml.MarkedYAMLError) -> None:
        mark = error.problem_mark or error.context_mark
        at = (mark.line, mark.column) if mark else (0, 0)
        message = f"YAML syntax error: {error.problem or error.context}"
        if error.context and error.context_mark and error.problem:
            message += f" ({error.context} at line {error.context_mark.line + 1})"
        self.problems.append((at, (), message + _syntax_hint(str(error.problem))))

    def _build(self, node: yaml.Node, path: Path) -> Any:
        self._values[_canonical(path)] = _mark(node)
        self._budget -= 1
        if self._budget < 0:
            raise _TooLarge
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._open:
            self._flag(node, path, "an alias refers to a node that contains it")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
                return [self._build(child, (*path, i)) for i, child in enumerate(node.value)]
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._flag(node, path, f"unsupported YAML tag {tag!r}")
            return None
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        own = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
        try:
            self._loader.flatten_mapping(node)  # puts the pairs of `<<: *alias` first
        except yaml.MarkedYAMLError as error:
            self._syntax_error(error)
        inherited = len(node.value) - own
        data: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                message = "a key must be a plain value, not a list or mapping"
                self.problems.append((_mark(key_node), path, message))
                continue
            key = self._scalar(key_node, path)
            if key in first_line:
                message = f"duplicate key {key_node.value!r}, first given at line {first_line[key]}"
                self.problems.append((_mark(key_node), path, message))
                continue
            if index >= inherited:  # merged keys may be overridden, own keys may not repeat
                first_line[key] = key_node.start_mark.line + 1
            self._keys[_canonical((*path, key))] = _mark(key_node)
            data[key] = self._build(value_node, (*path, key))
        return data

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        try:
            value = self._loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as error:
            message = f"cannot read this value: {error.problem}"
        except ValueError as error:  # a date like 2024-13-45, or an integer of 5000 digits
            message = f"cannot read {_show(node.value)}: {error}"
        else:
            if not (isinstance(value, float) and not math.isfinite(value)):
                return value
            # pydantic accepts .nan and .inf; no weight, point or level means that.
            message = f"expected a finite number, got {node.value}"
        self._flag(node, path, message)
        return str(node.value)

    def _flag(self, node: yaml.Node, path: Path, message: str) -> None:
        self.problems.append((_mark(node), path, message))
        self.unreadable.add(_mark(node))


def _canonical(path: Path) -> tuple[str, ...]:
    # pydantic reports a YAML key `1` as 1 and `"1"` as "1", and bool keys as ints.
    return tuple(str(int(part)) if isinstance(part, bool) else str(part) for part in path)


def _mark(node: yaml.Node) -> _At:
    return (node.start_mark.line, node.start_mark.column)


def _position(text: str, offset: int) -> _At:
    before = text[:offset]
    lines = _LINE_BREAK.split(before)
    return (len(lines) - 1, len(lines[-1]))


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a mapping" if isinstance(node, yaml.MappingNode) else f"the value {node.value!r}"


_HINTS = {
    "mapping values are not allowed here": (
        "a value that contains ': ' needs quotes, or the indentation is off"
    ),
    "that cannot start any token": "indent with spaces; YAML does not allow tabs",
    "expected ',' or '}'": "in a {…} mapping, quote values that contain a comma or a colon",
    "expected ',' or ']'": "a [ … ] list is not closed, or a value in it needs quotes",
    "found another document": "a rubric file holds one YAML document; remove the extra '---'",
}


def _syntax_hint(problem: str) -> str:
    for fragment, hint in _HINTS.items():
        if fragment in problem:
            return f"; {hint}"
    return ""


# --- pydantic errors in plain words --------------------------------------------------------


def _explain(error: ErrorDetails) -> tuple[Path, str, bool] | None:
    """The path to point at, the message, and whether to point at the key rather than the value.

    None for pydantic's echo of an element error: a list "too short after validation" only
    because its elements failed.
    """
    loc: Path = tuple(error["loc"])
    kind, value, ctx = error["type"], error["input"], error.get("ctx", {})
    expected = _expected(kind, value, ctx) or error["msg"]
    if loc and loc[-1] == "[key]":
        return loc[:-1], f"key {_show_key(value)}: {expected}{_quote_hint(kind, value)}", True
    if kind == "missing":
        return loc[:-1], f"missing required field {_show(loc[-1])}", False
    if kind == "invalid_key":  # a key YAML read as a number, date…: loc holds its repr
        loc = (*loc[:-1], value)
    if kind in ("extra_forbidden", "invalid_key"):
        return loc, f"unknown field {_show_key(loc[-1])}{_suggest(loc)}", True
    if kind == "too_short":
        if isinstance(value, list | dict) and len(value) >= ctx["min_length"]:
            return None
        wanted = ctx["min_length"]
        return loc, f"needs at least {wanted} {_plural(wanted, 'entry')}, got none", False
    if kind == "literal_error" and loc == ("schema_version",):
        message = (
            f"unsupported schema_version {_show(value)}: this Yardstick reads {ctx['expected']}"
        )
        return loc, message, False
    return loc, f"{expected}, got {_show(value)}{_quote_hint(kind, value)}", False


def _quote_hint(kind: str, value: object) -> str:
    if kind != "string_type":
        return ""
    if isinstance(value, bool):
        return ' (YAML reads unquoted yes/no/on/off as true/false: write "no" in quotes)'
    return " (put it in quotes)" if isinstance(value, date | int | float) else ""


def _expected(kind: str, value: object, ctx: dict[str, Any]) -> str | None:
    if kind == "string_type":
        return "expected text"
    if kind.startswith("int_"):
        return "expected a whole number"
    if kind.startswith("float_") or kind == "finite_number":
        return "expected a number"
    if kind.startswith("bool_"):
        return "expected true or false"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "expected a mapping (key: value)"
    if kind in ("tuple_type", "list_type", "iterable_type"):
        return "expected a list"
    if kind in ("literal_error", "enum"):
        return f"expected one of {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return _pattern_meaning(str(ctx["pattern"]))
    if kind == "string_too_long":
        return f"expected at most {ctx['max_length']} characters"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"expected {words} {ctx[key]:g}"
    return None


def _plural(count: int, word: str) -> str:
    if count == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _pattern_meaning(pattern: str) -> str:
    if pattern.startswith("^[a-z][a-z0-9_]"):
        return "expected an id: lowercase letters, digits and _, starting with a letter"
    if pattern.startswith("^[a-z]{2}"):
        return "expected a language code such as 'en' or 'zh'"
    return f"expected text matching {pattern}"


def _show(value: object) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "…")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    return str(value)


def _show_key(value: object) -> str:
    if value is None:
        return "null"
    return value.isoformat() if isinstance(value, date) else _show(value)


def _suggest(loc: Path) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    fields = [info.alias or name for name, info in model.model_fields.items()]
    close = difflib.get_close_matches(str(loc[-1]), fields, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f"; allowed here: {', '.join(fields)}"


def _model_at(path: Path) -> type[BaseModel] | None:
    """The model class the document expects at `path`, following field annotations."""
    annotation: Any = Rubric
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[str(part)].annotation
        elif get_origin(annotation) in (tuple, dict):
            annotation = get_args(annotation)[-1 if get_origin(annotation) is dict else 0]
        else:
            return None
    annotation = _unwrap(annotation)
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) is Annotated:
        return _unwrap(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(members[0])
    return annotation


def _empty_texts(model: BaseModel, path: Path, message: str) -> Iterator[Problem]:
    """`name: {}` is a text with no translation at all, which check_rubric lets pass."""
    for name, info in type(model).model_fields.items():
        value, here = getattr(model, name), (*path, info.alias or name)
        if isinstance(value, BaseModel):
            yield from _empty_texts(value, here, message)
        elif isinstance(value, tuple | dict):
            if value == {} and _unwrap(info.annotation) == Text:
                yield Problem(here, message)
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in pairs:
                if isinstance(child, BaseModel):
                    yield from _empty_texts(child, (*here, key), message)
                elif child == {} and get_args(info.annotation)[-1] == Text:  # an anchor
                    yield Problem((*here, key), message)


# --- snippets ------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


def _problem(file: str, lines: list[str], at: _At, path: Path, message: str) -> SourceProblem:
    line, column = at
    return SourceProblem(file, line + 1, column + 1, path, message, _snippet(lines, line, column))


def _snippet(lines: list[str], line: int, column: int) -> str:
    """The offending line and the one before it, numbered, with a caret under `column`."""
    shown = range(max(line - 1, 0), line + 1)
    width = len(str(line + 1))
    rows = [f"   {n + 1:>{width}} | {_visible(lines, n)}".rstrip() for n in shown]
    current = lines[line] if line < len(lines) else ""
    rows.append(f"   {'':>{width}} | {_pad(current[:column])}^")
    return "\n".join(rows)


def _visible(lines: list[str], index: int) -> str:
    line = lines[index] if index < len(lines) else ""
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" and c != "\t" else c for c in line)


def _pad(prefix: str) -> str:
    # Keep tabs so the caret lines up, and give wide (CJK) characters two columns.
    return "".join(
        "\t" if char == "\t" else "  " if unicodedata.east_asian_width(char) in "WF" else " "
        for char in prefix
    )
