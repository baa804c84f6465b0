"""Validity of the catalog's files: validate, schema."""

from __future__ import annotations

import sys
from typing import Any

import click

from calcat_git.catalog.catalog import Catalog
from calcat_git.cli.common import emit_json
from calcat_git.files.examples import example_text
from calcat_git.files.schema import schema_text
from calcat_git.git.repo import GitRepo
from calcat_git.validation.incremental import validate_worktree
from calcat_git.validation.run import all_check_names


@click.command()
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
    if changed_since is None:
        done = validate_worktree(path, skip)
        problems, reg, batches, ccvs = done.problems, done.registry, done.batches, done.ccvs
        cached = done.cached_batches
        note = f"; {cached} unchanged constants file(s) checked before, not read again" if cached else ""
    else:
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


@click.command()
@click.argument("kind")
@click.option("--example", is_flag=True, help="Print a valid, commented YAML example instead of the schema.")
def schema(kind: str, example: bool) -> None:
    """Print the JSON Schema of a file KIND (or, with --example, an example file).

    KIND is one of: detector_type, calibration, parameter, instrument, pdu,
    detector, mapping, constants.
    """
    click.echo(example_text(kind) if example else schema_text(kind), nl=False)
