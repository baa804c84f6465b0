"""Which commit answers for a snapshot: a time (the newest first-parent commit at or
before it, through the index when there is one) or a revision (a commit, a tag, a branch)."""

from __future__ import annotations

from datetime import datetime

from calcat_git.errors import InvalidInputError, NoSnapshotError, RepositoryError
from calcat_git.git.history import Commit, Timeline
from calcat_git.git.repo import SHA_LIKE, GitRepo
from calcat_git.index.reader import Index
from calcat_git.timeutil import ensure_utc, format_timestamp, parse_timestamp


def locate(repo: GitRepo, index: Index | None, timeline: Timeline | None, snapshot: datetime | str
           ) -> tuple[int | None, Commit, str | None]:
    """Position on the indexed line (if there), commit and tag name (if a tag was given) of ``snapshot``."""
    found = _revision(repo, snapshot) if isinstance(snapshot, str) else None
    if found is not None:
        sha, ref = found
        tag = ref.removeprefix("refs/tags/") if ref and ref.startswith("refs/tags/") else None
        return (*_pinned(repo, index, timeline, sha), tag)
    return (*_at_time(repo, index, timeline, snapshot), None)


def _pinned(repo: GitRepo, index: Index | None, timeline: Timeline | None, sha: str) -> tuple[int | None, Commit]:
    found = index.by_sha(sha) if index else None
    if found:
        return found
    if timeline and sha in timeline.by_sha:
        return None, timeline.by_sha[sha]
    return None, repo.commit_info(sha)  # off the first-parent line: read naively


def _revision(repo: GitRepo, text: str) -> tuple[str, str | None] | None:
    """The commit and full ref name ``text`` names if it is no time (None if it is one)."""
    if SHA_LIKE.match(text):
        try:
            return repo.rev_parse(text), None
        except RepositoryError as not_a_commit:
            try:
                return repo.resolve_revision(text)  # a tag or branch that looks like hex
            except RepositoryError:
                raise not_a_commit from None
    try:
        parse_timestamp(text, "snapshot time")
        return None
    except InvalidInputError as bad_time:
        try:
            return repo.resolve_revision(text)
        except RepositoryError as bad_revision:
            if text[:1].isdigit():  # meant as a time
                raise InvalidInputError(f"{bad_time}; nor is it a commit, tag or branch") from None
            raise InvalidInputError(f"{bad_revision}, nor a time (ISO-8601 with Z or an offset, e.g. "
                                    "2024-05-01T10:00:00Z)") from None


def _at_time(repo: GitRepo, index: Index | None, timeline: Timeline | None, snapshot: datetime | str
             ) -> tuple[int | None, Commit]:
    moment = ensure_utc(snapshot, "snapshot time")
    try:
        if index:
            return index.snapshot(moment)
        assert timeline is not None
        return None, timeline.at(moment)
    except NoSnapshotError as exc:
        if repo.shallow():
            raise NoSnapshotError(
                f"no snapshot at {format_timestamp(moment)} in this shallow clone: it holds the history since "
                f"{exc.first} only, the commits before are missing; run `git fetch --unshallow` to read "
                "earlier snapshots", exc.first) from None
        raise
