"""What every command shares: options, time parameters parsed before any catalog is opened
(``now`` is the default of the validity time here, and only here, on the command line),
and JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from calcat_git.git.refs import SHA_LIKE
from calcat_git.timeutil import format_timestamp, now_utc, parse_timestamp

REPO_OPTION = click.option("--repo", default=".", show_default=True, type=click.Path(file_okay=False),
                           help="Catalog repository.")
BRANCH_OPTION = click.option("--branch", default=None, help="Branch to read [default: main, else HEAD].")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
STORE_OPTION = click.option("--store", default=None, type=click.Path(file_okay=False),
                            help="Constant store root [default: $CALCAT_GIT_STORE, else store: in calcat-git.yaml].")


class Timestamp(click.ParamType[datetime, Any]):
    """An ISO-8601 time with ``Z`` or an offset (or ``now``), parsed when the command line
    is read: a typo fails before any catalog is opened or index built."""

    name = "TIME"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        return now_utc() if value == "now" else parse_timestamp(str(value), self.what)


class Snapshot(click.ParamType[datetime | str, Any]):
    """A snapshot: a time, or a revision (a commit sha, a tag, a branch), as ``Catalog.at``
    takes it; a revision is resolved by git when the catalog is opened."""

    name = "TIME|REV"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime | str:
        if isinstance(value, datetime):
            return value
        text = str(value)
        if SHA_LIKE.match(text):
            return text
        try:
            return parse_timestamp(text, self.what)
        except ValueError:
            return text  # a tag or a branch, or neither: Catalog.at says which


def warn(problems: list[str]) -> None:
    """The problems an answer states (a catalog file that does not load elsewhere, an
    invalid published set), one ``warning:`` line each on stderr."""
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)


class Spelled(click.Option):
    """An option shown in ``--help`` under its first spelling only: the others are older
    spellings, still accepted for a release."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        spellings = self.opts
        self.opts = spellings[:1]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = spellings


F = TypeVar("F", bound=Callable[..., Any])


def event_at_option(old: tuple[str, ...] = (), help: str = "Creation time of the RAW data (validity clock), "
                    "ISO-8601 with Z or an offset, e.g. 2024-05-01T10:00:00Z.") -> Callable[[F], F]:
    """``--event-at``: the validity time, ``now`` by default (the one place a command line defaults it)."""
    return click.option("--event-at", *old, "event_at", cls=Spelled, default="now", show_default=True,
                        type=Timestamp("--event-at time"), help=help)


def snapshot_at_option(old: tuple[str, ...] = (), help: str = "Read the catalog as committed at this time, or at a "
                       "revision (a commit, a published set's tag, a branch) [default: newest]; equal to --event-at "
                       "it answers as classic CALCAT did.") -> Callable[[F], F]:
    """``--snapshot-at``: a time or a revision (transaction clock), the newest commit by default."""
    return click.option("--snapshot-at", *old, "snapshot_at", cls=Spelled, default=None,
                        type=Snapshot("--snapshot-at"), help=help)


def source_text(catalog: Any) -> str:
    """What a reading command read, for its header: the branch, the commit and its time, and
    a warning when that branch is not the one checked out (e.g. after ``swap --branch``)."""
    if catalog.commit is None:
        return "the working tree"
    committed = format_timestamp(catalog.committed_at) if catalog.committed_at else "?"
    text = f"{catalog.revision} at commit {catalog.commit[:12]} of {committed}"
    if catalog.tag:
        text = f"published set {catalog.tag}, commit {catalog.commit[:12]} of {committed}"
    current = catalog.checked_out_branch()
    if current and catalog.revision not in (current, "HEAD"):
        text += f"; the checked-out branch {current!r} is not read: pass --branch {current}"
    return text


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
