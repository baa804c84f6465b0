"""Injection: constant files (HDF5) → one new constants batch file + files in the store.

Everything is validated against the registry before anything is written, and the batch
file is run through exactly the checks of ``validate`` (in the catalog it joins) before a
store file is copied or anything is committed. Store files
are written under their content-derived path (temp file + rename); the batch file is
written last, atomically. If any step fails, the files this run added are removed
again: a failed injection leaves no partial batch and no orphaned store file.
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from calcat_git.errors import CalcatGitError, CatalogInvalidError, InvalidInputError, NotFoundError, RepositoryError
from calcat_git.files.limits import MAX_BYTES
from calcat_git.files.loading import Registry, Unread, iter_worktree, load_registry
from calcat_git.files.parse import DATA_ROOTS
from calcat_git.git.repo import GitRepo
from calcat_git.locks import exclusive
from calcat_git.model.problems import Problem
from calcat_git.store.hdf5 import FileCCV, read_constant_file
from calcat_git.store.paths import content_path, file_sha256, store_file, store_root
from calcat_git.timeutil import format_timestamp, now_utc
from calcat_git.validation.run import run_checks

_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


@dataclass
class InjectResult:
    batch_path: str
    detector: str
    ccvs: int
    store_files: list[str] = field(default_factory=list)  # newly written
    commit: str | None = None


def _detector_of(reg: Registry, ccv: FileCCV, where: str) -> str:
    """The detector whose slot holds the CCV's PDU at ``begin_at``; checks the PDU too."""
    pdu = reg.pdus.get(ccv.pdu)
    if pdu is None:
        raise InvalidInputError(f"{where}: unknown PDU {ccv.pdu!r}: ask an admin to add it to registry/pdus/ first")
    if pdu.uuid != ccv.uuid or pdu.detector_type != ccv.detector_type:
        raise InvalidInputError(f"{where}: file says uuid {ccv.uuid} / {ccv.detector_type}, registry says "
                                f"{pdu.uuid} / {pdu.detector_type} for {ccv.pdu}")
    for name, mapping in reg.mappings.items():
        if ccv.pdu in mapping.state_at(ccv.begin_at).values():
            return name
    raise InvalidInputError(f"{where}: PDU {ccv.pdu} is in no detector slot at begin_at "
                            f"{format_timestamp(ccv.begin_at)}: fix the mapping first")


def _check_type(reg: Registry, detector: str, ccv: FileCCV, where: str) -> None:
    dtype = reg.detector_types[reg.detectors[detector].type_name()]
    if ccv.calibration not in dtype.calibrations:
        raise InvalidInputError(f"{where}: calibration {ccv.calibration!r} is not one of {dtype.identifier}'s "
                                f"({', '.join(dtype.calibrations)})")
    for name in ccv.conditions:
        if name not in dtype.parameters:
            raise InvalidInputError(f"{where}: parameter {name!r} is not one of {dtype.identifier}'s "
                                    f"({', '.join(dtype.parameters)})")


def check_branch_name(name: str) -> None:
    """Refuse a branch name that ``git check-ref-format --branch`` would refuse (or that
    starts with ``-`` and so reads as an option)."""
    parts = name.split("/")
    bad = (not name or name.startswith("-") or name == "@" or name == "HEAD" or name.endswith(".")
           or _REF_FORBIDDEN.search(name) is not None
           or any(not part or part.startswith(".") or part.endswith(".lock") for part in parts))
    if bad:
        raise InvalidInputError(f"--branch {name!r} is not a valid branch name (see `git check-ref-format`: no "
                                "leading '-', no spaces, '..', '~^:?*[\\', '@{' or control characters, no "
                                "component starting with '.' or ending in '.lock')")


def _problem_key(problem: Problem) -> tuple[str, str, str, str]:
    return (problem.file, problem.field, problem.message, problem.check)


def validate_batch(reg: Registry, source: list[tuple[str, bytes | Problem | Unread | None]], batch_path: str,
                   text: str) -> None:
    """Refuse the batch if adding it to the catalog ``source`` (loaded: ``reg``) makes ``validate``
    report any error it does not report already (a catalog with old problems can take a good batch)."""
    before = {_problem_key(p) for p in run_checks(reg) if p.severity == "error"}
    after = run_checks(load_registry([*source, (batch_path, text.encode("utf-8"))]))
    new = [p for p in after if p.severity == "error" and _problem_key(p) not in before]
    if new:
        more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
        raise CatalogInvalidError(f"the batch would not validate, nothing was written: {new[0]}{more}", new)


def _catalog_files(root: Path, branch: str | None) -> list[tuple[str, bytes | Problem | Unread | None]]:
    """The catalog files the batch joins: the working tree's, or with ``branch`` that branch's
    (HEAD's when it does not exist yet)."""
    if branch is None:
        return list(iter_worktree(root))
    repo = GitRepo(root)
    try:
        start = repo.rev_parse(f"refs/heads/{branch}")
    except RepositoryError:
        start = repo.rev_parse("HEAD")
    return list(repo.tree_files(start, DATA_ROOTS, MAX_BYTES))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "constants"


