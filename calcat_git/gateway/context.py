"""What every write of the gateway shares: the repository, the served branch, the store,
the records between steps, and the errors a write answers with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calcat_git.edit.change import Change
from calcat_git.edit.draft import TreeFiles
from calcat_git.errors import CalcatGitError, InvalidInputError
from calcat_git.files.loading import ParseCache
from calcat_git.gateway.auth import Writer
from calcat_git.gateway.records import Records
from calcat_git.git.repo import GitRepo
from calcat_git.server.request import load_json


class Refused(InvalidInputError):
    """A well-formed write the catalog cannot take (answered 422, CALCAT's "unprocessable")."""


class Unauthorized(CalcatGitError):
    """A write without a known writer (answered 401)."""


@dataclass
class Gateway:
    """The write side of one server process."""

    repo_path: str
    branch: str  # the served branch, where approved writes are merged
    store: Path | None  # the constant store root (resolved)
    store_prefix: str  # the store root + "/", as CALCAT's absolute paths begin
    grace_hours: float = 24.0
    repo: GitRepo = field(init=False)
    records: Records = field(init=False)
    cache: ParseCache = field(init=False)  # catalog files parsed once for all the writes (under the lock)
    trees: TreeFiles = field(init=False)  # the catalog files of the commits last read or made (under the lock)

    def __post_init__(self) -> None:
        self.repo = GitRepo(self.repo_path)
        self.records = Records(self.repo)
        self.cache = ParseCache()
        self.trees = TreeFiles()

    def change(self, branch: str, writer: Writer) -> Change:
        """A change onto ``branch`` for ``writer`` (the caller holds the write lock)."""
        return Change(self.repo_path, branch=branch, identity=writer.identity(), lock_held=True, cache=self.cache,
                      trees=self.trees)


def envelope(body: bytes, name: str, fields: frozenset[str]) -> dict[str, Any]:
    """``{name: {...}}`` of a write's JSON body, every field known (others refused, naming them)."""
    if not body.strip():
        raise InvalidInputError(f'send the record as a JSON body: {{"{name}": {{...}}}}')
    data = load_json(body, "the body")
    if not isinstance(data, dict) or set(data) != {name} or not isinstance(data[name], dict):
        raise InvalidInputError(f'the JSON body must be {{"{name}": {{...}}}} (fields: {", ".join(sorted(fields))})')
    record: dict[str, Any] = data[name]
    unknown = sorted(set(record) - fields)
    if unknown:
        raise InvalidInputError(f"unknown field(s) of {name}: {', '.join(unknown)} (known: {', '.join(sorted(fields))})")
    return record


def id_field(record: dict[str, Any], name: str, required: bool = True) -> int | None:
    """An id field as the client sends it: an integer or its text."""
    raw = record.get(name)
    if raw in (None, "") and not required:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    raise InvalidInputError(f"{name} must be an integer id, not {raw!r}")


def flag(record: dict[str, Any], name: str, default: bool) -> bool:
    """A flag as the client sends it: true/false or their text."""
    raw = record.get(name, default)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise InvalidInputError(f"{name} must be true or false, not {raw!r}")


def text(record: dict[str, Any], name: str, required: bool = False) -> str:
    raw = record.get(name)
    if raw is None and not required:
        return ""
    if not isinstance(raw, str) or (required and not raw.strip()):
        raise InvalidInputError(f"{name} must be {'non-empty ' if required else ''}text, not {raw!r}")
    return raw
