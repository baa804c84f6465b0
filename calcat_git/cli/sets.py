"""Published sets: ``calcat-git tag`` and ``calcat-git tags`` (attached in ``cli``).

Publishing validates a commit and makes an annotated tag (a tag is never moved or
deleted); invalidating writes ``published-sets.yaml`` through the edit path (``_write``,
the one step that writes).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.sets import SETS_FILE, Invalidation, with_invalidation
from calcat_git.catalog.snapshot import IndexedSnapshot
from calcat_git.cli.common import BRANCH_OPTION, JSON_OPTION, REPO_OPTION, Snapshot, emit_json
from calcat_git.edit.change import Change
from calcat_git.errors import CatalogInvalidError, InvalidInputError, NotFoundError, closest_names
from calcat_git.git.repo import GitRepo
from calcat_git.timeutil import now_utc


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
    root = Path(repo)
    if invalidate:
        if reason is None or message is not None or snapshot_at is not None:
            raise InvalidInputError("--invalidate takes --reason TEXT (and no -m or --snapshot-at)")
        if do_commit and new_branch:
            raise InvalidInputError("give --commit or --branch, not both")
        commit = _invalidate(root, name, reason, new_branch, do_commit)
        where = f"committed {commit[:12]}" + (f" on new branch {new_branch}" if new_branch else "") if commit else \
            "written (not committed): commit published-sets.yaml"
        click.echo(f"published set {name} marked invalid in published-sets.yaml; {where}")
        return
    if message is None or reason is not None or do_commit or new_branch:
        raise InvalidInputError("publishing takes -m MESSAGE (--reason, --commit and --branch go with "
                                "--invalidate)")
    commit, warnings = _publish(root, name, snapshot_at, message)
    noted = f" ({warnings} warning(s): `calcat-git validate` lists them)" if warnings else ""
    click.echo(f"published set {name}: commit {commit[:12]} validates{noted}; push it with `git push origin {name}`")


@click.command()
@REPO_OPTION
@BRANCH_OPTION
@JSON_OPTION
def tags(repo: str, branch: str | None, as_json: bool) -> None:
    """List the published sets (git tags): commit, commit time, state (published, invalid)."""
    found = Catalog.open(Path(repo), branch=branch, index=False).published_sets()
    if as_json:
        emit_json(found)
        return
    for entry in found:
        why = f": {entry['invalid']['reason']}" if "invalid" in entry else ""
        click.echo(f"{entry['name']:20} {entry['commit'][:12]}  {entry['committed_at']}  {entry['state']}{why}")
    if not found:
        click.echo("no published sets: `calcat-git tag NAME -m MESSAGE` publishes one")


def _text(value: str, what: str) -> str:
    if not value.strip() or not value.isprintable():
        raise InvalidInputError(f"{what} must be printable text on one line, not {value[:40]!r}")
    return value.strip()


def _publish(root: Path, name: str, snapshot: datetime | str | None, message: str, branch: str | None = None
            ) -> tuple[str, int]:
    """Tag the commit ``snapshot`` names (default: the newest of ``branch``) as the published
    set ``name``, once its catalog validates; the commit and how many problems were warnings."""
    message = _text(message, "-m MESSAGE")
    newest = Catalog.open(root, branch=branch)
    pinned = newest.at(snapshot) if snapshot is not None else newest
    commit = pinned.commit
    assert commit is not None
    if not isinstance(pinned.backend, IndexedSnapshot):
        raise InvalidInputError(f"commit {commit[:12]} is not on the first-parent history of {newest.revision}: a "
                                "published set is a state the catalog had there (pass --snapshot-at a time, or a "
                                "commit of that history)")
    problems = pinned.validate()
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise CatalogInvalidError(f"commit {commit[:12]} does not validate ({len(errors)} problem(s)), not published: "
                                  + "; ".join(str(p) for p in errors[:3]), errors)
    GitRepo(root).create_tag(name, commit, message)
    return commit, len(problems) - len(errors)


def _invalidate(root: Path, name: str, reason: str, branch: str | None = None, commit: bool = False) -> str | None:
    """Mark the published set ``name`` invalid in ``published-sets.yaml`` (written, and
    committed on the new ``branch`` or with ``commit``); the tag itself stays."""
    reason = _text(reason, "--reason")
    names = [t["name"] for t in GitRepo(root).tags()]
    if name not in names:
        raise NotFoundError(f"no published set {name!r}{closest_names(name, names)}: `calcat-git tags` lists them")
    message = f"published set {name} marked invalid: {reason}"
    with Change(root, message, branch=branch, commit=commit or branch is not None) as change:
        change.put(SETS_FILE, with_invalidation(change.read(SETS_FILE),
                                                Invalidation(name, reason, now_utc().replace(microsecond=0))))
    return change.written.commit if change.written else None
