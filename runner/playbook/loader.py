"""YAML -> plain Python data, with a source position for every key and value.

Safe loading only (a composer and our own scalar rules; no constructor, no custom tags),
plus the things ``safe_load`` does not do: duplicate keys are errors, keys are always text
(so ``on:`` stays ``"on"``), numbers are only ever plain decimals (see
:mod:`runner.playbook.scalars`), floats keep their source text (so an amount written as
``0.1`` can be reported with a hint instead of silently becoming binary floating point),
timestamps stay text, and alias expansion, nesting and file size are bounded.

Composing uses libyaml (``yaml.CParser``, which gives the same marks) when PyYAML was built
with it, and PyYAML's pure-Python parser otherwise; everything after composing is shared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from runner.playbook.diagnostics import Diagnostic, KeyPath, PlaybookError
from runner.playbook.scalars import BAD_NUMBER_TAG, ScalarResolver, is_plain_number, number_problem
from runner.playbook.text_secrets import LINE_BREAK, ScalarSpan, text_tokens, token_problems

__all__ = [
    "COMPOSERS",
    "Position",
    "PythonComposer",
    "ScalarInfo",
    "SourceFloat",
    "SourceMap",
    "load_yaml",
]

MAX_BYTES = 1_000_000
MAX_NODES = 20_000  # a large playbook has a few thousand values
MAX_DEPTH = 64
MAX_NUMBER_TEXT = 100  # Python refuses to convert ints of more than 4300 digits anyway

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_MERGE = f"{_TAG}merge"
_KEY_TAGS = _SCALAR_TAGS | {BAD_NUMBER_TAG}
_SURROGATE = re.compile("[\ud800-\udfff]")
_BOOLEANS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


class PythonComposer(Reader, Scanner, Parser, Composer, ScalarResolver):
    """PyYAML's pure-Python composer with our scalar rules (the fallback without libyaml)."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        ScalarResolver.__init__(self)


try:
    from yaml import cyaml

    _LIBYAML: type[Any] | None = cyaml.CParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _LIBYAML = None

