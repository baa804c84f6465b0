"""Published sets: publish a validated commit under a name (an annotated git tag), list
them, and mark one invalid (``published-sets.yaml``, committed through the edit path of
``changes.apply``). A tag is never moved or deleted."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.sets import SETS_FILE, Invalidation, with_invalidation
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.edit.changes import apply
from calcat_git.errors import CatalogInvalidError, InvalidInputError, NotFoundError, closest_names
from calcat_git.git.repo import GitRepo
from calcat_git.timeutil import now_utc


def _text(value: str, what: str) -> str:
    if not value.strip() or not value.isprintable():
        raise InvalidInputError(f"{what} must be printable text on one line, not {value[:40]!r}")
    return value.strip()


def publish(root: Path, name: str, snapshot: datetime | str | None, message: str, branch: str | None = None
            ) -> tuple[str, int]:
    """Tag the commit ``snapshot`` names (default: the newest of ``branch``) as the published
    set ``name``, once its catalog validates; the commit and how many problems were warnings."""
    message = _text(message, "-m MESSAGE")
    newest = Catalog.open(root, branch=branch)
    pinned = newest.at(snapshot) if snapshot is not None else newest
    commit = pinned.commit
    assert commit is not None
    if not isinstance(pinned.backend, IndexedSnapshot):
        raise InvalidInputError(f"commit {commit[:12]} is not on the first-parent history of {newest.rev}: a "
                                "published set is a state the catalog had there (pass --snapshot-at a time, or a "
                                "commit of that history)")
    problems = pinned.validate()
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise CatalogInvalidError(f"commit {commit[:12]} does not validate ({len(errors)} problem(s)), not published: "
                                  + "; ".join(str(p) for p in errors[:3]), errors)
    GitRepo(root).create_tag(name, commit, message)
    return commit, len(problems) - len(errors)


def published(root: Path, branch: str | None = None) -> list[dict[str, Any]]:
    """Every tag with its commit, times, message and state (see ``catalog.sets.published_sets``),
    invalid ones as the newest commit of ``branch`` says."""
    return Catalog.open(root, branch=branch, index=False).published_sets()


def invalidate(root: Path, name: str, reason: str, branch: str | None = None, commit: bool = False) -> str | None:
    """Mark the published set ``name`` invalid in ``published-sets.yaml`` (written, and
    committed on the new ``branch`` or with ``commit``); the tag itself stays."""
    reason = _text(reason, "--reason")
    names = [t["name"] for t in GitRepo(root).tags()]
    if name not in names:
        raise NotFoundError(f"no published set {name!r}{closest_names(name, names)}: `calcat-git tags` lists them")
    path = root / SETS_FILE
    if path.is_symlink():
        raise CatalogInvalidError(f"{SETS_FILE} is a symbolic link: it must be a regular file of the repository")
    current = path.read_bytes() if path.is_file() else None
    text = with_invalidation(current, Invalidation(name, reason, now_utc().replace(microsecond=0)))
    return apply(root, {SETS_FILE: text.decode()}, f"published set {name} marked invalid: {reason}", branch, commit)
