"""Time-travel commands: mapping, snapshot, history, verify-history, index."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

import click

from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.history import verify_history as verify
from calcat_git.cli.common import (
    BRANCH_OPTION,
    JSON_OPTION,
    REPO_OPTION,
    emit_json,
    event_at_option,
    snapshot_at_option,
    source_text,
    warn,
)
from calcat_git.git.repo import GitRepo
from calcat_git.index.reader import Index
from calcat_git.index.schema import index_path
from calcat_git.timeutil import format_span, format_timestamp


@click.command()
@click.argument("detector")
@event_at_option(old=("--at",))
@snapshot_at_option()
@REPO_OPTION
@BRANCH_OPTION
@click.option("--worktree", is_flag=True, help="Read the files on disk instead of git (uncommitted edits).")
@JSON_OPTION
def mapping(detector: str, event_at: datetime, snapshot_at: datetime | str | None, repo: str, branch: str | None,
            worktree: bool, as_json: bool) -> None:
    """Print which PDU sits in each module slot of DETECTOR at a time.

    --event-at picks the validity time; --snapshot-at picks what the catalog knew then
    (`--snapshot-at` equal to `--event-at` reproduces classic CALCAT answers).
    """
    catalog = Catalog.open(repo, branch=branch, worktree=worktree)
    if snapshot_at is not None:
        catalog = catalog.at(snapshot_at)
    problems = catalog.check_loads(detector)
    warn(problems)
    modules = catalog.mapping(detector, at=event_at)
    names = {m.aggregator: m.virtual_device_name for m in catalog.detector(detector).modules}
    committed = format_timestamp(catalog.committed_at) if catalog.committed_at else None
    if as_json:
        emit_json({"detector": detector, "at": format_timestamp(event_at), "commit": catalog.commit,
                   "committed_at": committed, "modules": modules, "module_names": names}
                  | ({"tag": catalog.tag} if catalog.tag else {})
                  | ({"problems": [{"message": p, "severity": "warning"} for p in problems]} if problems else {}))
        return
    click.echo(f"{detector} at {format_timestamp(event_at)} (read from {source_text(catalog)})")
    width = max((len(n or "") for n in names.values()), default=0)
    for aggregator, pdu in modules.items():
        name = f"{names.get(aggregator) or '':<{width}}  " if width else ""
        click.echo(f"  {aggregator}  {name}{pdu or '(empty)'}")


@click.command()
@click.argument("when")
@REPO_OPTION
@BRANCH_OPTION
@JSON_OPTION
def snapshot(when: str, repo: str, branch: str | None, as_json: bool) -> None:
    """Show which commit answers for WHEN: a time with Z or an offset (the newest commit on
    the first-parent history of the branch whose committer time is at or before it), or a
    revision: a commit sha, a published set (tag) or a branch (that commit exactly).
    """
    newest = Catalog.open(repo, branch=branch)
    commit, pinned = newest.snapshot(when), newest.at(when)
    warn(pinned.notes)
    if as_json:
        emit_json({"at": when, "commit": commit.sha, "committed_at": format_timestamp(commit.committed_at)}
                  | ({"tag": pinned.tag} if pinned.tag else {}))
    else:
        tag = f"  (published set {pinned.tag})" if pinned.tag else ""
        click.echo(f"{commit.sha}  {format_timestamp(commit.committed_at)}  {commit.message}{tag}")


@click.command()
@click.argument("name")
@REPO_OPTION
@BRANCH_OPTION
@click.option("--grace-hours", default=24.0, show_default=True,
              help="A change whose validity starts earlier than its commit by more than this is backdated.")
@JSON_OPTION
def history(name: str, repo: str, branch: str | None, grace_hours: float, as_json: bool) -> None:
    """Every mapping change of a detector, or naming a PDU, with both clocks.

    Each line: validity 'from', the commit that introduced the change, its committer
    time and author, and BACKDATED when the change re-maps data taken before it was
    committed.
    """
    entries = Catalog.open(repo, branch=branch).history(name, grace=timedelta(hours=grace_hours))
    if as_json:
        emit_json({"name": name, "changes": [e.to_dict() for e in entries]})
        return
    for e in entries:
        slots = ", ".join(f"{agg}={pdu or '(empty)'}" for agg, pdu in e.modules)
        flag = f"  BACKDATED by {format_span(e.backdated_by)}" if e.backdated else ""
        click.echo(f"{format_timestamp(e.valid_from)}  {e.detector}: {slots}{flag}")
        click.echo(f"    {e.commit[:12]} {format_timestamp(e.committed_at)} {e.author}: {e.message}")


@click.command("verify-history")
@REPO_OPTION
@BRANCH_OPTION
@click.option("--since", default=None, metavar="SHA", help="Only check commits after SHA.")
def verify_history(repo: str, branch: str | None, since: str | None) -> None:
    """Check that transaction time can be trusted.

    First-parent committer times never decrease and are not in the future (later than
    now plus 10 minutes of clock skew), and the branch only grows: the head recorded
    by the previous run (in .git/calcat-git/) is still an ancestor.
    Exit code 1 with one line per problem otherwise.
    """
    git = GitRepo(repo)
    rev = git.resolve_branch(branch)
    problems = verify(git, rev, since)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(f"ok: history of {rev} is append-only with non-decreasing committer times")


@click.command("index")
@REPO_OPTION
@BRANCH_OPTION
@click.option("--rebuild", is_flag=True, help="Throw the index away and build it from scratch.")
@JSON_OPTION
def index_command(repo: str, branch: str | None, rebuild: bool, as_json: bool) -> None:
    """Build or update the index of a catalog repository and show what it holds.

    The index is a cache in .git/calcat-git/: every command builds or updates it when
    needed (only files changed since the last run are parsed), so running this is
    optional. A damaged, foreign or outdated index is rebuilt automatically.
    """
    git = GitRepo(repo)
    rev = git.resolve_branch(branch)
    if rebuild:
        index_path(git, rev).unlink(missing_ok=True)
    start = time.perf_counter()
    idx = Index.open(git, rev)
    seq, head = idx.latest()
    report = {"path": str(idx.path), "branch": rev, "commit": head.sha, "committed_at": format_timestamp(head.committed_at),
              "commits": seq + 1, "counts": idx.counts(seq), "invalid_files": idx.invalid_files,
              "last_build": idx.last_build[0], "files_parsed": idx.last_build[1],
              "seconds": round(time.perf_counter() - start, 3)}
    if as_json:
        emit_json(report)
        return
    for key, value in report.items():
        click.echo(f"{key:14} {value}")