if _LIBYAML is not None:

    class LibyamlComposer(_LIBYAML, ScalarResolver):  # type: ignore[misc,valid-type]
        """libyaml's parser and composer (same nodes and marks, several times faster)."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)  # type: ignore[call-arg]  # CParser's (the first base)
            ScalarResolver.__init__(self)

    COMPOSERS: tuple[type[Any], ...] = (LibyamlComposer, PythonComposer)
else:  # pragma: no cover - depends on how PyYAML was built
    COMPOSERS = (PythonComposer,)


class SourceFloat(float):
    """A YAML float that remembers how it was written (for "quote it" hints)."""

    source: str

    def __new__(cls, value: float, source: str) -> SourceFloat:
        self = super().__new__(cls, value)
        self.source = source
        return self


# NamedTuples, not dataclasses: one of each is built per YAML node, on validate's hot path
class Position(NamedTuple):
    line: int  # 1-based
    column: int  # 1-based


class ScalarInfo(NamedTuple):
    """How a scalar value was written: its text, resolved tag name and quoting style."""

    text: str
    tag: str
    style: str | None  # None for plain, "'" / '"' for quoted, "|" / ">" for blocks


@dataclass
class SourceMap:
    """Where each key path of the document was written."""

    file: str
    keys: dict[KeyPath, Position] = field(default_factory=dict)
    values: dict[KeyPath, Position] = field(default_factory=dict)
    scalars: dict[KeyPath, ScalarInfo] = field(default_factory=dict)
    # block scalars (| and >): their content lines as written, with line numbers, so a
    # key whose indentation put it inside the text can be found (the value folds them)
    blocks: dict[KeyPath, list[tuple[int, str]]] = field(default_factory=dict)
    # every key and value's extent, kept only when the text holds a session token (to
    # tell one in a value from one in a comment); None otherwise, at no cost
    spans: list[ScalarSpan] | None = None

    def position(self, path: KeyPath, *, at_key: bool = False) -> Position:
        """The value (or key) position of ``path``, or of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            table = self.keys if at_key or end < len(path) else self.values
            found = table.get(prefix) or self.values.get(prefix)
            if found is not None:
                return found
        return Position(1, 1)

    def diagnostic(
        self, path: KeyPath, message: str, *, at_key: bool = False, offset: int | None = None
    ) -> Diagnostic:
        """A problem at ``path``; ``offset`` is a character offset inside a scalar value."""
        position = self.position(path, at_key=at_key)
        column = position.column
        info = self.scalars.get(path)
        if (
            offset is not None
            and info is not None
            and path in self.values
            and info.style
            in (
                None,
                "'",
                '"',
            )
        ):
            column += offset + (1 if info.style else 0)
        return Diagnostic(self.file, position.line, column, path, message)


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Walks the composed node graph once, building data and recording positions."""

    def __init__(self, source: SourceMap, text: str = "") -> None:
        self.source = source
        self.text = text
        self._lines: list[str] | None = None
        self.nodes = 0
        self.active: set[int] = set()
        self.problems: list[Diagnostic] = []  # reported together once the walk is done

    def fail(self, node: Node, message: str, path: KeyPath = ()) -> PlaybookError:
        position = _position(node)
        return PlaybookError(
            [Diagnostic(self.source.file, position.line, position.column, path, message)]
        )

    def build(self, node: Node, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(
                node, f"document too large: more than {MAX_NODES} values (alias expansion?)"
            )
        if len(path) > MAX_DEPTH:
            raise self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        self.source.values.setdefault(path, _position(node))
        if isinstance(node, ScalarNode):
            self.span(node, path)
            return self.scalar(node, path)
        if id(node) in self.active:
            raise self.fail(node, "recursive alias: a node cannot contain itself")
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self.check_tag(node, {f"{_TAG}seq"})
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def block_lines(self, node: ScalarNode) -> list[tuple[int, str]]:
        """The content lines of a block scalar (after its ``|``/``>`` line), numbered."""
        if self._lines is None:
            self._lines = LINE_BREAK.split(self.text)
        first = node.start_mark.line + 1
        # the scalar ends at the start of the next line, or inside its last line at the end
        last = node.end_mark.line if node.end_mark.column > 0 else node.end_mark.line - 1
        return [(n + 1, self._lines[n]) for n in range(first, min(last + 1, len(self._lines)))]

    def span(self, node: Node, path: KeyPath) -> None:
        if self.source.spans is not None:
            line, column = _position(node)
            start = (line, column)
            if isinstance(node, ScalarNode) and node.style in ("|", ">"):
                start = (line + 1, 1)  # the rest of the header line is a comment
            end = (node.end_mark.line + 1, node.end_mark.column + 1)
            self.source.spans.append(ScalarSpan(start, end, path, (line, column)))

    def check_tag(self, node: Node, expected: set[str]) -> None:
        if node.tag not in expected:
            tag = node.tag.replace(_TAG, "!!")
            raise self.fail(node, f"tag {tag!r} is not allowed: playbooks use plain YAML only")

    def scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        text = node.value
        if node.tag == BAD_NUMBER_TAG:
            self.source.scalars.setdefault(path, ScalarInfo(text, "number", None))
            self.problems.append(self.fail(node, number_problem(text), path).diagnostics[0])
            return text
        self.check_tag(node, _SCALAR_TAGS)
        self.check_text(node, path)
        tag = node.tag.removeprefix(_TAG)
        style = node.style or None  # libyaml writes "" for plain scalars, PyYAML None
        self.source.scalars.setdefault(path, ScalarInfo(text, tag, style))
        if style in ("|", ">"):
            self.source.blocks.setdefault(path, self.block_lines(node))
        if tag in ("str", "timestamp"):
            return text
        if tag in ("int", "float"):
            if len(text) > MAX_NUMBER_TEXT:
                raise self.fail(node, f"number longer than {MAX_NUMBER_TEXT} characters", path)
            if not is_plain_number(text):  # an explicit !!int / !!float on any spelling
                self.problems.append(self.fail(node, number_problem(text), path).diagnostics[0])
                return text
            return int(text) if tag == "int" else SourceFloat(float(text), text)
        if tag == "bool":
            value = _BOOLEANS.get(text.lower())
            if value is None:
                raise self.fail(node, f"invalid bool value {text!r}", path)
            return value
        return None  # null: "", "~", "null"

    def key_text(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, "mapping keys must be plain text, not a list or mapping")
        # keys are always their text (so "010:" is the key "010"): no number rule applies
        self.check_tag(node, _KEY_TAGS)
        self.check_text(node, ())
        return str(node.value)

    def check_text(self, node: ScalarNode, path: KeyPath) -> None:
        """A ``"\ud800"`` escape makes a string that is not Unicode text: nothing could
        print, log or send it (every write would fail), so it is refused where it is written.
        Only double-quoted scalars have escapes; the file itself was strict UTF-8."""
        if node.style == '"' and _SURROGATE.search(node.value):
            self.problems.append(
                self.fail(
                    node,
                    "text with an unpaired surrogate escape (\\ud800-\\udfff) is not Unicode "
                    "text; write the character itself or a \\U escape of a real code point",
                    path,
                ).diagnostics[0]
            )

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        self.check_tag(node, {f"{_TAG}map"})
        merges: list[Node] = []
        explicit: dict[str, Any] = {}
        seen: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append(value_node)
                continue
            key = self.key_text(key_node)
            if key in seen:
                first = _position(seen[key])
                raise_at = _position(key_node)
                self.problems.append(
                    Diagnostic(
                        self.source.file,
                        raise_at.line,
                        raise_at.column,
                        (*path, key),
                        f"duplicate key {key!r} (first defined at line {first.line}, "
                        f"column {first.column})",
                    )
                )
                continue
            seen[key] = key_node
            self.span(key_node, (*path, key))
            self.source.keys.setdefault((*path, key), _position(key_node))
            explicit[key] = self.build(value_node, (*path, key))
        merged: dict[str, Any] = {}
        for merge in merges:  # after the explicit keys, so their positions win
            merged = {**self.merge_sources(merge, path), **merged}
        return {**merged, **explicit}

    def merge_sources(self, node: Node, path: KeyPath) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        result: dict[str, Any] = {}
        for source in reversed(sources):  # earlier sources win, as in YAML's merge key spec
            if not isinstance(source, MappingNode):
                raise self.fail(source, "a merge key (<<) needs a mapping or a list of mappings")
            if id(source) in self.active:
                raise self.fail(source, "recursive alias: a node cannot contain itself")
            self.active.add(id(source))
            try:
                result.update(self.mapping(source, path))
            finally:
                self.active.discard(id(source))
        return result


def load_yaml(
    text: str, file: str, composer: type[Any] | None = None, *, what: str = "playbook"
) -> tuple[Any, SourceMap]:
    """Parses one YAML document; raises :class:`PlaybookError` with located problems.

    A session token anywhere in the text — a value, a key, a comment — is a problem of its
    own (``what`` names the file in its message), reported with any syntax problem.
    ``composer`` picks the parser (tests run both); by default libyaml when available.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise PlaybookError([Diagnostic(file, 1, 1, (), f"file larger than {MAX_BYTES} bytes")])
    tokens = text_tokens(text)
    try:
        data, source = _load_with(text, file, composer or COMPOSERS[0], tracked=bool(tokens))
    except PlaybookError as error:
        if not tokens:
            raise
        found = token_problems(file, tokens, None, what)
        raise PlaybookError([*found, *error.diagnostics]) from None
    if tokens:
        raise PlaybookError(token_problems(file, tokens, source.spans, what))
    return data, source


