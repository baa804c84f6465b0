"""What ``calcat-git serve`` serves: the newest commit of a branch, followed as it moves.

The branch head is re-checked on every request (a ``stat`` of the ref files; the head is
read again only when they changed, or every ``RECHECK_SECONDS``). A commit that brings a
file the catalog cannot read is not served: the last good commit stays and ``problem``
says why.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.git.repo import GitRepo
from calcat_git.server.view import CalcatView
from calcat_git.timeutil import facility_zone

RECHECK_SECONDS = 5.0  # read the head at least this often, even if the ref files look unchanged
log = logging.getLogger("calcat_git.server.app")


@dataclass(frozen=True)
class ServeConfig:
    repo: str = "."
    branch: str | None = None
    store_prefix: str = ""  # the store root + "/", for reports' absolute file_path
    facility_tz: str = "Europe/Berlin"
    strict_snapshots: bool = False


class Following:
    """The newest commit of the branch as a :class:`CalcatView`, re-opened when it moves."""

    def __init__(self, config: ServeConfig, seeks: bool = True) -> None:
        self.config = config
        self.seeks = seeks  # keep seeks in memory (a serving process; not the start-up check)
        self.zone = facility_zone(config.facility_tz)
        self.repo = GitRepo(config.repo)
        self.rev = self.repo.resolve_branch(config.branch)
        common = self.repo.common_dir()
        ref = f"refs/heads/{self.rev}"
        if self.rev == "HEAD":  # follow the branch HEAD points at, if any
            ref = self.repo.symbolic_head() or "HEAD"
        self._watched = [self.repo.git_dir / "HEAD", common / "packed-refs", common / ref]
        self._signature = self._stat()
        self._checked = time.monotonic()
        self._refused: str | None = None  # a head not served (see problem)
        self.problem: str | None = None
        self._view = self._open()
        self._preload(self._view, background=False)  # before the first request: seeks in memory from the start

    def _stat(self) -> tuple[tuple[int, int, int] | None, ...]:
        out: list[tuple[int, int, int] | None] = []
        for path in self._watched:
            try:
                st = path.stat()
                out.append((st.st_mtime_ns, st.st_ino, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def _open(self) -> CalcatView:
        """A view of the branch head (the index updated first)."""
        return CalcatView(Catalog.open(self.config.repo, branch=self.rev), self.zone, self.config.store_prefix)

    def _preload(self, view: CalcatView, background: bool = True) -> None:
        """The served view's seeks go to memory (a server lives long), built on a thread for
        a new commit, so requests are answered meanwhile (through SQL)."""
        if self.seeks:
            view.backend.preload_seeks(background=background)

    def view(self) -> CalcatView:
        """The view of the branch head, re-opened (index updated) if the head moved."""
        signature, now = self._stat(), time.monotonic()
        if signature != self._signature or now - self._checked > RECHECK_SECONDS:
            self._signature, self._checked = signature, now
            head = self.repo.rev_parse(self.rev)
            if head not in (self._view.catalog.commit, self._refused):
                self._follow(head)
        return self._view

    def _follow(self, head: str) -> None:
        """Serve ``head``, unless a commit since the served one brought a file the catalog
        cannot read (e.g. a submodule): then keep the last good commit and say why."""
        view = self._open()
        old, new = self._view.backend, view.backend
        found = new.index.invalid_between(old.seq, new.seq) if (
            isinstance(old, IndexedSnapshot) and isinstance(new, IndexedSnapshot)) else []
        problems = [text for path, text in found if self.repo.has_path(head, path)]
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self._refused = head
            self.problem = f"commit {head[:12]} not served: {problems[0]}{more}".encode("ascii", "backslashreplace").decode()
            log.warning("%s; still serving %s", self.problem, self._view.catalog.commit)
            return
        self._preload(view)  # only a view that will be served
        self._view, self._refused, self.problem = view, None, None
        log.info("now serving commit %s", view.catalog.commit)
