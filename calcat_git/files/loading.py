"""Load catalog files (from a working tree or any ``(path, bytes)`` source) into records.

Loading never raises on bad files: each YAML or schema problem is recorded with file,
line and field, and the file's record is left out so later checks see only sound data.
"""

from __future__ import annotations

import os
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.parse import DATA_ROOTS, REGISTRY_KINDS, ParsedFile, ignored, not_regular, parse_file
from calcat_git.files.strict_yaml import LoadedYaml
from calcat_git.model.batch import ConstantBatch
from calcat_git.model.mapping import Mapping
from calcat_git.model.problems import Problem
from calcat_git.model.records import PDU, Calibration, Detector, DetectorType, Instrument, Parameter


class Unread:
    """A file that is listed (its name takes part in the layout checks) but not read."""


UNREAD = Unread()
FileSource = Iterable[tuple[str, bytes | Problem | Unread | None]]


@dataclass
class Registry:
    """Every record of one catalog state, with where each came from."""

    detector_types: dict[str, DetectorType] = field(default_factory=dict)
    calibrations: dict[str, Calibration] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)
    pdus: dict[str, PDU] = field(default_factory=dict)
    detectors: dict[str, Detector] = field(default_factory=dict)
    mappings: dict[str, Mapping] = field(default_factory=dict)
    batches: dict[str, ConstantBatch] = field(default_factory=dict)  # by file path
    files: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, key) -> path
    sources: dict[str, LoadedYaml] = field(default_factory=dict)  # path -> lines
    paths: list[str] = field(default_factory=list)  # every file seen, data or not
    load_problems: list[Problem] = field(default_factory=list)
    broken: set[tuple[str, str]] = field(default_factory=set)  # (kind, file stem) that failed to load
    unread: list[str] = field(default_factory=list)  # files listed but not read (see ``load_worktree``)

    def table(self, kind: str) -> dict[str, Any]:
        table: dict[str, Any] = getattr(self, {"constants": "batches"}.get(kind, kind + "s"))
        return table

    def problem(self, path: str, field: str, message: str, check: str, severity: str = "error") -> Problem:
        """A problem at ``field`` of the file at ``path``, with its line looked up."""
        loaded = self.sources.get(path)
        line = loaded.line_of(field) if loaded else 1
        return Problem(file=path, line=line, field=field, message=message, check=check, severity=severity)

    def where(self, kind: str, key: str) -> str:
        return self.files[(kind, key)]

    def parameter_by_spelling(self) -> dict[str, Parameter]:
        return {s: p for p in self.parameters.values() for s in p.spellings}


def _add(reg: Registry, parsed: ParsedFile) -> None:
    path, kind = parsed.path, parsed.kind
    stem = (kind or "", path.rsplit("/", 1)[-1].removesuffix(".yaml"))
    if parsed.loaded is not None:
        reg.sources[path] = parsed.loaded
    if not parsed.ok:
        reg.load_problems.extend(parsed.problems)
        if kind is not None:
            reg.broken.add(stem)  # references to it are not reported twice
        return
    assert kind is not None and parsed.key is not None
    table = reg.table(kind)
    if parsed.key in table:
        other = reg.where(kind, parsed.key)
        key_field = "detector" if kind == "constants" else REGISTRY_KINDS[path.split("/")[1]][2]
        reg.load_problems.append(reg.problem(
            path, key_field, f"{kind} {parsed.key!r} is already defined in {other}", "duplicates"))
        reg.broken.add(stem)
        return
    table[parsed.key] = parsed.record
    reg.files[(kind, parsed.key)] = path


class ParseCache:
    """Parsed files by path and content, for loading many snapshots that share most of
    their files (a site's recent changes summarise one commit after another). Parsed
    files are immutable, so registries may share them. ``trim()`` forgets what the loads
    since the previous trim did not use, which bounds the memory to about two snapshots."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, bytes], ParsedFile] = {}
        self._used: set[tuple[str, bytes]] = set()

    def parse(self, path: str, raw: bytes) -> ParsedFile:
        key = (path, raw)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = self._parsed[key] = parse_file(path, raw)
        self._used.add(key)
        return parsed

    def trim(self) -> None:
        self._parsed = {key: parsed for key, parsed in self._parsed.items() if key in self._used}
        self._used = set()


def load_registry(source: FileSource, cache: ParseCache | None = None) -> Registry:
    """Load every file of ``source``: repo-relative path and content, a problem, or None
    for an entry that is not a regular file (a symbolic link or a submodule in git)."""
    parse = cache.parse if cache is not None else parse_file
    reg = Registry()
    for path, raw in source:
        reg.paths.append(path)
        if raw is UNREAD:
            reg.unread.append(path)
            continue
        if raw is None:
            _add(reg, not_regular(path))
        elif isinstance(raw, Problem):
            reg.load_problems.append(raw)
        elif isinstance(raw, bytes) and not ignored(path):
            _add(reg, parse(path, raw))
    return reg


def iter_worktree(root: Path, batches: Container[str] | None = None) -> Iterator[tuple[str, bytes | Problem | Unread]]:
    """Catalog files of a working tree, folders and files in name order; symbolic links
    are refused, never followed. With ``batches``, a constants file not in it is listed
    but not read."""
    for top in DATA_ROOTS:
        base = root / top
        if base.is_symlink():
            yield top, _symlink_problem(top)
            continue
        yield from _walk(str(base), top, batches if top == "constants_index" else None)


def _walk(folder: str, rel_dir: str, batches: Container[str] | None) -> Iterator[tuple[str, bytes | Problem | Unread]]:
    """One folder (as ``os.walk`` sees it, top-down): its linked folders (refused), its
    files, then its sub-folders. Entry types come from the folder listing (no stat each)."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return  # not there (or unreadable): nothing listed, as os.walk
    folders = [e for e in entries if _is_dir(e)]
    for entry in folders:
        if entry.is_symlink():
            yield f"{rel_dir}/{entry.name}", _symlink_problem(f"{rel_dir}/{entry.name}")
    for entry in entries:
        if _is_dir(entry):
            continue
        rel = f"{rel_dir}/{entry.name}"
        if batches is not None and rel not in batches and not entry.is_symlink():
            yield rel, UNREAD
        else:
            yield rel, read_worktree_file(Path(entry.path), rel)
    for entry in folders:
        if not entry.is_symlink():
            yield from _walk(entry.path, f"{rel_dir}/{entry.name}", batches)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a link, as os.walk does: a linked folder is refused above
    except OSError:
        return False


def read_worktree_file(full: Path, rel: str) -> bytes | Problem:
    """A file's first ``MAX_BYTES + 1`` bytes (enough to say it is too large); a symbolic
    link is refused, never followed."""
    if full.is_symlink():
        return _symlink_problem(rel)
    with open(full, "rb") as handle:
        return handle.read(MAX_BYTES + 1)


def _symlink_problem(path: str) -> Problem:
    return Problem(
        file=path, line=1, field="", check="layout",
        message="symbolic link: catalog files must be regular files inside the repository",
    )


def load_worktree(root: str | os.PathLike[str], batches: Container[str] | None = None) -> Registry:
    """Every file of the working tree at ``root``; with ``batches``, of the constants files
    only those (every registry file is read: the checks of a batch need them)."""
    return load_registry(iter_worktree(Path(root), batches))
