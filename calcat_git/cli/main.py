"""The ``calcat-git`` command line. Imports are lazy so that start-up stays fast."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from calcat_git.cli.common import emit_json, event_at_option, snapshot_at_option, source_text


class _Group(click.Group):
    """Turns our own exceptions into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from calcat_git.errors import CalcatGitError

        try:
            return super().invoke(ctx)
        except CalcatGitError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calcat-git")
def main() -> None:
    """calcat-git: a calibration catalog kept as validated YAML in git.

    Run a command with --help to learn more, e.g. `calcat-git validate --help`.
    """


@main.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print problems as JSON.")
@click.option("--list", "list_checks", is_flag=True, help="List the checks and exit.")
@click.option("--skip", multiple=True, metavar="CHECK", help="Skip a check (repeatable).")
@click.option("--changed-since", default=None, metavar="REV",
              help="Read only the constants files that differ from commit REV (changed, staged or new), "
                   "with every registry file: the pre-commit hook uses HEAD.")
def validate(path: str, as_json: bool, list_checks: bool, skip: tuple[str, ...], changed_since: str | None) -> None:
    """Validate the catalog files under PATH (default: the current folder).

    Reads the working tree as it is on disk, runs every check and reports all
    problems at once as FILE:LINE: FIELD: MESSAGE [CHECK]. Exit code 1 if any.
    With --changed-since, constants files unchanged since REV are not read (a large
    catalog checks in about a second; `check` reviews the whole change in CI).
    """
    from calcat_git.validation.run import all_check_names

    if list_checks:
        for name, doc in all_check_names().items():
            click.echo(f"{name:20} {doc}")
        return
    problems, counts, note = _validate(path, skip, changed_since)
    if as_json:
        emit_json({"ok": not problems, "counts": counts, "problems": [p.to_dict() for p in problems]})
    else:
        for problem in problems:
            click.echo(str(problem))
        summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
        summary += note
        files = len({p.file for p in problems})
        verdict = f"{len(problems)} problem(s) in {files} file(s)" if problems else "valid"
        click.echo(f"{verdict}: {summary}", err=bool(problems))
    if problems:
        sys.exit(1)


def _validate(path: str, skip: tuple[str, ...], changed_since: str | None) -> tuple[Any, dict[str, int], str]:
    """Problems, counts and a note on what was not read."""
    from calcat_git.catalog.catalog import Catalog
    from calcat_git.validation.incremental import validate_worktree

    if changed_since is None:
        done = validate_worktree(path, skip)
        problems, reg, batches, ccvs = done.problems, done.registry, done.batches, done.ccvs
        cached = done.cached_batches
        note = f"; {cached} unchanged constants file(s) checked before, not read again" if cached else ""
    else:
        from calcat_git.git.repo import GitRepo

        changed = GitRepo(path).changed_in_worktree(changed_since, ["constants_index"])
        catalog = Catalog.open(path, worktree=True, batches=changed)
        problems, reg = catalog.validate(skip), catalog.registry
        batches, ccvs = len(reg.batches), sum(len(b.constants) for b in reg.batches.values())
        note = f"; {len(reg.unread)} constants file(s) unchanged since {changed_since} not read"
    counts = {
        "detector_types": len(reg.detector_types), "detectors": len(reg.detectors),
        "pdus": len(reg.pdus), "mappings": len(reg.mappings), "constant_batches": batches, "ccvs": ccvs,
    }
    return problems, counts, note


@main.command()
@click.argument("kind")
@click.option("--example", is_flag=True, help="Print a valid, commented YAML example instead of the schema.")
def schema(kind: str, example: bool) -> None:
    """Print the JSON Schema of a file KIND (or, with --example, an example file).

    KIND is one of: detector_type, calibration, parameter, instrument, pdu,
    detector, mapping, constants.
    """
    from calcat_git.files.examples import example_text
    from calcat_git.files.schema import schema_text

    click.echo(example_text(kind) if example else schema_text(kind), nl=False)


@main.command()
@click.argument("detector")
@event_at_option(old=("--at",))
@snapshot_at_option()
@click.option("--repo", default=".", show_default=True, type=click.Path(file_okay=False), help="Catalog root.")
@click.option("--branch", default=None, help="Branch to read [default: main, else HEAD].")
@click.option("--worktree", is_flag=True, help="Read the files on disk instead of git (uncommitted edits).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def mapping(detector: str, event_at: datetime, snapshot_at: datetime | str | None, repo: str, branch: str | None,
            worktree: bool, as_json: bool) -> None:
    """Print which PDU sits in each module slot of DETECTOR at a time.

    --event-at picks the validity time; --snapshot-at picks what the catalog knew then
    (`--snapshot-at` equal to `--event-at` reproduces classic CALCAT answers).
    """
    from calcat_git.catalog.catalog import Catalog
    from calcat_git.timeutil import format_timestamp

    moment = event_at
    catalog = Catalog.open(repo, branch=branch, worktree=worktree)
    if snapshot_at is not None:
        catalog = catalog.at(snapshot_at)
    modules = catalog.mapping(detector, at=moment)
    names = {m.aggregator: m.virtual_device_name for m in catalog.detector(detector).modules}
    committed = format_timestamp(catalog.committed_at) if catalog.committed_at else None
    if as_json:
        emit_json({"detector": detector, "at": format_timestamp(moment), "commit": catalog.commit,
                   "committed_at": committed, "modules": modules, "module_names": names})
        return
    click.echo(f"{detector} at {format_timestamp(moment)} (read from {source_text(catalog)})")
    width = max((len(n or "") for n in names.values()), default=0)
    for aggregator, pdu in modules.items():
        name = f"{names.get(aggregator) or '':<{width}}  " if width else ""
        click.echo(f"  {aggregator}  {name}{pdu or '(empty)'}")


def _attach() -> None:
    from calcat_git.cli.calcat import import_calcat
    from calcat_git.cli.constants import conditions, explain, inject, lookup, verify_store
    from calcat_git.cli.edit import add_calibration, add_detector, add_parameter, add_pdu, flag, swap
    from calcat_git.cli.history import history, index_command, snapshot, verify_history
    from calcat_git.cli.init import init
    from calcat_git.cli.pdus import pdus
    from calcat_git.cli.review import check, codeowners, diff
    from calcat_git.cli.serve import serve
    from calcat_git.cli.site import site

    for command in (snapshot, history, verify_history, index_command, lookup, explain, conditions, inject,
                    verify_store,
                    check, diff, codeowners, site, import_calcat, serve, swap, add_pdu,
                    add_calibration, add_parameter, add_detector, flag, init, pdus):
        main.add_command(command)


_attach()
