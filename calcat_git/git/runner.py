"""Running git: the one module that imports GitPython.

:class:`GitRunner` runs one git command through GitPython's command wrapper and turns a
failure into a RepositoryError (every git call of the package goes through it; commands
that only read run no hooks, filters or fsmonitor); :func:`read_blob` and
:class:`BlobReader` read a blob from GitPython's object database. GitPython is imported on
first use: a cold look-up whose index is current reads the branch head from the
repository's files (:mod:`calcat_git.git.refs`) and never starts git.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import nullcontext
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, cast

from calcat_git.errors import RepositoryError
from calcat_git.git import refs

if TYPE_CHECKING:
    import git

# Commands that write (a commit, a branch, objects): they run the repository's hooks, filters and
# fsmonitor as plain git does. Every other command only reads and runs none of them.
WRITING = frozenset({"add", "commit", "switch", "checkout", "update-ref", "read-tree", "update-index", "hash-object",
                     "commit-tree", "write-tree", "reset", "restore", "stash", "rm", "mv", "merge", "branch", "tag"})
READ_ONLY = ("--no-optional-locks", "-c", "core.fsmonitor=false", "-c", f"core.hooksPath={os.devnull}")
READS_WORK_TREE = frozenset({"status", "diff", "diff-files", "ls-files"})  # may run clean filters on changed files


def _gitpython() -> Any:
    import git  # GitPython: imported on first use (about 0.1 s), never by a cold look-up

    return git


class GitRunner:
    """A git repository and the one way to run git in it (:class:`~calcat_git.git.repo.GitRepo` asks through it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        found = refs.find_git_dir(self.path.resolve()) if self.path.is_dir() else None
        if found is None:
            raise RepositoryError(f"{self.path} is not a git repository: pass the folder of a calcat-git catalog "
                                  "clone with --repo (or run the command inside it)")
        self.git_dir = found

    @classmethod
    def init(cls, path: Path, branch: str = "main") -> Self:
        """A new, empty repository at ``path`` (made if missing) on ``branch``."""
        _gitpython().Repo.init(path, mkdir=True, initial_branch=branch, quiet=True)
        return cls(path)

    @cached_property
    def repo(self) -> git.Repo:
        """The GitPython repository (opened on first use)."""
        gp = _gitpython()
        try:
            return cast("git.Repo", gp.Repo(self.path, search_parent_directories=True))
        except (gp.InvalidGitRepositoryError, gp.NoSuchPathError) as exc:
            raise RepositoryError(f"{self.path} is not a git repository ({exc})") from None

    def _git(self, *args: str, what: str = "", env: dict[str, str] | None = None, raw: bool = False,
             data: bytes | None = None) -> Any:
        """Run one git command through GitPython; its failure becomes a RepositoryError."""
        gp = _gitpython()
        options = () if args[0] in WRITING else READ_ONLY + self._no_filters if args[0] in READS_WORK_TREE else READ_ONLY
        try:
            with tempfile.TemporaryFile() if data is not None else nullcontext() as stdin:
                if stdin is not None and data is not None:
                    stdin.write(data)
                    stdin.seek(0)
                return self.repo.git.execute(["git", *options, *args], env=env, strip_newline_in_stdout=not raw,
                                             stdout_as_string=not raw, istream=stdin)
        except gp.GitCommandError as exc:
            detail = (exc.stderr or "").strip().removeprefix("stderr: '").strip("'").strip().splitlines()
            raise RepositoryError(f"{what or 'git ' + ' '.join(args)}: {detail[-1] if detail else 'failed'}") from None

    @cached_property
    def _no_filters(self) -> tuple[str, ...]:
        """Options that switch off every filter driver the configuration defines (a read
        never runs one; ``git config`` itself runs nothing)."""
        try:
            found = self.repo.git.execute(["git", *READ_ONLY, "config", "-z", "--name-only", "--get-regexp",
                                           r"^filter\..*\.(clean|smudge|process)$"])
        except _gitpython().GitCommandError:  # none configured (exit code 1)
            return ()
        drivers = {name.rpartition(".")[0] for name in str(found).split("\x00") if name}
        return tuple(option for driver in sorted(drivers) for key, value in (
            ("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")) for option in
            ("-c", f"{driver}.{key}={value}"))

    def _ok(self, *args: str) -> bool:
        try:
            self._git(*args)
        except RepositoryError:
            return False
        return True


def missing_object(name: str) -> RepositoryError:
    return RepositoryError(f"object {name} is missing: the clone may be shallow or damaged")


def read_blob(repo: git.Repo, blob: str, max_bytes: int | None = None) -> bytes:
    """A blob's content; only its first ``max_bytes + 1`` bytes when it is larger (the rest
    is drained from the pipe in small pieces, never held in memory)."""
    try:
        stream = repo.odb.stream(bytes.fromhex(blob))
    except ValueError:
        raise missing_object(blob) from None
    if max_bytes is not None and stream.size > max_bytes:
        head = bytes(stream.read(max_bytes + 1))
        while stream.read(1 << 20):
            pass
        return head
    return bytes(stream.read())


class BlobReader:
    """Blobs of one repository, for a worker process (one GitPython repository each)."""

    def __init__(self, repo_path: str) -> None:
        self.repo = _gitpython().Repo(repo_path)

    def read(self, blob: str, max_bytes: int | None = None) -> bytes:
        return read_blob(self.repo, blob, max_bytes)

    def close(self) -> None:
        self.repo.close()
