"""Flagging CCVs: bad or good quality, deployed or not, with the reason kept beside the
flags in the batch file (``flagged``). Only those keys of a CCV change, so the CCV keeps
its content id, and look-ups at snapshots before the change answer as they did."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calcat_git.edit.draft import Draft
from calcat_git.edit.yamltext import checked, data_of, flow
from calcat_git.errors import InvalidInputError, NotFoundError
from calcat_git.files.strict_yaml import load_yaml
from calcat_git.model.calcat_ids import ccv_int_id
from calcat_git.timeutil import format_timestamp

FLAGS = {"bad-quality": ("good_quality", False), "good-quality": ("good_quality", True),
         "not-deployed": ("deployed", False), "deployed": ("deployed", True)}


@dataclass(frozen=True, slots=True)
class Found:
    path: str  # the batch file
    index: int  # of the CCV in its constants
    ccv_id: str


def find_ccvs(draft: Draft, wanted: list[str]) -> list[Found]:
    """The CCVs named by CALCAT integer id or content id (a unique prefix of 8+ hex digits)."""
    every = [Found(path, i, ccv.identity(batch)) for path, batch in draft.registry().batches.items()
             for i, ccv in enumerate(batch.constants)]
    calcat = {ccv_int_id(f.ccv_id, draft.registry().batches[f.path].constants[f.index].calcat_id): f for f in every}
    out = []
    for name in wanted:
        if name.isdigit():
            hit = calcat.get(int(name))
            if hit is None:
                raise NotFoundError(f"no CCV with integer id {name} in the catalog")
        elif re.fullmatch(r"[0-9a-fA-F]{8,64}", name):
            hits = [f for f in every if f.ccv_id.startswith(name.lower())]
            if len(hits) != 1:
                raise (NotFoundError(f"no CCV with content id {name}") if not hits else
                       InvalidInputError(f"content id {name} names {len(hits)} CCVs: give more of its digits"))
            hit = hits[0]
        else:
            raise InvalidInputError(f"{name!r} is neither a CCV's integer id nor its content id (8 to 64 hex digits)")
        if hit in out:
            raise InvalidInputError(f"CCV {hit.ccv_id[:12]} is named twice")
        out.append(hit)
    return out


def _lines(text: str) -> tuple[list[str], dict[str, int]]:
    return text.splitlines(keepends=True), load_yaml(text.encode()).lines


def _flag_text(text: str, index: int, key: str, value: bool, entry: dict[str, Any]) -> str | None:
    """The batch text with CCV ``index``'s ``key`` set and ``entry`` appended to its
    ``flagged`` list, line by line; None if its layout is not the usual one."""
    base = f"constants.{index}"
    lines, where = _lines(text)
    if f"{base}.dataset" not in where:
        return None
    indent = " " * lines[where[f"{base}.dataset"] - 1].index("dataset")
    if f"{base}.{key}" in where:
        at = where[f"{base}.{key}"] - 1
        lines[at] = re.sub(rf"({key}:\s*)(true|false)", rf"\g<1>{str(value).lower()}", lines[at], count=1)
    else:
        lines.insert(where[f"{base}.dataset"], f"{indent}{key}: {str(value).lower()}\n")
    lines, where = _lines("".join(lines))
    items = [line for path, line in where.items() if re.fullmatch(rf"{base}\.flagged\.\d+", path)]
    if items:
        last = lines[max(items) - 1]
        lines.insert(max(items), f"{last[:len(last) - len(last.lstrip())]}- {flow(entry)}\n")
    elif f"{base}.flagged" in where:
        return None
    else:
        lines[where[f"{base}.{key}"]:where[f"{base}.{key}"]] = [f"{indent}flagged:\n", f"{indent}  - {flow(entry)}\n"]
    return "".join(lines)


def flag(draft: Draft, ccvs: list[str], which: str, reason: str, at: datetime) -> list[tuple[str, str]]:
    """Set one flag (``which``: bad-quality, good-quality, not-deployed or deployed) of the
    CCVs, keeping ``reason``; returns (batch file, content id) of each."""
    if which not in FLAGS:
        raise InvalidInputError(f"unknown flag {which!r}: one of {', '.join(FLAGS)}")
    if not reason.strip():
        raise InvalidInputError("--reason says why, in a few words (kept in the batch file)")
    key, value = FLAGS[which]
    entry = {"at": format_timestamp(at), key: value, "reason": reason}
    done = []
    for found in find_ccvs(draft, ccvs):
        ccv = draft.registry().batches[found.path].constants[found.index]
        if getattr(ccv, key) == value:
            raise InvalidInputError(f"CCV {found.ccv_id[:12]} ({ccv.calibration}, {ccv.pdu}) is {which} already")
        text = (draft.read(found.path) or b"").decode("utf-8")
        wanted = copy.deepcopy(data_of(text))
        item = wanted["constants"][found.index]
        item[key] = value
        item["flagged"] = [*item.get("flagged", []), entry]
        draft.put(found.path, checked(_flag_text(text, found.index, key, value, entry), wanted).encode())
        done.append((found.path, found.ccv_id))
    return done
