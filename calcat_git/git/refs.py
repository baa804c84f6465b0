"""Branch heads read straight from the repository's files, without starting git.

A cold look-up only needs "which commit is the head of main?" to find its index: this
answers it from ``HEAD``, loose refs and ``packed-refs`` in microseconds. Anything it
does not know for certain (a ref storage it does not read, a revision expression, an
abbreviated sha) returns None and the caller asks git (GitPython) instead.
"""

from __future__ import annotations

import re
from pathlib import Path

FULL_SHA = re.compile(rb"^[0-9a-f]{40}$")
SHA_LIKE = re.compile(r"^[0-9a-fA-F]{4,40}$")  # what may name a commit by its sha (or an abbreviation)


def find_git_dir(path: Path) -> Path | None:
    """The git directory of the work tree (or bare repository) at or above ``path``."""
    for folder in (path, *path.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot.resolve()
        if dot.is_file():  # a linked worktree or submodule: "gitdir: <path>"
            text = dot.read_text("utf-8", "replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:"):].strip())
                return (folder / target).resolve() if not target.is_absolute() else target
            return None
        if (folder / "HEAD").is_file() and (folder / "objects").is_dir() and (folder / "refs").is_dir():
            return folder.resolve()  # a bare repository
    return None


def common_dir(git_dir: Path) -> Path:
    """Where shared refs live: the main repository's git directory for a linked worktree."""
    try:
        text = (git_dir / "commondir").read_text("utf-8").strip()
    except OSError:
        return git_dir
    target = Path(text)
    return (git_dir / target).resolve() if not target.is_absolute() else target


def symbolic_head(git_dir: Path) -> str | None:
    """The ref HEAD points at (``refs/heads/main``), or None for a detached HEAD."""
    try:
        text = (git_dir / "HEAD").read_text("utf-8").strip()
    except OSError:
        return None
    return text[len("ref:"):].strip() if text.startswith("ref:") else None


def read_ref(git_dir: Path, ref: str) -> str | None:
    """The sha a full ref name (``HEAD``, ``refs/heads/main``) points at, or None if unknown here."""
    if (common_dir(git_dir) / "reftable").exists():
        return None  # a ref storage this reader does not parse: git knows
    for _ in range(5):  # symbolic refs, a few levels deep at most
        base = git_dir if ref == "HEAD" else common_dir(git_dir)
        try:
            raw = (base / ref).read_bytes().strip()
        except OSError:
            return _packed(common_dir(git_dir), ref)
        if raw.startswith(b"ref:"):
            ref = raw[4:].strip().decode("utf-8", "replace")
            continue
        return raw.decode() if FULL_SHA.match(raw) else None
    return None


def _packed(common: Path, ref: str) -> str | None:
    try:
        data = (common / "packed-refs").read_bytes()
    except OSError:
        return None
    wanted = ref.encode()
    for line in data.splitlines():
        sha, _, name = line.partition(b" ")
        if name == wanted and FULL_SHA.match(sha):
            return sha.decode()
    return None
