"""The one git boundary: a repository's first-parent history, blobs and commits.

Every git call of the package goes through :class:`GitRepo`: its commands run through
:class:`~calcat_git.git.runner.GitRunner` (the one module that imports GitPython), and
branch heads are read from the repository's files when they can be
(:mod:`calcat_git.git.refs`). This module knows nothing about YAML or the catalog's
layout: callers name the paths they want.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from calcat_git.errors import RepositoryError, closest_names
from calcat_git.git import refs
from calcat_git.git.history import HEADER, REGULAR_FILE_MODES, Commit, FileChange, parse_raw_log
from calcat_git.git.runner import GitRunner, missing_object, read_blob

SHA_LIKE = refs.SHA_LIKE
STATE_DIR = "calcat-git"  # in the git directory: caches, locks, work folders


class GitRepo(GitRunner):
    """A repository's first-parent history, blobs, commits, branches and tags, asked of git."""

    def head_ref(self, name: str) -> str | None:
        """The sha of ``HEAD`` or of branch ``name``, or None if there is no such branch."""
        ref = "HEAD" if name == "HEAD" else f"refs/heads/{name}"
        sha = refs.read_ref(self.git_dir, ref)
        if sha is not None or not (refs.common_dir(self.git_dir) / "reftable").exists():
            return sha
        try:
            return str(self.repo.commit(ref).hexsha)
        except Exception:
            return None

    def branches(self) -> list[str]:
        return [str(head.name) for head in self.repo.heads]

    def resolve_branch(self, branch: str | None) -> str:
        """``branch`` as given, or ``main`` if it exists, else ``HEAD``."""
        for name in [branch] if branch else ["main", "HEAD"]:
            if self.head_ref(name) is not None:
                return name
        if not branch:
            raise RepositoryError(f"{self.path} has no commits yet: commit the catalog first")
        known = self.branches() + [str(r.name) for r in self.repo.remote().refs if not r.name.endswith("/HEAD")] \
            if self.repo.remotes else self.branches()
        hint = closest_names(branch, known) or (f" (branches: {', '.join(known[:8])})" if known else "")
        raise RepositoryError(f"no branch {branch!r} in {self.path}{hint}: pass an existing branch")

    def rev_parse(self, rev: str) -> str:
        """The commit sha ``rev`` names (a branch, HEAD, a sha, any git revision)."""
        fast = self.head_ref(rev) if rev == "HEAD" or ("/" not in rev and not SHA_LIKE.match(rev)) else None
        if fast is not None:
            return fast
        try:  # never an option, whatever ``rev`` starts with
            return str(self._git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"))
        except RepositoryError:
            hint = "; this clone is shallow: `git fetch --unshallow` fetches older commits" if self.shallow() else ""
            raise RepositoryError(f"no commit {rev!r} in {self.path}{hint}") from None

    def resolve_revision(self, text: str) -> tuple[str, str | None]:
        """The commit a revision names (a sha, a tag, a branch, ``HEAD~2``, …) and the full
        ref name it is (``refs/tags/v2026.12``; None for a sha or an expression). Anything
        git does not verify as a revision is refused (``--end-of-options``: never an option)."""
        if not text or len(text) > 256 or not text.isprintable():
            raise RepositoryError(f"{text[:40]!r} is not a revision: give a commit, a tag or a branch")
        try:
            sha = str(self._git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{text}^{{commit}}"))
        except RepositoryError:
            raise RepositoryError(f"{text!r} is not a commit, tag or branch of {self.path}") from None
        try:
            ref = str(self._git("rev-parse", "--verify", "--quiet", "--symbolic-full-name", "--end-of-options", text))
        except RepositoryError:
            ref = ""
        return sha, ref or None

    def tags(self) -> list[dict[str, str]]:
        """Every tag: name, the commit it names, and for an annotated tag its tagger time
        (ISO, empty for a lightweight tag) and subject, in name order."""
        fields = ["%(refname:short)", "%(objectname)", "%(*objectname)", "%(taggerdate:iso-strict)",
                  "%(contents:subject)"]
        out = str(self._git("for-each-ref", "--sort=refname", f"--format={'%1f'.join(fields)}%00", "refs/tags"))
        tags = []
        for record in out.split("\x00"):
            parts = record.strip("\n").split("\x1f")
            if len(parts) == 5:
                name, obj, peeled, when, subject = parts
                tags.append({"name": name, "commit": peeled or obj, "tagged_at": when, "message": subject})
        return tags

    def create_tag(self, name: str, commit: str, message: str) -> None:
        """An annotated tag ``name`` on ``commit``; an existing tag is never moved."""
        if not self._ok("check-ref-format", f"refs/tags/{name}") or name.startswith("-"):
            raise RepositoryError(f"{name!r} is not a valid tag name (see `git check-ref-format`: no leading '-', "
                                  "no spaces, '..', '~', '^', ':', '?', '*', '[' or a trailing '.lock')")
        if self._ok("rev-parse", "--verify", "--quiet", f"refs/tags/{name}"):
            raise RepositoryError(f"tag {name!r} exists already: a published set is never moved; choose a new name")
        self._git("tag", "-a", "-m", message, "--end-of-options", name, commit, what=f"git tag {name}")

    def shallow(self) -> str:
        """The boundary commits of a shallow clone (sorted, space-separated); '' for a full clone."""
        try:
            return " ".join(sorted((refs.common_dir(self.git_dir) / "shallow").read_text().split()))
        except FileNotFoundError:
            return ""

    def common_dir(self) -> Path:
        return refs.common_dir(self.git_dir)

    def state_dir(self) -> Path:
        """calcat-git's own folder in the git directory, made if missing: its caches, locks and
        work folders live where no commit can put a file. A symbolic link there is refused."""
        folder = self.git_dir / STATE_DIR
        folder.mkdir(exist_ok=True)
        if folder.is_symlink():
            raise RepositoryError(f"{folder} is a symbolic link: remove it (calcat-git keeps only caches there and "
                                  "never follows a link)")
        return folder

    def symbolic_head(self) -> str | None:
        return refs.symbolic_head(self.git_dir)

    def current_branch(self) -> str | None:
        """The branch checked out (None when HEAD is detached)."""
        head = refs.symbolic_head(self.git_dir)
        return head.removeprefix("refs/heads/") if head and head.startswith("refs/heads/") else None

    def has_path(self, rev: str, path: str) -> bool:
        """Does commit ``rev`` hold ``path`` (a file or a folder)?"""
        return self._ok("cat-file", "-e", f"{rev}:{path}")

    def list_files(self, rev: str, paths: Iterable[str]) -> list[str]:
        """Paths of the files at commit ``rev`` under ``paths``."""
        out = self._git("ls-tree", "-r", "-z", "--name-only", rev, "--", *paths, raw=True)
        return [p.decode("utf-8", "surrogateescape") for p in bytes(out).split(b"\x00") if p]

    def uncommitted(self, paths: Iterable[str]) -> list[str]:
        """``git status --porcelain`` lines of ``paths`` (changed, staged or new)."""
        return str(self._git("status", "--porcelain", "--", *paths)).splitlines()

    def switch_new_branch(self, branch: str) -> None:
        """Create ``branch`` at HEAD and check it out (the working tree keeps its changes)."""
        if self.head_ref(branch) is not None:
            raise RepositoryError(f"branch {branch!r} exists already: give a new name")
        self._git("switch", "-q", "-c", branch, what=f"git switch -c {branch}")

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self._ok("merge-base", "--is-ancestor", older, newer)

    def merged_branches(self, into: str, prefix: str) -> set[str]:
        """The branches under ``prefix`` (e.g. ``inject/``) whose heads ``into`` contains."""
        found = self._git("for-each-ref", "--merged", into, "--format=%(refname:short)", f"refs/heads/{prefix}")
        return set(str(found).split())

    def merge_base(self, one: str, other: str, what: str = "") -> str:
        return str(self._git("merge-base", one, other, what=what)).strip()

    def first_parent_since(self, old: str, new: str) -> list[str]:
        """Commits on the first-parent line of ``new`` after ``old``, oldest first."""
        return str(self._git("rev-list", "--first-parent", "--reverse", f"{old}..{new}")).split()

    def first_parent_log(self, rev: str) -> list[Commit]:
        """Commits on the first-parent line of ``rev``, oldest first."""
        out = self._git("log", "--first-parent", "--reverse", "-z", f"--format={HEADER}", rev)
        return [Commit.from_header(record) for record in str(out).split("\x00") if record]

    def commit_info(self, sha: str) -> Commit:
        return Commit.from_header(str(self._git("log", "-1", f"--format={HEADER}", sha)))

    def changed_files(self, rev: str, paths: Iterable[str]) -> Iterator[tuple[Commit, list[FileChange]]]:
        """Per first-parent commit (oldest first), the entries it changed under ``paths``:
        one ``git log``, NUL-separated so that any file name comes through unchanged."""
        out = self._git(
            "log",
            "--first-parent",
            "--diff-merges=first-parent",
            "--reverse",
            "--raw",
            "-z",
            "--no-renames",
            "--no-abbrev",
            f"--format=\x01{HEADER}",
            rev,
            "--",
            *paths,
            raw=True,
        )
        yield from parse_raw_log(out)

    def changed_between(self, base: str, head: str) -> list[tuple[str, str]]:
        """(status letter, path) of every file that differs between two commits."""
        out = self._git("diff", "--name-status", "--no-renames", "-z", base, head, raw=True)
        tokens = out.split(b"\x00")
        return [(tokens[i].decode()[0], tokens[i + 1].decode("utf-8", "surrogateescape"))
                for i in range(0, len(tokens) - 1, 2) if tokens[i]]

    def changed_in_worktree(self, rev: str, paths: Iterable[str]) -> set[str]:
        """Files under ``paths`` whose working-tree state differs from commit ``rev``: changed,
        staged or not, and new (untracked, not ignored)."""
        paths, sha = list(paths), self.rev_parse(rev)  # a commit: ``rev`` never reaches diff as an option
        changed = self._git("diff", "--name-only", "--no-renames", "--no-ext-diff", "--no-textconv", "-z", sha, "--",
                            *paths, raw=True)
        new = self._git("ls-files", "--others", "--exclude-standard", "-z", "--", *paths, raw=True)
        return {p.decode("utf-8", "surrogateescape") for p in (bytes(changed) + b"\x00" + bytes(new)).split(b"\x00") if p}

    def clean_blobs(self, paths: Iterable[str]) -> dict[str, str]:
        """Path → blob of the files under ``paths`` whose working-tree content is exactly what
        git's index holds (by git's stat cache: nothing is read); changed, conflicted and
        untracked files are left out."""
        paths = list(paths)
        staged = self._git("ls-files", "--stage", "-z", "--", *paths, raw=True)
        dirty = self._git("diff-files", "--name-only", "-z", "--", *paths, raw=True)
        changed = {p for p in bytes(dirty).split(b"\x00") if p}
        out = {}
        for entry in bytes(staged).split(b"\x00"):
            if entry:
                meta, path = entry.split(b"\t", 1)
                mode, blob, stage = meta.decode().split()
                if stage == "0" and mode in REGULAR_FILE_MODES and path not in changed:
                    out[path.decode("utf-8", "surrogateescape")] = blob
        return out

    def blob_sizes(self, blobs: list[str]) -> list[int]:
        """Sizes of blobs from their headers, nothing read: one ``git cat-file --batch-check``."""
        if not blobs:
            return []
        out = self._git("cat-file", "--batch-check", data=_requests(blobs), raw=True)
        return [_size(line) for line in bytes(out).splitlines()]

    def read_blobs(self, blobs: list[str], max_bytes: int | None = None) -> list[bytes]:
        """Contents of many blobs, each cut at ``max_bytes + 1`` bytes. The requests are
        pipelined into one ``git cat-file --batch`` (a round trip per blob costs far more
        when the machine is busy); a blob over the limit is streamed and cut instead."""
        sizes = self.blob_sizes(blobs) if max_bytes is not None else [0] * len(blobs)
        small = [b for b, size in zip(blobs, sizes, strict=True) if max_bytes is None or size <= max_bytes]
        contents = dict(zip(small, self._batch(small), strict=True))
        return [contents[b] if b in contents else read_blob(self.repo, b, max_bytes) for b in blobs]

    def _batch(self, blobs: list[str]) -> list[bytes]:
        if not blobs:
            return []
        out = bytes(self._git("cat-file", "--batch", data=_requests(blobs), raw=True))
        contents, pos = [], 0
        for _ in blobs:
            end = out.index(b"\n", pos)
            size = _size(out[pos:end])
            contents.append(out[end + 1:end + 1 + size])
            pos = end + 1 + size + 1
        return contents

    def show_file(self, sha: str, path: str) -> bytes | None:
        """The content of ``path`` at commit ``sha``, or None if it has no such file."""
        try:
            return bytes(self._git("show", f"{sha}:{path}", raw=True))
        except RepositoryError:
            return None

    def has_file(self, rev: str, path: str) -> bool:
        """Does commit ``rev`` (a branch, else HEAD if there is no such branch) hold ``path``?"""
        where = rev if self.head_ref(rev) is not None else "HEAD"
        return self._ok("cat-file", "-e", f"{where}:{path}")

    def commit_paths(self, paths: list[str], message: str, what: str = "git commit") -> str:
        """Commit the working tree's ``paths`` (added or changed) on the checked-out branch."""
        self._git("add", "--", *paths, what=f"{what} (git add)")
        self._git("commit", "-q", "-m", message, "--", *paths, what=what)
        return self.rev_parse("HEAD")

    def commit_all(self, message: str, when: datetime, name: str, email: str) -> str:
        """Commit the whole working tree as ``name <email>``, authored and committed at ``when``."""
        stamp = f"{int(when.timestamp())} +0000"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        self._git("add", "-A", what="git add")
        self._git("commit", "-q", "-m", message, env=env, what="git commit")
        return self.rev_parse("HEAD")

    def commit_file(self, branch: str, path: str, content: bytes, message: str, when: int | None = None) -> str:
        """Commit ``content`` at ``path`` onto ``branch`` (created from HEAD if missing)
        without touching the working tree or the user's index; returns the new commit.
        An existing file is never replaced (constants batches are only ever added)."""
        old = self.head_ref(branch)
        parent = old or self.rev_parse("HEAD")
        if self._ok("cat-file", "-e", f"{parent}:{path}"):
            raise RepositoryError(f"{path} already exists on {branch if old else 'HEAD'}: refusing to replace it")
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": os.path.join(tmp, "index")}  # the user's index stays untouched
            if when is not None:
                env["GIT_COMMITTER_DATE"] = f"{when} +0000"

            def git(*args: str, data: bytes | None = None) -> str:
                return str(self._git(*args, env=env, data=data)).strip()

            blob = git("hash-object", "-w", "--stdin", data=content)
            git("read-tree", parent)
            git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
            commit = git("commit-tree", git("write-tree"), "-p", parent, "-m", message)
            git("update-ref", f"refs/heads/{branch}", commit, old or "0" * 40)
        return commit

    def tree_files(self, sha: str, paths: Iterable[str], max_bytes: int | None = None
                   ) -> Iterator[tuple[str, bytes | None]]:
        """Every entry at commit ``sha`` under ``paths``: its content (cut at ``max_bytes + 1``
        bytes), or None for an entry that is not a regular file (a symbolic link or a
        submodule: never followed)."""
        entries = self._tree_entries(sha, paths)
        contents = iter(self.read_blobs([obj for _, obj in entries if obj is not None], max_bytes))
        for path, obj in entries:
            yield path, next(contents) if obj is not None else None

    def tree_blobs(self, sha: str, paths: Iterable[str]) -> dict[str, str]:
        """Path → blob of every regular file at commit ``sha`` under ``paths``, in git's order
        (a symbolic link or a submodule is left out); :meth:`read_blobs` reads them."""
        return {path: obj for path, obj in self._tree_entries(sha, paths) if obj is not None}

    def _tree_entries(self, sha: str, paths: Iterable[str]) -> list[tuple[str, str | None]]:
        """(path, blob) of every entry at commit ``sha`` under ``paths``; None for an entry
        that is not a regular file."""
        out = self._git("ls-tree", "-r", "-z", "--full-tree", sha, "--", *paths, raw=True)
        entries = []
        for item in out.split(b"\x00"):
            if item:
                meta, path = item.split(b"\t", 1)
                mode, _, obj = meta.decode().split()
                entries.append((path.decode("utf-8", "surrogateescape"), obj if mode in REGULAR_FILE_MODES else None))
        return entries


def _requests(blobs: list[str]) -> bytes:
    """The input of ``git cat-file --batch``/``--batch-check``: one object name a line."""
    return "".join(b + "\n" for b in blobs).encode()


def _size(header: bytes) -> int:
    """The size in a ``cat-file --batch`` header line (``<sha> <type> <size>``)."""
    parts = header.split()
    if len(parts) < 3 or parts[1] == b"missing":
        raise missing_object(parts[0].decode() if parts else "?")
    return int(parts[2])
