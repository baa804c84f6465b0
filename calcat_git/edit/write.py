"""Writing a prepared change: all of it, or nothing.

The store files come first (content-addressed: a copy that is there already is left as
it is), then the catalog files: written into the working tree, committed on the
checked-out branch with ``git commit`` (the repository's hooks run, as with plain git),
or committed onto another branch apart from the user's index and working tree, the
branch moved only if it still points where the change started. If any step fails —
a check, a hook, git's identity, gpg, a signal (SIGINT, SIGTERM, SIGHUP wait until the
step is done, then undo it) — what was done is undone: branch, index, working files
and store are as they were, and one line says why. Only SIGKILL or a crash can leave
a store file without a batch naming it (harmless: ``verify-store`` ignores it) or the
change written but not committed.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from calcat_git.edit.draft import Draft, Verdict
from calcat_git.errors import CalcatGitError, CatalogInvalidError, InvalidInputError, RepositoryError, StoreDamagedError
from calcat_git.files.parse import DATA_ROOTS
from calcat_git.git import commits
from calcat_git.git.repo import GitRepo
from calcat_git.store.paths import content_path, file_sha256, store_file

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(RepositoryError):
    """A signal arrived while a change was written; it was undone."""


@dataclass
class Written:
    """What a change did: its commit (None when only written), the catalog files, the store
    files it added (relative to the store root), and the catalog's old problems."""

    commit: str | None = None
    files: list[str] = field(default_factory=list)
    store_files: list[str] = field(default_factory=list)
    old_problems: tuple[Any, ...] = ()
    new_problems: tuple[Any, ...] = ()  # the change's own (warnings: an error refuses it)


def refusal(verdict: Verdict, hint: str = "") -> CatalogInvalidError:
    new = verdict.blocking
    more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
    return CatalogInvalidError(f"the change would not validate, nothing was written: {new[0]}{more}{hint}", new)


@contextmanager
def deferred_signals() -> Iterator[list[int]]:
    """SIGINT, SIGTERM and SIGHUP are noted, not acted on, until the block ends (in the
    main thread; elsewhere signals do not reach Python code anyway)."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def note(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = {s: signal.signal(s, note) for s in SIGNALS}
    try:
        yield caught
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class Undo:
    """Steps that undo what was done, run last-first; a step that fails is named."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[], None]]] = []

    def add(self, what: str, step: Callable[[], None]) -> None:
        self.steps.append((what, step))

    def run(self) -> str:
        failed = []
        for what, step in reversed(self.steps):
            try:
                step()
            except (OSError, CalcatGitError) as exc:
                failed.append(f"{what}: {exc}")
        return f"; could not undo: {'; '.join(failed)}" if failed else ""


def write_change(draft: Draft, message: str, store_root: Callable[[], Path],
                 identity: tuple[str, str] | None = None) -> Written:
    """Validate ``draft`` and write it to its target (the caller holds the write lock);
    ``identity``: who the commit names (name, e-mail) when it is made onto a branch."""
    verdict = draft.problems()
    if verdict.blocking:
        raise refusal(verdict)
    target, repo = draft.target, draft.repo
    if target.mode != "worktree" and (identity is None or target.mode != "branch"):
        assert repo is not None
        commits.check_identity(repo)
    _check_unchanged(draft)
    done, undo = Written(files=list(draft.files), old_problems=verdict.old, new_problems=verdict.new), Undo()
    with deferred_signals() as caught:
        try:
            if draft.store:
                done.store_files = _copy_store(draft, store_root(), undo)
            if target.mode == "branch":
                assert repo is not None and target.branch is not None
                done.commit = _commit_onto(repo, draft, message, undo, identity)
            else:
                _write_files(draft, undo)
                if target.mode == "checked-out":
                    assert repo is not None
                    done.commit = _commit_here(repo, draft, message, undo)
            if caught:
                raise Interrupted("")
        except BaseException as exc:
            left = undo.run()
            if caught or isinstance(exc, KeyboardInterrupt):
                name = signal.Signals(caught[0]).name if caught else "SIGINT"
                raise Interrupted(f"interrupted by {name}: the change was undone, nothing was written{left}") from None
            said = ("the change was undone, " if undo.steps else "") + "nothing was written"
            if isinstance(exc, OSError):
                raise RepositoryError(f"writing the change failed: {exc}; {said}{left}") from None
            if isinstance(exc, CalcatGitError) and "nothing was written" not in str(exc):
                exc.args = (f"{exc}; {said}{left}",)
            raise
    return done


def uncommitted_hint(draft: Draft) -> str:
    """For a refused commit: the catalog files of the working tree it does not hold."""
    if draft.target.mode == "worktree" or draft.repo is None or draft.target.parent is None:
        return ""
    changed = sorted(draft.repo.changed_in_worktree("HEAD", DATA_ROOTS))
    if not changed:
        return ""
    more = " …" if len(changed) > 3 else ""
    return (f"; the commit holds {draft.target.parent[:12]}'s files and this change only, not the uncommitted "
            f"{', '.join(changed[:3])}{more}: commit those first")


