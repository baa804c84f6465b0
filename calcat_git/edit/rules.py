"""A detector type's look-up rules (its ``conditions:`` block: which parameters each
calibration is asked, their kind, default and legacy value) as new calibrations and
parameters join them. Kept apart from the records they belong to: a type without the
block asks every calibration every parameter given, so there is nothing to wire."""

from __future__ import annotations

import copy
import re
from typing import Any

from calcat_git.edit.yamltext import flow
from calcat_git.errors import InvalidInputError

NO_DEFAULT = object()


def has_rules(type_data: dict[str, Any]) -> bool:
    return isinstance(type_data.get("conditions"), dict)


def no_rules(type_name: str, what: str) -> InvalidInputError:
    return InvalidInputError(f"{type_name} has no look-up rules (no `conditions:` block in its file: every calibration is "
                             f"asked every parameter given), so {what} has nothing to say there; leave it out")


def rule_of(kind: str, default: Any = NO_DEFAULT, legacy: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind}
    if default is not NO_DEFAULT:
        out["default"] = default
    if legacy is not None:
        out["legacy"] = legacy
    return out


def wire_parameter(type_data: dict[str, Any], name: str, rule: dict[str, Any], calibrations: list[str]) -> dict[str, Any]:
    """The type's data with parameter ``name`` ruled by ``rule`` and asked by ``calibrations``."""
    out = copy.deepcopy(type_data)
    block = out["conditions"]
    block.setdefault("parameters", {})[name] = rule
    asked = block.setdefault("calibrations", {})
    for calibration in calibrations:
        asked.setdefault(calibration, [])
        if name not in asked[calibration]:
            asked[calibration].append(name)
    return out


def wire_calibration(type_data: dict[str, Any], name: str, parameters: list[str]) -> dict[str, Any]:
    """The type's data with calibration ``name`` asked ``parameters``."""
    out = copy.deepcopy(type_data)
    unruled = [p for p in parameters if p not in out["conditions"].get("parameters", {})]
    if unruled:
        raise InvalidInputError(f"{out['identifier']}'s look-up rules have no parameter {unruled[0]!r}: add it first "
                                "(`calcat-git add-parameter`)")
    out["conditions"].setdefault("calibrations", {})[name] = list(parameters)
    return out


def _block(lines: list[str], path: tuple[str, ...]) -> tuple[int, int, str] | None:
    """(first line after the key, end of its block, the indent of its entries) of nested ``path``."""
    start, end, indent = 0, len(lines), ""
    for key in path:
        at = next((i for i in range(start, end) if re.match(rf"{indent}{re.escape(key)}:\s*(#.*)?$", lines[i])), None)
        if at is None:
            return None
        inner = next((re.match(r"\s*", lines[i]).group(0) for i in range(at + 1, end)  # type: ignore[union-attr]
                      if lines[i].strip() and not lines[i].lstrip().startswith("#")), "")
        if len(inner) <= len(indent):
            return None
        stop = next((i for i in range(at + 1, end) if lines[i].strip() and not lines[i].startswith(inner)), end)
        start, end, indent = at + 1, stop, inner
    return start, end, indent


def entry_added(text: str, path: tuple[str, ...], key: str, value: Any) -> str | None:
    """``text`` with ``key: value`` as the last entry of the nested map at ``path``."""
    lines = text.splitlines(keepends=True)
    found = _block(lines, path)
    if found is None:
        return None
    _, end, indent = found
    lines.insert(end, f"{indent}{key}: {flow(value)}\n")
    return "".join(lines)


def item_appended(text: str, path: tuple[str, ...], key: str, item: str) -> str | None:
    """``text`` with ``item`` added to the flow list ``key: [..]`` of the nested map at ``path``."""
    lines = text.splitlines(keepends=True)
    found = _block(lines, path)
    if found is None:
        return None
    start, end, indent = found
    for i in range(start, end):
        m = re.match(rf"({indent}{re.escape(key)}:\s*)\[(.*)\]\s*$", lines[i].rstrip("\n"))
        if m:
            inner = m.group(2).strip()
            lines[i] = f"{m.group(1)}[{inner + ', ' if inner else ''}{flow(item)}]\n"
            return "".join(lines)
    return entry_added(text, path, key, [item])
