"""Mapping history with both clocks: validity ``from`` and the commit that introduced it
(read by :mod:`calcat_git.catalog.reading`); checks of the commits' own times."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from calcat_git.git.history import Commit
from calcat_git.git.repo import GitRepo
from calcat_git.timeutil import format_timestamp, now_utc

DEFAULT_GRACE = timedelta(days=1)
FUTURE_GRACE = timedelta(minutes=10)  # clock skew allowed between a committer's machine and this one


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


def in_the_future(commit: Commit, now: datetime) -> str | None:
    """Why ``commit``'s committer time cannot be trusted, if it is later than ``now`` plus
    ``FUTURE_GRACE`` (clock skew); None if it is not."""
    if commit.committed_at <= now + FUTURE_GRACE:
        return None
    return (f"committer time in the future: {commit.sha[:12]} ({format_timestamp(commit.committed_at)}) is later than "
            f"now plus {int(FUTURE_GRACE.total_seconds() // 60)} minutes; snapshots taken before then would not see "
            "it: fix the committer's clock and recommit")


def verify_history(repo: GitRepo, rev: str, since: str | None = None) -> list[str]:
    """Problems with transaction time on ``rev``: committer times later than now plus
    ``FUTURE_GRACE``, committer times that decrease along the first-parent line (not
    blamed on the commit after a future one), or a recorded last-seen head that is no
    longer an ancestor (rewritten history). On success the head is recorded for the next run."""
    head = repo.rev_parse(rev)
    problems: list[str] = []
    record = repo.state_dir() / f"last-seen-head.{rev.replace('/', '_')}"
    if record.is_symlink():  # never followed: not a record this code wrote
        record.unlink()
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
    now = now_utc()
    future = {c.sha: why for c in commits[start:] if (why := in_the_future(c, now))}
    problems += future.values()
    for older, newer in zip(commits[start:], commits[start + 1:], strict=False):
        if newer.committed_at < older.committed_at and older.sha not in future:
            problems.append(f"committer time goes back: {newer.sha[:12]} ({format_timestamp(newer.committed_at)}) "
                            f"follows {older.sha[:12]} ({format_timestamp(older.committed_at)}); snapshots "
                            "between them would be ambiguous")
    if not problems:
        written = record.with_name(f"{record.name}.tmp-{os.getpid()}")
        written.write_text(head + "\n")
        os.replace(written, record)
    return problems
