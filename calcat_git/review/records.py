"""What a change does to the registry's records (detector types, calibrations, parameters,
instruments, detectors, PDUs), in plain sentences for reviewers, each saying whether the
admins must approve it (the paths CODEOWNERS gives them)."""

from __future__ import annotations

import json
from typing import Any

from calcat_git.files.codeowners import ADMIN_PATHS
from calcat_git.files.loading import Registry
from calcat_git.review.rules import Change

# record kind → how a reviewer calls one
KINDS = {"detector_type": "detector type", "calibration": "calibration", "parameter": "parameter",
         "instrument": "instrument", "detector": "detector", "pdu": "PDU"}
KEPT = {"calcat", "description", "source"}  # provenance: changes there are not worth a sentence each


def admin_only(path: str) -> bool:
    """Does CODEOWNERS give this file to the admins (not to a detector's experts)?"""
    return any(f"/{path}".startswith(owned) for owned in ADMIN_PATHS)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``field old → new`` for each top-level field that differs (provenance fields named only)."""
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if key in KEPT:
            out.append(f"{key} changed")
        elif key not in old:
            out.append(f"{key} set to {_value(new[key])}")
        elif key not in new:
            out.append(f"{key} removed (was {_value(old[key])})")
        else:
            out.append(f"{key} {_value(old[key])} → {_value(new[key])}")
    return out


def _sentences(kind: str, base: Registry, head: Registry) -> list[dict[str, Any]]:
    label, before, after = KINDS[kind], base.table(kind), head.table(kind)
    out = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            text = f"{label} {name} added"
        elif new is None:
            text = f"{label} {name} removed"
        else:
            text = f"{label} {name}: " + "; ".join(_fields(old.to_dict(), new.to_dict()))
        path = head.files.get((kind, name)) or base.files.get((kind, name)) or f"registry/{kind}s/{name}.yaml"
        out.append({"kind": label, "name": name, "sentence": text, "file": path, "admins": admin_only(path)})
    return out


def record_changes(ch: Change) -> list[dict[str, Any]]:
    """Every added, removed or changed record of the registry, in the kinds' order."""
    return [sentence for kind in KINDS for sentence in _sentences(kind, ch.base, ch.head)]
