"""Published sets: annotated git tags naming a commit ("this reprocessing used exactly
this set"), and which of them were later marked invalid.

A tag never changes, so invalidity is catalog data: ``published-sets.yaml`` at the root,
committed like any change and read at the newest commit (a look-up pinned to an old set
learns that it was invalidated since)::

    invalid:
      v2026.12:
        reason: "the AGIPD darks of run 12 were taken with the wrong gain"
        invalidated_at: "2026-12-07T10:00:00Z"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calcat_git.errors import CatalogInvalidError, InvalidInputError
from calcat_git.files.parse import SETS_FILE as SETS_FILE  # (re-exported)
from calcat_git.files.strict_yaml import YamlError, load_yaml
from calcat_git.git.repo import GitRepo
from calcat_git.timeutil import format_timestamp, parse_timestamp

HEADER = ("# Published sets (annotated git tags) marked invalid; written by `calcat-git tag NAME --invalidate`.\n"
          "# A look-up pinned to one still answers, and warns.\n")


@dataclass(frozen=True, slots=True)
class Invalidation:
    """A published set marked invalid: why, and since when."""

    name: str
    reason: str
    invalidated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "invalidated_at": format_timestamp(self.invalidated_at)}


def _refuse(message: str, line: int = 1) -> CatalogInvalidError:
    return CatalogInvalidError(f"{SETS_FILE}:{line}: {message}: fix the file (see `calcat-git tag --help`)")


def invalid_sets(raw: bytes | None) -> dict[str, Invalidation]:
    """The invalidated sets ``published-sets.yaml`` lists (none if there is no such file);
    anything but the documented keys and types is refused, naming the line."""
    if raw is None:
        return {}
    try:
        loaded = load_yaml(raw)
    except YamlError as exc:
        raise _refuse(exc.message, exc.line) from None
    data = loaded.data
    if not isinstance(data, dict) or set(data) - {"invalid"}:
        raise _refuse("expected a map with the one key 'invalid'")
    entries = data.get("invalid") or {}
    if not isinstance(entries, dict):
        raise _refuse("'invalid' must map set names to {reason, invalidated_at}", loaded.line_of("invalid"))
    out = {}
    for name, entry in entries.items():
        where = loaded.line_of(f"invalid.{name}")
        if not isinstance(entry, dict) or set(entry) != {"reason", "invalidated_at"} or not all(
                isinstance(v, str) and v for v in entry.values()):
            raise _refuse(f"set {name!r} must have exactly a 'reason' and an 'invalidated_at' (texts)", where)
        try:
            when = parse_timestamp(entry["invalidated_at"], f"invalid.{name}.invalidated_at")
        except ValueError as exc:
            raise _refuse(str(exc), where) from None
        out[name] = Invalidation(name, entry["reason"], when)
    return out


def with_invalidation(raw: bytes | None, added: Invalidation) -> bytes:
    """The content of ``published-sets.yaml`` with ``added`` (an entry is never changed)."""
    entries = invalid_sets(raw)
    if added.name in entries:
        raise InvalidInputError(f"published set {added.name!r} is marked invalid already: "
                                f"{entries[added.name].reason}")
    entries[added.name] = added
    lines = [HEADER, "invalid:\n"]
    for name in sorted(entries):
        entry = entries[name].to_dict()
        lines += [f"  {json.dumps(name)}:\n", f"    reason: {json.dumps(entry['reason'])}\n",
                  f"    invalidated_at: {json.dumps(entry['invalidated_at'])}\n"]
    return "".join(lines).encode()


def warning(invalid: Invalidation) -> str:
    """What an answer pinned to an invalid set says."""
    return (f"published set {invalid.name} was marked invalid on {format_timestamp(invalid.invalidated_at)}: "
            f"{invalid.reason}")


def published_sets(repo: GitRepo, invalid: dict[str, Invalidation]) -> list[dict[str, Any]]:
    """Every tag of ``repo`` with its commit, the commit's time, when it was tagged, its
    message and its state: ``published`` (annotated), ``invalid`` (in ``invalid``), or
    ``lightweight`` (a plain tag, not made by ``calcat-git tag``)."""
    out = []
    for tag in repo.tags():
        state = "invalid" if tag["name"] in invalid else "published" if tag["tagged_at"] else "lightweight"
        entry: dict[str, Any] = {**tag, "committed_at": format_timestamp(repo.commit_info(tag["commit"]).committed_at),
                                 "state": state}
        if tag["name"] in invalid:
            entry["invalid"] = invalid[tag["name"]].to_dict()
        out.append(entry)
    return out
