"""Small edits of hand-written YAML that keep its layout and comments: an item appended to
a list, a line put after another. Each edit is checked by reading the result back: if it
does not hold exactly the data wanted, the file is written out whole instead (correct,
only its layout is lost)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from calcat_git.files.strict_yaml import YamlError, load_yaml


def flow(value: Any) -> str:
    """``value`` as one line of flow-style YAML."""
    return str(yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False)).strip() \
        .removesuffix("...").strip()


def dump(data: Any) -> str:
    return str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))


def data_of(text: str) -> Any:
    return load_yaml(text.encode()).data


def checked(text: str | None, wanted: Any) -> str:
    """``text`` if it reads as ``wanted``, else ``wanted`` written out whole."""
    if text is not None:
        try:
            if data_of(text) == wanted:
                return text
        except YamlError:
            pass
    return dump(wanted)


def appended(text: str, key: str, item: str) -> str | None:
    """``text`` with ``item`` added to the top-level list ``key`` (flow ``[a, b]`` on the
    key's line, or a block of ``- a`` lines below it); None if the list is not laid out so."""
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if re.match(rf"{re.escape(key)}:(\s|$)", line)), None)
    if at is None:
        return None
    rest = lines[at][len(key) + 1:]
    inline = re.match(r"\s*\[(.*)\]\s*(#.*)?$", rest.rstrip("\n"))
    if inline:
        inner = inline.group(1).strip()
        lines[at] = f"{key}: [{inner + ', ' if inner else ''}{flow(item)}]\n"
        return "".join(lines)
    end, indent = at + 1, None
    while end < len(lines) and (m := re.match(r"(\s*)- ", lines[end])) and (indent is None or m.group(1) == indent):
        indent, end = m.group(1), end + 1
    if indent is None:
        return None
    lines.insert(end, f"{indent}- {flow(item)}\n")
    return "".join(lines)


def with_key(text: str, key: str, value: Any) -> str:
    """``text`` with a top-level ``key: value`` line added at its end."""
    return text + ("" if text.endswith("\n") or not text else "\n") + f"{key}: {flow(value)}\n"
