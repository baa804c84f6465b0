"""One-step edits of the registry: a module swap or move, a new PDU.

Each edit is computed as the text a person would write (a change appended to a mapping
file, a new PDU file), the whole catalog is validated with it in memory, and only then is
anything written (and committed, on a new branch with ``branch``). A refused edit leaves
the working tree and the repository as they were.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from calcat_git.errors import CatalogInvalidError, InvalidInputError, NotFoundError, RepositoryError, closest_names
from calcat_git.files.loading import Registry, iter_worktree, load_registry, load_worktree
from calcat_git.files.parse import DATA_ROOTS
from calcat_git.git.repo import GitRepo
from calcat_git.model.records import PDU, Detector
from calcat_git.timeutil import format_timestamp
from calcat_git.validation.run import run_checks

EMPTY = ("-", "null", "none", "empty")  # a PDU value that empties the slot


@dataclass(frozen=True, slots=True, kw_only=True)
class Edit:
    """What an edit wrote: file → the text added (a new file's whole text), and the commit."""

    files: dict[str, str]
    commit: str | None = None
    branch: str | None = None


def _scalar(key: str, value: str) -> str:
    """``key: value`` as YAML writes it (quoted only where needed), on one line."""
    return yaml.safe_dump({key: value}, width=10**6, allow_unicode=True, sort_keys=False).rstrip("\n")


def change_text(valid_from: datetime, reason: str, modules: dict[str, str | None]) -> str:
    """One mapping change, indented as the catalog's mapping files are."""
    lines = [f'  - from: "{format_timestamp(valid_from)}"', "    " + _scalar("reason", reason), "    modules:"]
    lines += [f"      {slot}: {pdu or 'null'}" for slot, pdu in modules.items()]
    return "\n".join(lines) + "\n"


def _slot(det: Detector, name: str) -> str:
    for module in det.modules:
        if name in (module.aggregator, module.virtual_device_name):
            return module.aggregator
    names = [m.aggregator for m in det.modules] + [m.virtual_device_name for m in det.modules if m.virtual_device_name]
    raise NotFoundError(f"{det.identifier} has no module {name!r}{closest_names(name, names)} "
                        f"(modules: {', '.join(m.aggregator for m in det.modules)})")


def _where(reg: Registry, pdu: str, at: datetime) -> tuple[str, str] | None:
    """(detector, slot) where ``pdu`` sits at ``at``, if anywhere."""
    for name, mapping in reg.mappings.items():
        for slot, held in mapping.state_at(at).items():
            if held == pdu:
                return name, slot
    return None


def _appended(root: Path, rel: str, text: str) -> str:
    """The mapping file ``rel`` with ``text`` appended to its ``changes`` list."""
    old = (root / rel).read_text("utf-8")
    top = [line for line in old.splitlines() if line and not line[0].isspace() and not line.startswith("#")]
    if not top or not top[-1].startswith("changes:"):
        raise InvalidInputError(f"{rel}: 'changes:' is not the last key, so a change cannot be appended: edit it by hand")
    return old + ("" if old.endswith("\n") else "\n") + text


def _assigned(reg: Registry, det: Detector, assignments: dict[str, str]) -> dict[str, str | None]:
    """Slot → PDU (None: emptied) of ``assignments``, with slot names and PDUs checked."""
    modules: dict[str, str | None] = {}
    for name, pdu in assignments.items():
        if pdu.lower() not in EMPTY and pdu not in reg.pdus:
            raise NotFoundError(
                f"unknown PDU {pdu!r}{closest_names(pdu, list(reg.pdus))}: an admin adds it first (`calcat-git add-pdu`)"
            )
        modules[_slot(det, name)] = None if pdu.lower() in EMPTY else pdu
    return modules


def swap_files(
    root: Path, detector: str, assignments: dict[str, str], valid_from: datetime, reason: str
) -> dict[str, tuple[str, str]]:
    """The mapping files a swap or move changes: path → (new text, text appended).

    ``assignments`` maps slots (aggregator or ``Q1M2`` name) to PDUs (or ``-`` to empty
    the slot). A PDU that sits elsewhere at ``valid_from`` leaves that slot at the same
    time: in the same change for a slot of this detector, else in a change appended to
    the other detector's mapping."""
    reg = load_worktree(root)
    if detector not in reg.detectors:
        raise NotFoundError(f"unknown detector {detector!r}{closest_names(detector, list(reg.detectors))}")
    modules = _assigned(reg, reg.detectors[detector], assignments)
    mapping = reg.mappings.get(detector)
    if mapping is None:
        raise NotFoundError(f"{detector} has no mapping file yet: write registry/mappings/{detector}.yaml by hand")
    last = max(c.valid_from for c in mapping.changes)
    if valid_from <= last:
        raise InvalidInputError(f"--from {format_timestamp(valid_from)} is not after {detector}'s last change "
                                f"({format_timestamp(last)}): to fix a past change, edit it by hand and add "
                                f"`correction: <why>` to it")
    others: dict[str, dict[str, str | None]] = {}
    for slot, held in list(modules.items()):
        where = _where(reg, held, valid_from) if held else None
        if where is None or where == (detector, slot):
            continue
        if where[0] == detector:
            modules.setdefault(where[1], None)
        else:
            others.setdefault(where[0], {})[where[1]] = None
    out: dict[str, tuple[str, str]] = {}
    text = change_text(valid_from, reason, modules)
    path = reg.files[("mapping", detector)]
    out[path] = (_appended(root, path, text), text)
    for other, emptied in others.items():
        moved = ", ".join(f"{p} to {detector}" for p in modules.values() if p and _where(reg, p, valid_from) in
                          {(other, s) for s in emptied})
        text = change_text(valid_from, f"{moved}: {reason}", emptied)
        path = reg.files[("mapping", other)]
        out[path] = (_appended(root, path, text), text)
    return out


def pdu_file(root: Path, name: str, detector_type: str, uuid: int, description: str | None) -> tuple[str, str]:
    """(path, text) of a new PDU file, from the schema's template for the type."""
    reg = load_worktree(root)
    if detector_type not in reg.detector_types:
        raise NotFoundError(f"unknown detector type {detector_type!r}{closest_names(detector_type, list(reg.detector_types))}")
    if name in reg.pdus:
        raise InvalidInputError(f"PDU {name!r} already exists: {reg.files[('pdu', name)]}")
    taken = [p.physical_name for p in reg.pdus.values() if p.uuid == uuid]
    if taken:
        raise InvalidInputError(f"uuid {uuid} is already {taken[0]}'s: every PDU has its own uuid")
    record = PDU(physical_name=name, detector_type=detector_type, uuid=uuid, status="active", description=description)
    text = yaml.safe_dump(record.to_dict(), sort_keys=False, allow_unicode=True, width=120)
    return f"registry/pdus/{detector_type}/{name}.yaml", text


def apply(root: Path, files: dict[str, str], message: str, branch: str | None = None, commit: bool = False) -> str | None:
    """Validate the catalog with ``files`` (path → whole new text), then write them, and
    commit them (on the new ``branch``, switched to, when given). Returns the commit."""
    edited = {path: text.encode() for path, text in files.items()}
    current = [(path, raw) for path, raw in iter_worktree(root) if path not in edited]
    catalog_files = [(path, raw) for path, raw in edited.items() if path.split("/")[0] in DATA_ROOTS]  # not e.g. sets
    problems = run_checks(load_registry([*current, *catalog_files]))
    if problems:
        raise CatalogInvalidError(f"the edit would leave {len(problems)} problem(s), nothing written: "
                                  + "; ".join(str(p) for p in problems[:5]), problems)
    repo = GitRepo(root) if branch or commit else None
    if repo is not None:
        dirty = repo.uncommitted(files)
        if dirty:
            raise RepositoryError(f"uncommitted changes to the files this edit writes: {dirty[0]} …: "
                                  "commit or restore them first")
        if branch:
            repo.switch_new_branch(branch)
    for path, raw in edited.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.tmp")
        temp.write_bytes(raw)
        os.replace(temp, target)
    if repo is None:
        return None
    return repo.commit_paths(list(files), message, what="git commit of the edit")
