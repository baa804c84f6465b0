"""Reading a catalog repository through git: first-parent history and blobs at a commit.

Repository operations go through the ``git`` command line; blobs are read in bulk by a
single ``git cat-file --batch`` process, never one process per file.
"""

from __future__ import annotations

import bisect
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from calcat_git.errors import RepositoryError, closest_names, no_snapshot
from calcat_git.timeutil import format_timestamp

SHA_LIKE = re.compile(r"^[0-9a-fA-F]{4,40}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit:
    sha: str
    committed_at: datetime
    author: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FileChange:
    """One file a commit touched on the first-parent line (``blob`` is None if deleted)."""

    path: str
    blob: str | None


class GitRepo:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        out = self._git("rev-parse", "--git-dir", what=f"{self.path} is not a git repository")
        self.git_dir = (self.path / out.strip()).resolve()

    def _run(self, *args: str, data: bytes | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(["git", "-C", str(self.path), *args], input=data, env=env, capture_output=True,
                                  check=False)
        except FileNotFoundError:
            raise RepositoryError("git is not installed or not on PATH") from None

    def _ok(self, *args: str) -> bool:
        """Does this git command succeed?"""
        return self._run(*args).returncode == 0

    def _git(self, *args: str, what: str = "", data: bytes | None = None, env: dict[str, str] | None = None) -> str:
        return self._git_bytes(*args, what=what, data=data, env=env).decode("utf-8", "replace")

    def _git_bytes(self, *args: str, what: str = "", data: bytes | None = None,
                   env: dict[str, str] | None = None) -> bytes:
        result = self._run(*args, data=data, env=env)
        if result.returncode != 0:
            detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RepositoryError(f"{what or 'git ' + ' '.join(args)}: {detail[-1] if detail else 'failed'}")
        return result.stdout

    def resolve_branch(self, branch: str | None) -> str:
        """``branch`` as given, or ``main`` if it exists, else ``HEAD``."""
        candidates = [branch] if branch else ["main", "HEAD"]
        for name in candidates:
            if self._ok("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"):
                return name
        if not branch:
            raise RepositoryError(f"{self.path} has no commits yet: commit the catalog first")
        refs = self._git("for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes").split()
        known = [ref for ref in refs if not ref.endswith("/HEAD")]
        hint = closest_names(branch, known) or (f" (branches: {', '.join(known[:8])})" if known else "")
        raise RepositoryError(f"no branch {branch!r} in {self.path}{hint}: pass an existing branch")

    def rev_parse(self, rev: str) -> str:
        done = self._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if done.returncode != 0:
            hint = "; this clone is shallow: `git fetch --unshallow` fetches older commits" if self.shallow() else ""
            raise RepositoryError(f"no commit {rev!r} in {self.path}{hint}")
        return done.stdout.decode().strip()

    def shallow(self) -> str:
        """The boundary commits of a shallow clone (sorted, space-separated); '' for a full clone."""
        try:
            return " ".join(sorted((self.git_dir / "shallow").read_text().split()))
        except FileNotFoundError:
            return ""

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self._ok("merge-base", "--is-ancestor", older, newer)

    def first_parent_log(self, rev: str) -> list[Commit]:
        """Commits on the first-parent line of ``rev``, oldest first."""
        out = self._git("log", "--first-parent", "--reverse", "--format=%H%x00%ct%x00%an%x00%s%x1e", rev)
        commits = []
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if record:
                sha, stamp, author, message = record.split("\x00")
                commits.append(Commit(sha=sha, committed_at=datetime.fromtimestamp(int(stamp), UTC),
                                      author=author, message=message))
        return commits

    def commit_info(self, sha: str) -> Commit:
        out = self._git("log", "-1", "--format=%H%x00%ct%x00%an%x00%s", sha)
        full, stamp, author, message = out.strip("\n").split("\x00")
        return Commit(sha=full, committed_at=datetime.fromtimestamp(int(stamp), UTC), author=author, message=message)

    def changed_files(self, rev: str, paths: Iterable[str]) -> Iterator[tuple[Commit, list[FileChange]]]:
        """Per first-parent commit (oldest first), the data files it changed: one ``git log``."""
        out = self._git("log", "--first-parent", "--diff-merges=first-parent", "--reverse", "--raw", "--no-renames",
                        "--no-abbrev", "--format=%x01%H%x00%ct%x00%an%x00%s", rev, "--", *paths)
        for chunk in out.split("\x01")[1:]:
            header, _, raw = chunk.partition("\n")
            sha, stamp, author, message = header.split("\x00")
            changes = []
            for line in raw.splitlines():
                if line.startswith(":"):
                    meta, path = line.split("\t", 1)
                    new_blob, status = meta.split()[3], meta.split()[4]
                    changes.append(FileChange(path=path, blob=None if status == "D" else new_blob))
            commit = Commit(sha=sha, committed_at=datetime.fromtimestamp(int(stamp), UTC), author=author, message=message)
            yield commit, changes

    def read_blobs(self, blobs: list[str]) -> list[bytes]:
        """Contents of many blobs with one ``git cat-file --batch`` process."""
        if not blobs:
            return []
        out = self._git_bytes("cat-file", "--batch", data="".join(b + "\n" for b in blobs).encode())
        contents, pos = [], 0
        for _ in blobs:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) < 3 or header[1] == b"missing":
                raise RepositoryError(f"object {header[0].decode()} is missing: the clone may be shallow or damaged")
            size = int(header[2])
            contents.append(out[end + 1:end + 1 + size])
            pos = end + 1 + size + 1
        return contents

    def show_file(self, sha: str, path: str) -> bytes | None:
        """The content of ``path`` at commit ``sha``, or None if it has no such file."""
        done = self._run("show", f"{sha}:{path}")
        return done.stdout if done.returncode == 0 else None

    def has_file(self, rev: str, path: str) -> bool:
        """Does commit ``rev`` (a branch, else HEAD if there is no such branch) hold ``path``?"""
        exists = self._ok("rev-parse", "--verify", "--quiet", f"refs/heads/{rev}")
        return self._ok("cat-file", "-e", f"{rev if exists else 'HEAD'}:{path}")

    def commit_file(self, branch: str, path: str, content: bytes, message: str, when: int | None = None) -> str:
        """Commit ``content`` at ``path`` onto ``branch`` (created from HEAD if missing)
        without touching the working tree or the user's index; returns the new commit.
        An existing file is never replaced (constants batches are only ever added)."""
        import os
        import tempfile

        exists = self._ok("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
        parent = self.rev_parse(branch if exists else "HEAD")
        if self._ok("cat-file", "-e", f"{parent}:{path}"):
            raise RepositoryError(f"{path} already exists on {branch if exists else 'HEAD'}: refusing to replace it")
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": os.path.join(tmp, "index")}  # the user's index stays untouched
            if when is not None:
                env["GIT_COMMITTER_DATE"] = f"{when} +0000"

            def git(*args: str, data: bytes | None = None) -> str:
                return self._git(*args, data=data, env=env).strip()

            blob = git("hash-object", "-w", "--stdin", data=content)
            git("read-tree", parent)
            git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
            commit = git("commit-tree", git("write-tree"), "-p", parent, "-m", message)
            git("update-ref", f"refs/heads/{branch}", commit, parent if exists else "0" * 40)
        return commit

    def tree_files(self, sha: str, paths: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
        """Every file at commit ``sha`` under ``paths``; None for an entry that is not a regular
        file (a symbolic link or a submodule: never followed)."""
        out = self._git_bytes("ls-tree", "-r", "-z", "--full-tree", sha, "--", *paths)
        entries, blobs = [], []
        for item in out.split(b"\x00"):
            if not item:
                continue
            meta, path = item.decode("utf-8", "replace").split("\t", 1)
            mode, _, obj = meta.split()
            entries.append((path, mode, obj))
            if mode in ("100644", "100755"):
                blobs.append(obj)
        contents = iter(self.read_blobs(blobs))
        for path, mode, _ in entries:
            if mode in ("100644", "100755"):
                yield path, next(contents)
            else:
                yield path, None


class Timeline:
    """The first-parent line of a branch, bisectable by committer time."""

    def __init__(self, commits: list[Commit]) -> None:
        self.commits = commits
        self.times = [c.committed_at for c in commits]
        self.by_sha = {c.sha: c for c in commits}

    def at(self, moment: datetime) -> Commit:
        """Newest commit whose committer time is ≤ ``moment``."""
        index = bisect.bisect_right(self.times, moment)
        if index == 0:
            raise no_snapshot(format_timestamp(moment), format_timestamp(self.times[0]) if self.times else "never")
        return self.commits[index - 1]