def _check_unchanged(draft: Draft) -> None:
    """The files the change writes must hold what it started from: on disk for a change
    written into the working tree, and (for a commit on the checked-out branch) with
    nothing else staged or changed for them."""
    branch = draft.target.branch
    if draft.repo is not None and branch is not None:
        now = draft.repo.head_ref(branch)
        if now is not None and now != draft.target.parent:
            raise RepositoryError(f"branch {branch} moved while the change was prepared: run it again; nothing was "
                                  "written")
    if draft.target.mode == "branch":
        return
    if draft.target.mode == "checked-out" and draft.repo is not None:
        dirty = draft.repo.uncommitted(draft.files)
        if dirty:
            raise RepositoryError(f"uncommitted changes to the files this change writes ({dirty[0].strip()} …): commit "
                                  "or restore them first; nothing was written")
    for path in draft.files:
        full = draft.root / path
        on_disk = full.read_bytes() if full.is_file() and not full.is_symlink() else None
        if on_disk != draft.read_base(path):
            raise RepositoryError(f"{path} changed on disk while the change was prepared: run it again; nothing "
                                  "was written")


def _confined(root: Path, path: str) -> Path:
    """``root/path``, refused if a symbolic link would lead the write out of the catalog."""
    target = root / path
    top = (root / path.split("/")[0] if "/" in path else root).resolve(strict=False)  # a root file: the root
    if target.is_symlink() or not target.parent.resolve(strict=False).is_relative_to(top):
        raise InvalidInputError(f"a change would write {path!r} through a symbolic link out of the catalog; nothing "
                                "was written")
    return target


def _write_files(draft: Draft, undo: Undo) -> None:
    for path, content in draft.files.items():
        target = _confined(draft.root, path)
        old = target.read_bytes() if target.is_file() else None
        undo.add(f"restore {path}", partial(_restore, target, old, _missing_folders(target)))
        if content is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.calcat-git-tmp")
        temp.write_bytes(content)
        os.replace(temp, target)


def _missing_folders(target: Path) -> list[Path]:
    """The folders above ``target`` that do not exist yet, innermost first."""
    return [p for p in target.parents if not p.exists()]


def _remove(target: Path, made: list[Path]) -> None:
    """Remove ``target`` and the folders made for it, if nothing else came into them."""
    target.unlink(missing_ok=True)
    for folder in made:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _restore(target: Path, old: bytes | None, made: list[Path]) -> None:
    if old is None:
        _remove(target, made)
    else:
        temp = target.with_name(f".{target.name}.calcat-git-tmp")
        temp.write_bytes(old)
        os.replace(temp, target)


def _commit_here(repo: GitRepo, draft: Draft, message: str, undo: Undo) -> str:
    branch, parent = draft.target.branch, draft.target.parent
    assert branch is not None
    index = commits.index_file(repo)
    saved = index.read_bytes() if index.exists() else None
    undo.add("restore git's index", lambda: _put_back(index, saved))
    undo.add(f"move {branch} back", lambda: _branch_back(repo, branch, parent))
    return commits.commit_checked_out(repo, list(draft.files), message)


def _put_back(index: Path, saved: bytes | None) -> None:
    if saved is None:
        index.unlink(missing_ok=True)
        return
    temp = index.with_name("index.calcat-git-tmp")
    temp.write_bytes(saved)
    os.replace(temp, index)


def _branch_back(repo: GitRepo, branch: str, parent: str | None) -> None:
    now = repo.head_ref(branch)
    if now == parent:
        return
    if now is None:
        return
    if parent is None:
        commits.delete_branch(repo, branch, now)
    else:
        commits.move_branch(repo, branch, parent, now)


def _commit_onto(repo: GitRepo, draft: Draft, message: str, undo: Undo, identity: tuple[str, str] | None) -> str:
    branch, parent = draft.target.branch, draft.target.parent
    assert branch is not None
    existed = repo.head_ref(branch) is not None
    sha = commits.commit_tree(repo, parent, draft.files, message, identity)
    commits.move_branch(repo, branch, sha, parent if existed else None)
    undo.add(f"move {branch} back", partial(_branch_back, repo, branch, parent if existed else None))
    return sha


def in_store(store: Path, sha: str) -> bool:
    """Is the file with this sha256 in the store already? (One with other content at its
    path is a damaged store.)"""
    target = store_file(store, content_path(sha))
    if not target.exists():
        return False
    if file_sha256(target) != sha:
        raise StoreDamagedError(f"{target} exists with other content: the store is damaged, run verify-store", target)
    return True


def _copy_store(draft: Draft, store: Path, undo: Undo) -> list[str]:
    """Copy each new file to its content path (temp file + rename); one already there is kept."""
    written = []
    for sha, source in draft.store.items():
        relative = content_path(sha)
        target = store_file(store, relative)
        if in_store(store, sha):
            continue
        undo.add(f"remove {target}", partial(_remove, target, _missing_folders(target)))
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        try:
            shutil.copyfile(source, temp)
            if file_sha256(temp) != sha:
                raise InvalidInputError(f"{source} changed while it was copied; try again")
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        written.append(relative)
    return written
