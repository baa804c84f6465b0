"""One exclusive lock file per job, waited on with a message (never silently)."""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from calcat_git.errors import RepositoryError


@contextmanager
def exclusive(lock_file: Path, waiting: str) -> Iterator[None]:
    """Hold an exclusive flock on ``lock_file``; print ``waiting`` if someone else holds it.
    The file is opened without truncating it and never through a symbolic link."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if lock_file.is_symlink():
            raise RepositoryError(f"lock file {lock_file} is a symbolic link: remove it (calcat-git never follows "
                                  "one)") from None
        raise RepositoryError(f"cannot open lock file {lock_file}: {exc.strerror}") from None
    with os.fdopen(fd, "r+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"calcat-git: {waiting}", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
