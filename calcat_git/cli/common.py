"""What every command group shares: options, time parameters parsed before any catalog is
opened, JSON output, and the markdown reference of ``--help``.

Heavy imports stay inside the commands so that ``calcat-git --help`` starts fast.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from calcat_git.git.refs import SHA_LIKE
from calcat_git.timeutil import now_utc, parse_timestamp

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


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def help_text(root: click.Command, args: list[str]) -> str:
    """Exactly what ``calcat-git ARGS --help`` prints, at a fixed width."""
    from click.testing import CliRunner

    result = CliRunner().invoke(root, [*args, "--help"], prog_name="calcat-git",
                                terminal_width=88, max_content_width=88)
    return result.output.rstrip("\n")


def reference(root: click.Group) -> str:
    """The markdown CLI reference: the group's help, then each command's."""
    parts = ["```text", help_text(root, []), "```"]
    for name in sorted(root.commands):
        parts += ["", f"### `calcat-git {name}`", "", "```text", help_text(root, [name]), "```"]
    return "\n".join(parts)
