"""Strict YAML loading for untrusted catalog files.

Safe by construction: the C (or pure-Python) event parser feeds a small builder that
only knows maps, lists and the plain scalar types. Anchors and aliases, duplicate keys,
non-string keys, explicit tags, tabs, a BOM, non-UTF-8 bytes, control, bidirectional and
Unicode line-break characters (also as escapes in a quoted string), conflict markers, non-finite or out-of-range numbers, deep
nesting and oversized files are errors; CRLF line ends read like LF. Every value's line
is known under its dotted path so that later checks can point at ``file:line``.

Two builders share these rules. A fast one turns the C parser's events into data and
records nothing else; it hands anything unusual (an error of any kind, an anchor, a tag,
a deep nest) to the careful one, which records lines and says what is wrong. A file's
lines are recorded by the careful builder only when someone asks for them (a problem to
report), so a sound file costs one fast pass. The fast builder may give up on more than
the careful one refuses, never on less: what it accepts, the careful one accepts alike.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from calcat_git.files.limits import INT_RANGE, MAX_BYTES, MAX_DEPTH

try:  # the C parser is ~10x faster; fall back when libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str": None,
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": _constructor.construct_yaml_null,
    # unquoted timestamps stay strings; the schema and model decide what they mean
    "tag:yaml.org,2002:timestamp": None,
}


@dataclass(slots=True)
class YamlError(Exception):
    """A problem in one YAML file; ``line`` is 1-based."""

    message: str
    line: int
    path: str = ""

    def __str__(self) -> str:
        return self.message


class LoadedYaml:
    """The data of one file and the line of every dotted path in it (recorded on first
    use, from the file's text, which is kept until then)."""

    __slots__ = ("_lines", "_text", "data")

    def __init__(self, data: Any, lines: dict[str, int] | None = None, text: str | None = None) -> None:
        self.data = data
        self._lines, self._text = lines, text

    @property
    def lines(self) -> dict[str, int]:
        if self._lines is None:
            assert self._text is not None
            self._lines, self._text = _careful(self._text).lines, None
        return self._lines

    def line_of(self, path: str) -> int:
        """Line of ``path`` or of its nearest existing parent (1 if none)."""
        lines = self.lines
        while path:
            if path in lines:
                return lines[path]
            path = path.rpartition(".")[0]
        return lines.get("", 1)


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# characters that make a file read differently in an editor or a review than it parses
_ODD_CHARS = re.compile("[\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                        "\ufeff\ufffe\uffff]")
_CONFLICT = re.compile(r"^<{7}(?: |$)", re.MULTILINE)


def _odd_char_message(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char == "\t":
        return "tab character: indent and separate with spaces only"
    if char == "\r":
        return "carriage return without a line feed (old Mac line end): use LF or CRLF line ends"
    if char in "\x85\u2028\u2029":
        return f"Unicode line break {code}: editors show none here but YAML starts a new line; use a plain newline"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return f"bidirectional control character {code}: the text would read differently than it parses"
    return f"control or invisible character {code}: catalog files are plain text"


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise YamlError(f"file is larger than the {MAX_BYTES} byte (4 MiB) limit for a catalog file", 1)
    if raw.startswith(b"\xef\xbb\xbf"):
        raise YamlError("file starts with a byte order mark (BOM): save it as UTF-8 without BOM", 1)
    if raw.startswith(_UTF16_BOMS):
        raise YamlError("file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8", 1)
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise YamlError("binary content (NUL byte): catalog files are UTF-8 text", line)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(f"not UTF-8 (byte 0x{raw[exc.start]:02x}): save the file as UTF-8", line) from None
    text = text.replace("\r\n", "\n")  # CRLF (Windows checkouts) is one line end, like LF
    odd = _ODD_CHARS.search(text)
    if odd:
        raise YamlError(_odd_char_message(odd.group()), _line_at(text, odd.start()))
    conflict = _CONFLICT.search(text)
    if conflict:
        raise YamlError("unresolved merge conflict marker '<<<<<<<': resolve the conflict (see `git status`) and "
                        "remove the markers", _line_at(text, conflict.start()))
    return text


def _line(mark: Any) -> int:
    return mark.line + 1 if mark is not None else 1


def _scalar(event: yaml.ScalarEvent) -> Any:
    line = _line(event.start_mark)
    if event.tag is not None and event.tag != "!":
        raise YamlError(f"explicit tag {event.tag!r} is not allowed", line)
    if event.style == '"':  # escapes (\e, \x01, \t) write characters the file's text may not hold
        odd = _ODD_CHARS.search(event.value.replace("\r\n", "\n"))  # CRLF is a line break, as in the text
        if odd:
            raise YamlError(f"escape for the control or invisible character U+{ord(odd.group()):04X}: catalog text "
                            "is plain, printable text", line)
    return _convert(event.value, event.implicit, line)


def _convert(text: str, implicit: tuple[bool, bool], line: int) -> Any:
    """The value of a scalar as the resolver types it (timestamps stay strings)."""
    tag: str = _resolver.resolve(yaml.ScalarNode, text, implicit)  # type: ignore[no-untyped-call]
    if tag == "tag:yaml.org,2002:merge":
        raise YamlError("merge key '<<' is not allowed: write values out", line)
    if tag not in _SCALAR_TAGS:
        raise YamlError(f"value {text!r} has unsupported type {tag}", line)
    convert = _SCALAR_TAGS[tag]
    if convert is None:
        return text
    value = convert(yaml.ScalarNode(tag, text))
    if isinstance(value, float) and not math.isfinite(value):
        raise YamlError(f"value {text!r} is not a finite number", line)
    if isinstance(value, int) and not INT_RANGE[0] <= value <= INT_RANGE[1]:
        raise YamlError(f"integer {text} is outside the 64-bit range", line)
    return value


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _key_name(key: Any, line: int) -> str:
    if not isinstance(key, str):
        raise YamlError(
            f"key {key!r} is {_a(type(key).__name__)}, not a string: quote it", line
        )
    return key


class _Builder:
    """Turns parser events into plain Python objects, recording lines."""

    def __init__(self) -> None:
        self.lines: dict[str, int] = {}
        # each frame: [container, dotted path, pending key or None, key line]
        self.stack: list[list[Any]] = []
        self.root: Any = None

    def _child_path(self, frame: list[Any]) -> str:
        container, path = frame[0], frame[1]
        name = frame[2] if isinstance(container, dict) else str(len(container))
        return f"{path}.{name}" if path else name

    def where(self) -> str:
        """The dotted path of the value the next event fills (for error messages)."""
        if not self.stack:
            return ""
        frame = self.stack[-1]
        if isinstance(frame[0], dict) and frame[2] is None:
            return str(frame[1])  # a key is next: point at the map
        return self._child_path(frame)

    def add(self, value: Any, line: int, opens: bool = False) -> None:
        if not self.stack:
            self.root = value
            self.lines[""] = line
            if opens:
                self.stack.append([value, "", None, line])
            return
        frame = self.stack[-1]
        container = frame[0]
        if isinstance(container, dict) and frame[2] is None:
            if opens:
                raise YamlError("a map or list used as a key: keys must be strings", line)
            key = _key_name(value, line)
            if key in container:
                first = self.lines[f"{frame[1]}.{key}" if frame[1] else key]
                raise YamlError(f"duplicate key {key!r} (first defined on line {first})", line,
                                f"{frame[1]}.{key}" if frame[1] else key)
            frame[2], frame[3] = key, line
            return
        path = self._child_path(frame)
        self.lines[path] = frame[3] if isinstance(container, dict) else line
        if isinstance(container, dict):
            container[frame[2]] = value
            frame[2] = None
        else:
            container.append(value)
        if opens:
            if len(self.stack) >= MAX_DEPTH:
                raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", line, path)
            self.stack.append([value, path, None, line])


def _handle(builder: _Builder, event: Any) -> int:
    """Feed one parser event to ``builder``; returns 1 for the start of a document."""
    line = _line(event.start_mark)
    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
        raise YamlError("anchors and aliases (&, *) are not allowed: write values out", line)
    if isinstance(event, yaml.ScalarEvent):
        builder.add(_scalar(event), line)
    elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
        if event.tag is not None:
            raise YamlError(f"explicit tag {event.tag!r} is not allowed", line)
        empty: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
        builder.add(empty, line, opens=True)
    elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
        builder.stack.pop()
    return int(isinstance(event, yaml.DocumentStartEvent))


def load_yaml(raw: bytes) -> LoadedYaml:
    """Parse one YAML document strictly. Raises :class:`YamlError`."""
    text = _decode(raw)
    try:
        return LoadedYaml(_fast(text), text=text)
    except (_GiveUp, YamlError, yaml.YAMLError):
        return _careful(text)  # says what is wrong, or reads what the fast builder left to it


def _careful(text: str) -> LoadedYaml:
    """The builder that records every value's line and names every problem."""
    builder = _Builder()
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            try:
                documents += _handle(builder, event)
            except YamlError as exc:
                exc.path = exc.path or builder.where()
                raise
            if documents > 1:
                raise YamlError("more than one YAML document (---) in the file", _line(event.start_mark))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit, far above ours
            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", line) from None
        raise YamlError(f"YAML syntax error: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:  # pragma: no cover - reader errors; odd characters are refused before
        raise YamlError(f"YAML error: {str(exc).splitlines()[0]}", 1) from None
    if documents == 0:
        raise YamlError("empty file: expected a YAML map", 1)
    return LoadedYaml(builder.root, builder.lines)


class _GiveUp(Exception):
    """The fast builder leaves this file to the careful one."""


_NO_KEY = object()
# the resolver types a plain scalar by its first character; any other one makes a string
_TYPED_FIRST = frozenset(_resolver.yaml_implicit_resolvers)
_ALL_TYPED = None in _TYPED_FIRST  # a resolver for every first character (none in PyYAML's own)


@lru_cache(maxsize=4096)  # plain scalars that start like a number, bool or null repeat across files
def _typed(text: str) -> Any:
    return _convert(text, (True, False), 1)  # raises YamlError (not kept): the careful builder says where


def _plain(text: str) -> Any:
    if text and text[0] not in _TYPED_FIRST and not _ALL_TYPED:
        return text
    return _typed(text)


def _fast(text: str) -> Any:
    """The data of ``text`` exactly as :func:`_careful` builds it, without lines; raises
    :class:`_GiveUp` (or a YAML error) where the careful builder must look."""
    get_event = _Loader(text).get_event
    stack: list[tuple[Any, Any]] = []  # (container, pending key) of each open container's parent
    container: Any = None
    key: Any = _NO_KEY
    root: Any = _NO_KEY
    documents = 0
    while True:
        event: Any = get_event()
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or (event.tag is not None and event.tag != "!"):
                raise _GiveUp
            if event.style == '"' and _ODD_CHARS.search(event.value.replace("\r\n", "\n")):
                raise _GiveUp
            value = _plain(event.value) if event.implicit[0] else event.value
            opened: Any = None
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _GiveUp
            value = opened = {} if kind is yaml.MappingStartEvent else []
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            container, key = stack.pop()
            continue
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _GiveUp
            continue
        elif kind is yaml.StreamEndEvent:
            break
        elif kind is yaml.AliasEvent:
            raise _GiveUp
        else:
            continue
        if container is None:
            root = value
        elif key is _NO_KEY and type(container) is dict:
            if type(value) is not str or value in container:
                raise _GiveUp
            key = value
            continue
        elif key is _NO_KEY:
            container.append(value)
        else:
            container[key] = value
            key = _NO_KEY
        if opened is not None:
            if len(stack) >= MAX_DEPTH:
                raise _GiveUp
            stack.append((container, key))
            container, key = opened, _NO_KEY
    if root is _NO_KEY:  # an empty file
        raise _GiveUp
    return root
