"""Constant store commands: inject, verify-store."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from calcat_git.catalog.catalog import Catalog
from calcat_git.cli.common import BRANCH_OPTION, JSON_OPTION, REPO_OPTION, STORE_OPTION, emit_json, snapshot_at_option
from calcat_git.edit.change import inject as run_inject
from calcat_git.store.verify import verify


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--report", "report_path", required=True, help="Store-relative path of the report (PDF) of these constants.")
@click.option("--report-id", type=int, default=None, help="Report id, if the report has one.")
@STORE_OPTION
@click.option("--commit", "do_commit", is_flag=True, help="Commit the new batch file on the checked-out branch.")
@click.option("--branch", default=None, help="Commit the batch onto this branch instead (new, from HEAD, or one that is "
                                             "not checked out); your checkout, index and files stay as they are.")
@REPO_OPTION
@JSON_OPTION
def inject(files: tuple[str, ...], report_path: str, report_id: int | None, store: str | None, do_commit: bool,
           branch: str | None, repo: str, as_json: bool) -> None:
    """Inject constant files (HDF5, pipeline layout) as one new constants batch.

    Checks everything against the registry first (the PDU exists and sits in a slot at
    begin_at, calibration and parameters belong to its type) and validates the catalog
    with the batch; then copies the files into the store under their content-derived
    path and writes constants_index/<detector>/<YYYY>/<stamp>-<slug>.yaml. A failure
    leaves nothing. The checked-out branch takes a batch with --commit, not --branch.

    \b
    Example:
      calcat-git inject dark/r0042_m3.h5 --report xfel/reports/MID/dark_r0042.pdf --report-id 42 \\
          --branch inject/r0042
    """
    result = run_inject(repo, list(files), report_path=report_path, report_id=report_id, store=store,
                        commit=do_commit, branch=branch)
    if as_json:
        emit_json(vars(result))
        return
    click.echo(f"{result.batch_path}: {result.ccvs} constant(s) of {result.detector}; "
               f"{len(result.store_files)} new file(s) in the store" + (f"; commit {result.commit}" if result.commit else ""))


@click.command("verify-store")
@REPO_OPTION
@BRANCH_OPTION
@STORE_OPTION
@snapshot_at_option(old=("--at",), help="Check the files named by the catalog as committed at this time or "
                   "commit [default: newest].")
@click.option("--worktree", is_flag=True, help="Check the files the working tree names.")
@click.option("--jobs", default=4, show_default=True, help="Files checked in parallel.")
@JSON_OPTION
def verify_store(repo: str, branch: str | None, store: str | None, snapshot_at: datetime | str | None, worktree: bool, jobs: int,
                 as_json: bool) -> None:
    """Check that every constant file a snapshot names is in the store, unchanged.

    Lists missing files, files whose sha256 differs and files whose constants would read
    data outside them (external links or storage, virtual datasets, shared objects); exit 1
    if there are any. CCVs imported from CALCAT name no sha256 and are counted as
    unverifiable.
    """
    catalog = Catalog.open(repo, branch=branch, worktree=worktree)
    if snapshot_at is not None:
        catalog = catalog.at(snapshot_at)
    report = verify(catalog, store, jobs)
    if as_json:
        emit_json(report)
    else:
        for path in report["missing"]:
            click.echo(f"missing: {path}")
        for path in report["mismatch"]:
            click.echo(f"checksum differs: {path}")
        for line in report["elsewhere"]:
            click.echo(f"data outside the file: {line}")
        click.echo(f"{report['checked']} file(s) checked in {report['store']}: {len(report['missing'])} missing, "
                   f"{len(report['mismatch'])} differ, {len(report['elsewhere'])} read data outside the file"
                   + (f"; {len(report['unverifiable'])} imported file(s) have no checksum" if report["unverifiable"] else ""))
    if report["missing"] or report["mismatch"] or report["elsewhere"]:
        sys.exit(1)