def build_batch(reg: Registry, items: list[tuple[FileCCV, str]], report_path: str, report_id: int | None,
                injected_at: datetime) -> tuple[str, dict[str, Any]]:
    """The batch (as a dict) for CCVs with their files' sha256, and its detector."""
    detectors = {}
    for ccv, _ in items:
        where = f"{ccv.file}: {ccv.dataset}" if ccv.file else ccv.dataset
        detectors[_detector_of(reg, ccv, where)] = where
    if len(detectors) != 1:
        raise InvalidInputError("constants of several detectors in one injection (" + ", ".join(sorted(detectors))
                                + "): inject each detector's files separately")
    detector = next(iter(detectors))
    for ccv, _ in items:
        _check_type(reg, detector, ccv, f"{ccv.file}: {ccv.dataset}" if ccv.file else ccv.dataset)
    shared = dict(items[0][0].conditions)
    for ccv, _ in items[1:]:
        shared = {k: v for k, v in shared.items() if k in ccv.conditions and ccv.conditions[k] == v}
    constants = []
    for ccv, sha in items:
        entry: dict[str, Any] = {"calibration": ccv.calibration, "pdu": ccv.pdu,
                                 "begin_at": format_timestamp(ccv.begin_at), "file": content_path(sha),
                                 "dataset": ccv.dataset, "sha256": sha, "good_quality": True, "deployed": True}
        own = {k: v for k, v in ccv.conditions.items() if k not in shared}
        if own:
            entry["conditions"] = own
        constants.append(entry)
    report: dict[str, Any] = {"path": report_path} if report_id is None else {"id": report_id, "path": report_path}
    return detector, {"detector": detector, "report": report, "injected_at": format_timestamp(injected_at),
                      "conditions": shared, "constants": constants}


def _lock(root: Path) -> AbstractContextManager[None]:
    lock_dir = root / ".git" / "calcat-git" if (root / ".git").is_dir() else root
    return exclusive(lock_dir / "inject.lock", "another injection is running in this catalog; waiting for it …")


def _copy_into_store(store: Path, source: Path, sha: str) -> bool:
    """Copy ``source`` to its content path; False if an identical file is already there."""
    target = store_file(store, content_path(sha))
    if target.exists():
        if file_sha256(target) != sha:
            raise InvalidInputError(f"{target} exists with other content: the store is damaged, run verify-store")
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(source, temp)
        if file_sha256(temp) != sha:
            raise InvalidInputError(f"{source} changed while it was copied; try again")
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return True


def _batch_path(root: Path, detector: str, first: datetime, slug: str, branch: str | None = None) -> str:
    """A batch file name free in the working tree and, with ``branch``, on that branch."""
    repo = GitRepo(root) if branch else None

    def taken(path: str) -> bool:
        return (root / path).exists() or (repo is not None and branch is not None and repo.has_file(branch, path))

    base = f"constants_index/{detector}/{first:%Y}/{first:%Y%m%dT%H%M%SZ}-{slug}"
    path, n = f"{base}.yaml", 2
    while taken(path):
        path, n = f"{base}-{n}.yaml", n + 1
    return path


def inject(root: str | Path, files: list[str | Path], *, report_path: str, report_id: int | None = None,
           store: str | Path | None = None, commit: bool = False, branch: str | None = None,
           slug: str | None = None) -> InjectResult:
    """Inject constant ``files`` into the catalog at ``root``.

    The batch file is written into the working tree (and committed with ``commit``),
    or, with ``branch``, committed onto that branch only (working tree untouched)."""
    root = Path(root)
    if branch is not None:
        check_branch_name(branch)
    store_dir = store_root(store, root)
    if not (root / "registry").is_dir():
        raise NotFoundError(
            f"{root} has no registry/ folder: pass the root of a calcat-git catalog "
            "(the folder holding registry/ and constants_index/)"
        )
    hashed = [(Path(path), file_sha256(Path(path))) for path in files]  # each file is read for its hash once
    items = [(ccv, sha) for path, sha in hashed for ccv in read_constant_file(path)]
    first = min(ccv.begin_at for ccv, _ in items)
    with _lock(root):  # the catalog is read under the lock: a concurrent injection's batch is seen
        catalog_files = _catalog_files(root, branch)
        reg = load_registry(catalog_files)
        detector, batch = build_batch(reg, items, report_path, report_id, now_utc().replace(microsecond=0))
        batch_path = _batch_path(root, detector, first, _slug(slug or Path(report_path).stem), branch)
        text = yaml.safe_dump(batch, sort_keys=False, allow_unicode=True, width=120)
        validate_batch(reg, catalog_files, batch_path, text)
        message = f"inject {len(items)} constant(s) of {detector} ({report_path})"
        written, made = _write(root, store_dir, {sha: path for path, sha in hashed}, batch_path, text, message,
                               branch or None, commit)
    return InjectResult(
        batch_path=batch_path,
        detector=detector,
        ccvs=len(items),
        store_files=[p.relative_to(store_dir).as_posix() for p in written],
        commit=made,
    )


def _write(root: Path, store_dir: Path, sources: dict[str, Path], batch_path: str, text: str, message: str,
           branch: str | None, commit: bool) -> tuple[list[Path], str | None]:
    """Copy the new store files, then write (or commit onto ``branch``) the batch: all of
    it, or, on any failure, nothing (what was written is removed again)."""
    target, written = root / batch_path, []
    try:
        for sha, source in sources.items():
            if _copy_into_store(store_dir, source, sha):
                written.append(store_file(store_dir, content_path(sha)))
        if branch:
            return written, GitRepo(root).commit_file(branch, batch_path, text.encode(), message)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.tmp")
        temp.write_text(text, "utf-8")
        os.replace(temp, target)
        return written, _commit(root, batch_path, message) if commit else None
    except (CalcatGitError, OSError):
        if not branch:
            target.unlink(missing_ok=True)
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _commit(root: Path, batch_path: str, message: str) -> str:
    return GitRepo(root).commit_paths([batch_path], message, what="git commit of the batch")
