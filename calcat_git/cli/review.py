"""Pull-request commands: check, diff, codeowners."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import click

from calcat_git.catalog.catalog import Catalog
from calcat_git.cli.common import JSON_OPTION, REPO_OPTION, emit_json
from calcat_git.files.codeowners import render
from calcat_git.files.config import load_config
from calcat_git.git.repo import GitRepo
from calcat_git.review.rules import prepare, review
from calcat_git.review.summary import markdown, summary

GRACE_OPTION = click.option("--grace-hours", default=24.0, show_default=True,
                            help="A change valid earlier than its commit by more than this is backdated.")


@click.command()
@click.option("--base", required=True, help="The branch or commit the change goes into (e.g. origin/main).")
@click.option("--head", default="HEAD", show_default=True, help="The change's commit.")
@REPO_OPTION
@GRACE_OPTION
@JSON_OPTION
def check(base: str, head: str, repo: str, grace_hours: float, as_json: bool) -> None:
    """Check a change (a pull request) against its base.

    Runs every validation check on HEAD, then the change rules: CCVs on the base are
    never edited or removed (only good_quality/deployed flip); batch files are only
    added; a PDU that was ever mapped is retired, not deleted, and keeps its identity;
    past mapping changes are not rewritten without `correction:`; backdated changes
    and files that are not catalog data are reported; CODEOWNERS is up to date.
    Exit code 1 if there are errors (warnings do not fail).
    """
    problems = review(prepare(GitRepo(repo), base, head, timedelta(hours=grace_hours)))
    if as_json:
        emit_json({"ok": not any(p.severity == "error" for p in problems), "problems": [p.to_dict() for p in problems]})
    else:
        for problem in problems:
            click.echo(str(problem))
        errors = sum(p.severity == "error" for p in problems)
        click.echo(f"{errors} error(s), {len(problems) - errors} warning(s)", err=bool(errors))
    if any(p.severity == "error" for p in problems):
        sys.exit(1)


@click.command()
@click.argument("base")
@click.argument("head", default="HEAD")
@REPO_OPTION
@GRACE_OPTION
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
def diff(base: str, head: str, repo: str, grace_hours: float, fmt: str) -> None:
    """Summarise a change for reviewers (post it as a PR comment).

    Problems from `check` first; then mapping changes per detector as sentences
    (old → new PDU, from when, backdated by how much); PDUs added, retired or moved
    between detectors; constants added by detector, calibration and report; flags flipped.
    """
    change = prepare(GitRepo(repo), base, head, timedelta(hours=grace_hours))
    data = summary(change, review(change))
    if fmt == "json":
        emit_json(data)
    else:
        click.echo(markdown(data), nl=False)


@click.command()
@REPO_OPTION
@click.option("--check", "check_only", is_flag=True, help="Only check: exit 1 if CODEOWNERS is out of date.")
def codeowners(repo: str, check_only: bool) -> None:
    """Write CODEOWNERS from the registry (working tree).

    Each detector's experts own its mapping file and constants folder; the admins
    listed in calcat-git.yaml own PDUs, detector types, calibrations, parameters,
    instruments and detectors.
    """
    text = render(Catalog.open(repo, worktree=True).registry, list(load_config(repo).get("admins", [])))
    target = Path(repo) / "CODEOWNERS"
    current = target.read_text("utf-8") if target.exists() else None
    if check_only:
        if current != text:
            click.echo("error: CODEOWNERS is out of date: run `calcat-git codeowners`", err=True)
            sys.exit(1)
        click.echo("CODEOWNERS is up to date")
        return
    target.write_text(text, "utf-8")
    click.echo(f"wrote {target} ({text.count(chr(10)) - 1} rules)")

