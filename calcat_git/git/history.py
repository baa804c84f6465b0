"""First-parent history as records: commits, the files each changed, and a timeline
bisectable by committer time (what :class:`~calcat_git.git.repo.GitRepo` reads)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from calcat_git.errors import no_snapshot
from calcat_git.timeutil import format_timestamp

REGULAR_FILE_MODES = ("100644", "100755")
HEADER = "%H%x1f%ct%x1f%an%x1f%s"  # commit fields, unit-separated; the subject goes last
# characters a commit's text may hold that no page, feed or terminal should get as they are
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]")


def printable(text: str) -> str:
    """``text`` with its control and invisible characters written as escapes (``\\x01``)."""
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else
                            f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit:
    sha: str
    committed_at: datetime
    author: str
    message: str

    def __post_init__(self) -> None:  # commit text is shown as it is everywhere: made printable once, here
        object.__setattr__(self, "author", printable(self.author))
        object.__setattr__(self, "message", printable(self.message))

    @classmethod
    def from_header(cls, header: str) -> Commit:
        sha, stamp, author, message = header.split("\x1f", 3)
        return cls(sha=sha, committed_at=datetime.fromtimestamp(int(stamp), UTC), author=author, message=message)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileChange:
    """One entry a commit touched on the first-parent line: ``blob`` is None if deleted;
    ``regular`` is False for a symbolic link or a submodule (never read as a file)."""

    path: str
    blob: str | None
    regular: bool = True


def parse_raw_log(out: bytes) -> Iterator[tuple[Commit, list[FileChange]]]:
    """``git log --raw -z`` records: a header token, then (meta, path) token pairs."""
    tokens = out.split(b"\x00")
    commit: Commit | None = None
    changes: list[FileChange] = []
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        if token.startswith(b"\x01"):
            if commit is not None:
                yield commit, changes
            commit, changes = Commit.from_header(token[1:].decode("utf-8", "replace")), []
        elif token.startswith(b":"):
            _, new_mode, _, new_blob, status = token[1:].decode().split()
            path = tokens[i + 1].decode("utf-8", "surrogateescape")
            deleted = status == "D"
            changes.append(
                FileChange(path=path, blob=None if deleted else new_blob, regular=deleted or new_mode in REGULAR_FILE_MODES)
            )
            i += 1
        i += 1
    if commit is not None:
        yield commit, changes


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