def _load_with(text: str, file: str, chosen: type[Any], *, tracked: bool) -> tuple[Any, SourceMap]:
    try:
        return _load(text, file, chosen, tracked)
    except yaml.YAMLError:
        if chosen is PythonComposer:
            raise
    # libyaml found a syntax error: PyYAML's own parser names it better ("found character
    # '\t'", "expected ',' or '}', but got ..."), and the error path is never the hot one
    return _load(text, file, PythonComposer, tracked)


def _load(text: str, file: str, composer: type[Any], tracked: bool) -> tuple[Any, SourceMap]:
    source = SourceMap(file, spans=[] if tracked else None)
    try:
        loader = composer(text)
    except yaml.YAMLError as error:
        if composer is not PythonComposer:
            raise
        raise PlaybookError([_yaml_diagnostic(file, text, error)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise PlaybookError([Diagnostic(file, 1, 1, (), "empty document: expected a playbook")])
        builder = _Builder(source, text)
        data = builder.build(node, ())
    except yaml.YAMLError as error:
        if composer is not PythonComposer:
            raise  # load_yaml asks the pure-Python parser for its message
        raise PlaybookError([_yaml_diagnostic(file, text, error)]) from None
    except (RecursionError, MemoryError):
        raise PlaybookError([Diagnostic(file, 1, 1, (), "YAML nested too deeply")]) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise PlaybookError(builder.problems)
    return data, source


def _yaml_diagnostic(file: str, text: str, error: yaml.YAMLError) -> Diagnostic:
    if isinstance(error, yaml.MarkedYAMLError):
        return _syntax_diagnostic(file, error)
    if isinstance(error, yaml.reader.ReaderError):
        return _reader_diagnostic(file, text, error)
    return Diagnostic(file, 1, 1, (), f"invalid YAML: {error}")


def _reader_diagnostic(file: str, text: str, error: yaml.reader.ReaderError) -> Diagnostic:
    before = text[: error.position]
    line = before.count("\n") + 1
    column = error.position - (before.rfind("\n") + 1) + 1
    return Diagnostic(
        file, line, column, (), f"invalid YAML: character #x{error.character:04x} is not allowed"
    )


def _syntax_diagnostic(file: str, error: yaml.MarkedYAMLError) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = f"invalid YAML: {error.problem or error.context}"
    if error.context and error.problem and error.context_mark:
        context_line = error.context_mark.line + 1
        message += f" ({error.context} at line {context_line})"
    return Diagnostic(file, line, column, (), message)
