"""Group commit: CCVs that arrive while a commit is being made are committed together.

Pipeline jobs inject by the hundred; each commit costs validation, ``check`` and a few
dozen git calls, so one process commits in rounds: a request is checked against its
constant file on its own thread (in parallel), then queued; one committer thread takes
every queued CCV at once, under the write lock. The auto-approved CCVs of one writer
whose report branches wait for no review go into one commit (a batch file per report
and detector) onto ``inject/auto``, checked and merged once; each report's branch is then
moved to the merged commit. Any other CCV, or a round whose commit is refused, goes
the one-by-one way (``ccv.commit_one``), so each answer is what it would be alone.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from calcat_git.edit.change import Change, write_lock
from calcat_git.edit.inject import batch_path
from calcat_git.errors import CalcatGitError
from calcat_git.gateway.approve import Approval, approve, validated
from calcat_git.gateway.auth import Writer
from calcat_git.gateway.ccv import Posted, ccv_reply, commit_one, dump, identify, regroup, report_branch, report_slug, rows_of
from calcat_git.gateway.context import Gateway
from calcat_git.gateway.steps import Created
from calcat_git.git import commits
from calcat_git.model.calcat_ids import ccv_int_id
from calcat_git.model.selection import CCVRow
from calcat_git.server.view import CalcatView
from calcat_git.timeutil import format_timestamp, now_utc

STAGING = "inject/auto"
Outcome = tuple[Created, Approval | None]


@dataclass
class Job:
    view: CalcatView
    posted: Posted
    writer: Writer
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    error: BaseException | None = None


class Committer:
    """The committer thread of one server process (started on the first CCV)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._ready = threading.Condition()
        self._queue: list[Job] = []
        self._thread: threading.Thread | None = None

    def submit(self, view: CalcatView, posted: Posted, writer: Writer) -> Outcome:
        job = Job(view, posted, writer)
        with self._ready:
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="calcat-git committer", daemon=True)
                self._thread.start()
            self._ready.notify()
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.outcome is not None
        return job.outcome

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                group, self._queue = self._queue, []
            try:
                with write_lock(self.gateway.repo):
                    self._round(group)
                    self.gateway.cache.trim()  # keeps what this group's commit parsed: about one catalog
            except BaseException as exc:  # never leave a request waiting
                for job in group:
                    if not job.done.is_set():
                        job.error = exc
            for job in group:
                job.done.set()

    def _round(self, group: list[Job]) -> None:
        repo, served = self.gateway.repo, self.gateway.repo.rev_parse(self.gateway.branch)
        together: dict[Writer, list[Job]] = defaultdict(list)
        alone = []
        merged = repo.merged_branches(served, "inject/")  # one git call for every report branch
        for job in group:
            branch = report_branch(job.posted)
            waiting = branch not in merged and repo.head_ref(branch) is not None
            if job.posted.constant.get("flg_auto_approve") and not waiting:
                together[job.writer].append(job)
            else:
                alone.append(job)
        for jobs in together.values():
            if len(jobs) == 1 or not self._together(jobs):
                alone.extend(jobs)
        for job in alone:
            if job.outcome is None:
                try:
                    job.outcome = commit_one(self.gateway, job.view, job.posted, job.writer)
                except BaseException as exc:
                    job.error = exc

    def _together(self, jobs: list[Job]) -> bool:
        """One commit of ``jobs`` merged into the served branch; False (nothing changed) if refused."""
        repo, gateway = self.gateway.repo, self.gateway
        served = repo.rev_parse(gateway.branch)
        old = repo.head_ref(STAGING)
        if old != served:
            commits.move_branch(repo, STAGING, served, old)
        change = gateway.change(STAGING, jobs[0].writer)
        batches: dict[tuple[int, str], list[tuple[Job, CCVRow]]] = defaultdict(list)
        try:
            for job in jobs:
                detector, mine = identify(change, job.posted)
                if job.view.backend.ccvs_by_int_id(ccv_int_id(mine.ccv_id)):
                    job.outcome = (201, job.view.ccv(ccv_int_id(mine.ccv_id))), None
                    continue
                batches[(job.posted.report_int, detector)].append((job, mine))
            if not batches:
                return True
            written = self._put(change, batches)
            sha = change.commit(f"inject {sum(len(v) for v in batches.values())} constant(s) of {len(batches)} "
                                f"report(s)\n\nthrough CALCAT's API, for {jobs[0].writer.email}")
            assert sha is not None
            reports = {report_branch(items[0][0].posted) for items in batches.values()}
            approval = approve(gateway, STAGING, sha, True, jobs[0].writer, validated(change), change,
                               {name: repo.head_ref(name) for name in sorted(reports)})
        except CalcatGitError:
            for job in jobs:
                job.outcome = None
            return False
        if approval.merged is None:
            commits.move_branch(repo, STAGING, served, sha)
            return False
        self._answer(batches, written, approval.merged)
        return True

    def _put(self, change: Change, batches: dict[tuple[int, str], list[tuple[Job, CCVRow]]]
             ) -> dict[tuple[int, str], tuple[str, dict[str, Any]]]:
        now = format_timestamp(now_utc().replace(microsecond=0))
        written = {}
        for (report_int, detector), items in batches.items():
            posted = items[0][0].posted
            unique = {row.ccv_id: job.posted.entry for job, row in items}
            first = min(job.posted.found.begin_at for job, _ in items)
            path = batch_path(change.draft.exists, detector, first, report_slug(posted.report[1]))
            batch = regroup(detector, posted.report, now, list(unique.values()))
            change.put(path, dump(batch))
            written[(report_int, detector)] = (path, batch)
        return written

    def _answer(self, batches: dict[tuple[int, str], list[tuple[Job, CCVRow]]],
                written: dict[tuple[int, str], tuple[str, dict[str, Any]]], merged: str) -> None:
        records = self.gateway.records  # the report branches moved to the merged commit with the served branch
        for key, items in batches.items():
            path, batch = written[key]
            rows = {r.ccv_id: r for r in rows_of(batch, path)}
            branch = report_branch(items[0][0].posted)
            for job, mine in items:
                records.put("ccv", ccv_int_id(mine.ccv_id), {"branch": branch, "batch": path, "auto": True,
                                                             "cc_id": job.posted.cc_id})
                job.outcome = (201, ccv_reply(job.view, rows[mine.ccv_id])), Approval(branch, merged, "merged")
