"""What ``calcat-git serve`` serves: the newest commit of a branch that loads, followed as
the branch moves.

The branch head is re-checked on every request (a ``stat`` of the ref files; the head is
read again only when they changed, or every ``RECHECK_SECONDS``). A commit is served only
if every catalog file in it loads. Otherwise the commit served so far stays (at start: the
newest commit of the branch that loads; with none, every request is answered 503), and
``problem`` says why, in plain printable ASCII of bounded length (it goes into a header
and the log). Whenever the head changes — a new commit, a force-push, the branch deleted
— the problem is worked out anew. An index found damaged while serving is rebuilt, and
the same commit served again from it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from calcat_git.catalog.broken import summary
from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.errors import CalcatGitError, InvalidInputError, NotFoundError, RepositoryError
from calcat_git.git.repo import GitRepo
from calcat_git.server.view import CalcatView
from calcat_git.timeutil import facility_zone

PINNED_VIEWS = 8  # views of revisions asked by URL kept (each a few MB of caches)
RECHECK_SECONDS = 5.0  # read the head at least this often, even if the ref files look unchanged
MAX_PROBLEM_CHARS = 512  # of the problem header (a Python client refuses a header line over 64 KiB)
log = logging.getLogger("calcat_git.server.app")


def printable(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    """``text`` as printable ASCII of at most ``limit`` characters: anything else escaped
    (``\\n``, ``\\xe4``), the end cut with ``...``."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    out = "".join(c if " " <= c <= "~" else repr(c)[1:-1] for c in escaped)
    return out if len(out) <= limit else out[:limit - 3] + "..."


class Unavailable(CalcatGitError):
    """Nothing can be served: no commit of the branch loads, or the branch cannot be read."""


@dataclass(frozen=True)
class ServeConfig:
    repo: str = "."
    branch: str | None = None
    store_prefix: str = ""  # the store root + "/", for reports' absolute file_path
    facility_tz: str = "Europe/Berlin"
    strict_snapshots: bool = False
    max_connections: int = 512  # open connections per process (see guard)
    header_timeout: float = 10.0  # seconds to send a request's line and headers
    body_timeout: float = 30.0  # seconds from the headers to the end of the body


class Following:
    """The newest loading commit of the branch as a :class:`CalcatView`, re-opened when it moves."""

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
        self._seen: str | None = None  # the branch head last looked at
        self._view: CalcatView | None = None
        self._pinned: dict[tuple[str, str], CalcatView] = {}  # (served commit, revision) → view, LRU
        self.problem: str | None = None
        self._look()

    def _stat(self) -> tuple[tuple[int, int, int] | None, ...]:
        out: list[tuple[int, int, int] | None] = []
        for path in self._watched:
            try:
                st = path.stat()
                out.append((st.st_mtime_ns, st.st_ino, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    @property
    def served(self) -> str | None:
        """The commit served now (None: nothing is)."""
        return self._view.catalog.commit if self._view is not None else None

    def view(self) -> CalcatView:
        """The view served now, after re-reading the head if it may have moved;
        :class:`Unavailable` if there is none."""
        signature, now = self._stat(), time.monotonic()
        if signature != self._signature or now - self._checked > RECHECK_SECONDS:
            self._signature, self._checked = signature, now
            self._look()
        if self._view is None:
            raise Unavailable(f"nothing to serve: {self.problem}")
        return self._view

    def view_at(self, revision: str) -> CalcatView:
        """The view of the catalog at ``revision`` (a commit, tag, branch or time, resolved in
        the served catalog), for a client pinned by URL (``/at/<revision>/api/…``)."""
        served = self.view()
        key = (served.catalog.commit or "", revision)
        view = self._pinned.pop(key, None)
        if view is None:
            try:
                catalog = served.catalog.at(revision)
            except (InvalidInputError, RepositoryError) as exc:
                raise NotFoundError(f"Resource not found! {exc}") from None
            if not isinstance(catalog.backend, IndexedSnapshot):
                raise NotFoundError(f"Resource not found! {revision!r} is commit {catalog.commit}, which is not on the "
                                    f"first-parent history of {self.rev}: the server answers from that history only")
            broken = catalog.broken_files()
            if broken:
                raise Unavailable(f"{revision!r} is commit {(catalog.commit or '')[:12]}, whose catalog does not load: "
                                  f"{summary(broken)}")
            view = CalcatView(catalog, self.zone, self.config.store_prefix)
        self._pinned[key] = view  # newest last
        while len(self._pinned) > PINNED_VIEWS:
            self._pinned.pop(next(iter(self._pinned)))
        return view

    def _look(self) -> None:
        """Read the branch head; follow it if it changed."""
        try:
            head = self.repo.rev_parse(self.rev)
        except CalcatGitError as exc:
            self._seen = None
            self._say(f"branch {self.rev} cannot be read ({exc})")
            return
        if head == self._seen:
            return
        self._seen = head
        if self._view is not None and head == self._view.catalog.commit:
            self._say(None)  # e.g. a force-push back to the commit served
            return
        self._follow(head)

    def _follow(self, head: str) -> None:
        """Serve ``head`` if its catalog loads; else keep what is served (at start: the
        newest loading commit of the branch) and say why."""
        try:
            catalog = Catalog.open(self.config.repo, branch=self.rev)
        except CalcatGitError as exc:
            self._say(f"commit {head[:12]} not served: {exc}")
            return
        broken = catalog.broken_files()
        if not broken:
            self._serve(catalog)
            self._say(None)
            return
        if self._view is None:
            good = catalog.last_loading()
            if good is not None:
                self._serve(good)
        self._say(f"commit {(catalog.commit or head)[:12]} not served: {len(broken)} file(s) do not load: "
                  f"{summary(broken)}")

    def _serve(self, catalog: Catalog) -> None:
        view = CalcatView(catalog, self.zone, self.config.store_prefix)
        if self.seeks:  # a serving process keeps seeks in memory, built on a thread (SQL answers meanwhile)
            view.backend.preload_seeks(background=self._view is not None)
        self._view = view
        log.info("now serving commit %s", catalog.commit)

    def _say(self, problem: str | None) -> None:
        """Set the problem (None: there is none), with what is served instead, and log it."""
        if problem is None:
            self.problem = None
            return
        served = self.served
        where = f"; serving {served[:12]}" if served else "; nothing is served (503)"
        said, self.problem = self.problem, printable(problem + where)
        if self.problem != said:  # logged once, not on every re-check
            log.warning("%s", self.problem)

    def recover(self, error: Exception) -> None:
        """The index failed under a request (damaged in place): build it anew and serve the
        same commit from it."""
        served = self.served
        reason = printable(f"the index failed ({type(error).__name__}: {error}) and was rebuilt")
        log.error("%s", reason)
        try:
            catalog = Catalog.open(self.config.repo, branch=self.rev, rebuild=True)
            self._serve(catalog.at(served) if served else catalog)
        except (CalcatGitError, ValueError) as exc:
            self._view = None
            self._say(f"{reason}; rebuilding failed: {exc}")
            return
        self._seen = None  # look at the head again on the next request
        self._signature = ()
