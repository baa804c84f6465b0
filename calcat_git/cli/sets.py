"""Published sets: ``calcat-git tag`` and ``calcat-git tags`` (attached in ``cli``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from calcat_git.cli.common import BRANCH_OPTION, JSON_OPTION, REPO_OPTION, Snapshot, emit_json


@click.command()
@click.argument("name")
@click.option("--snapshot-at", default=None, type=Snapshot("--snapshot-at"),
              help="The commit to publish: a time, commit, tag or branch [default: the newest].")
@click.option("-m", "--message", default=None, help="What the set is for (the tag's message).")
@click.option("--invalidate", is_flag=True, help="Mark the published set NAME invalid (it stays: look-ups warn).")
@click.option("--reason", default=None, help="Why the set is invalid (with --invalidate).")
@click.option("--commit", "do_commit", is_flag=True, help="With --invalidate: commit on the current branch.")
@click.option("--branch", "new_branch", default=None, metavar="NAME",
              help="With --invalidate: create this branch from HEAD, switch to it and commit there.")
@REPO_OPTION
def tag(name: str, snapshot_at: datetime | str | None, message: str | None, invalidate: bool, reason: str | None,
        do_commit: bool, new_branch: str | None, repo: str) -> None:
    """Publish a named set: the catalog at one commit, as an annotated git tag NAME.

    The commit (--snapshot-at, default the newest of main) must validate; an existing
    tag is never moved or deleted. Look up against the set with --snapshot-at NAME (or
    Catalog.at("NAME"), or a server URL http://HOST:PORT/at/NAME). Push it with
    `git push origin NAME`.

    With --invalidate --reason TEXT the set is marked invalid in published-sets.yaml
    (written; with --commit or --branch committed): look-ups pinned to it still
    answer, and warn.
    """
    from calcat_git.edit import sets
    from calcat_git.errors import InvalidInputError

    root = Path(repo)
    if invalidate:
        if reason is None or message is not None or snapshot_at is not None:
            raise InvalidInputError("--invalidate takes --reason TEXT (and no -m or --snapshot-at)")
        if do_commit and new_branch:
            raise InvalidInputError("give --commit or --branch, not both")
        commit = sets.invalidate(root, name, reason, new_branch, do_commit)
        where = f"committed {commit[:12]}" + (f" on new branch {new_branch}" if new_branch else "") if commit else \
            "written (not committed): commit published-sets.yaml"
        click.echo(f"published set {name} marked invalid in published-sets.yaml; {where}")
        return
    if message is None or reason is not None or do_commit or new_branch:
        raise InvalidInputError("publishing takes -m MESSAGE (--reason, --commit and --branch go with "
                                "--invalidate)")
    commit, warnings = sets.publish(root, name, snapshot_at, message)
    noted = f" ({warnings} warning(s): `calcat-git validate` lists them)" if warnings else ""
    click.echo(f"published set {name}: commit {commit[:12]} validates{noted}; push it with `git push origin {name}`")


@click.command()
@REPO_OPTION
@BRANCH_OPTION
@JSON_OPTION
def tags(repo: str, branch: str | None, as_json: bool) -> None:
    """List the published sets (git tags): commit, commit time, state (published, invalid)."""
    from calcat_git.edit.sets import published

    found = published(Path(repo), branch)
    if as_json:
        emit_json(found)
        return
    for entry in found:
        why = f": {entry['invalid']['reason']}" if "invalid" in entry else ""
        click.echo(f"{entry['name']:20} {entry['commit'][:12]}  {entry['committed_at']}  {entry['state']}{why}")
    if not found:
        click.echo("no published sets: `calcat-git tag NAME -m MESSAGE` publishes one")
