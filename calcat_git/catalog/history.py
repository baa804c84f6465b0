"""Mapping history with both clocks: validity ``from`` and the commit that introduced it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from calcat_git.git.repo import GitRepo
from calcat_git.model.mapping import Mapping, MappingChange
from calcat_git.timeutil import format_timestamp, now_utc

DEFAULT_GRACE = timedelta(days=1)
FUTURE_GRACE = timedelta(minutes=10)  # clock skew allowed between a committer's machine and this one
MAPPINGS_DIR = "registry/mappings"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """A mapping change as it entered the catalog's history."""

    detector: str
    valid_from: datetime
    modules: tuple[tuple[str, str | None], ...]
    reason: str
    commit: str
    committed_at: datetime
    author: str
    message: str
    backdated: bool
    correction: str | None = None

    @property
    def backdated_by(self) -> timedelta:
        return max(self.committed_at - self.valid_from, timedelta(0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector, "from": format_timestamp(self.valid_from),
            "modules": dict(self.modules), "reason": self.reason, "commit": self.commit,
            "committed_at": format_timestamp(self.committed_at), "author": self.author,
            "message": self.message, "backdated": self.backdated,
            "backdated_seconds": int(self.backdated_by.total_seconds()) if self.backdated else 0,
            "correction": self.correction,
        }


def _parse_mapping(path: str, raw: bytes) -> Mapping | None:
    """The mapping in a blob, or None when that version of the file was invalid."""
    from calcat_git.files.parse import parse_file  # imported on use: cold look-ups parse no YAML

    record = parse_file(path, raw).record
    return record if isinstance(record, Mapping) else None


def _key(change: MappingChange) -> tuple[datetime, tuple[tuple[str, str | None], ...]]:
    return change.valid_from, change.modules


def mapping_history(repo: GitRepo, rev: str, grace: timedelta = DEFAULT_GRACE) -> list[HistoryEntry]:
    """Every mapping change on the first-parent line of ``rev``, attributed to the
    commit where it first appeared (oldest first). Changes later edited under a
    ``correction:`` appear again, attributed to the correcting commit. A change is
    backdated when it was recorded late: never in the commit that first records a
    detector's mapping (an installation or an import is history, not a late fix)."""
    touched = list(repo.changed_files(rev, [MAPPINGS_DIR]))
    blobs = [fc.blob for _, changes in touched for fc in changes if fc.blob and fc.regular]
    contents = dict(zip(blobs, repo.read_blobs(blobs), strict=True))
    known: dict[str, set[tuple[datetime, tuple[tuple[str, str | None], ...]]]] = {}
    entries: list[HistoryEntry] = []
    for commit, changes in touched:
        for fc in changes:
            mapping = _parse_mapping(fc.path, contents[fc.blob]) if fc.blob and fc.regular else None
            if mapping is None:
                continue
            seen = known.setdefault(fc.path, set())
            first_record = not seen  # a detector's first mapping (an installation, an import) is not late
            for change in mapping.changes:
                if _key(change) in seen:
                    continue
                seen.add(_key(change))
                entries.append(HistoryEntry(
                    detector=mapping.detector, valid_from=change.valid_from, modules=change.modules,
                    reason=change.reason, commit=commit.sha, committed_at=commit.committed_at,
                    author=commit.author, message=commit.message, correction=change.correction,
                    backdated=not first_record and change.valid_from < commit.committed_at - grace,
                ))
    return entries


def verify_history(repo: GitRepo, rev: str, since: str | None = None) -> list[str]:
    """Problems with transaction time on ``rev``: committer times later than now plus
    ``FUTURE_GRACE``, committer times that decrease along the first-parent line (not
    blamed on the commit after a future one), or a recorded last-seen head that is no
    longer an ancestor (rewritten history). On success the head is recorded for the next run."""
    head = repo.rev_parse(rev)
    problems: list[str] = []
    record = repo.git_dir / "calcat-git" / f"last-seen-head.{rev.replace('/', '_')}"
    if record.exists():
        seen = record.read_text().strip()
        if seen and not repo.is_ancestor(seen, head):
            problems.append(f"history was rewritten: the last seen head {seen[:12]} of {rev} is not an ancestor "
                            f"of {head[:12]}; restore it or re-import, never force-push main")
    commits = repo.first_parent_log(rev)
    start = 0
    if since is not None:
        since_sha = repo.rev_parse(since)
        shas = [c.sha for c in commits]
        if since_sha not in shas:
            problems.append(f"{since} is not on the first-parent history of {rev}")
        else:
            start = shas.index(since_sha)
    latest = now_utc() + FUTURE_GRACE
    future = {c.sha for c in commits[start:] if c.committed_at > latest}
    for commit in commits[start:]:
        if commit.sha in future:
            problems.append(f"committer time in the future: {commit.sha[:12]} ({format_timestamp(commit.committed_at)}) "
                            f"is later than now plus {int(FUTURE_GRACE.total_seconds() // 60)} minutes; "
                            "snapshots taken before then would not see it: fix the committer's clock and recommit")
    for older, newer in zip(commits[start:], commits[start + 1:], strict=False):
        if newer.committed_at < older.committed_at and older.sha not in future:
            problems.append(f"committer time goes back: {newer.sha[:12]} ({format_timestamp(newer.committed_at)}) "
                            f"follows {older.sha[:12]} ({format_timestamp(older.committed_at)}); snapshots "
                            "between them would be ambiguous")
    if not problems:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(head + "\n")
    return problems
