"""The ``calcat-git`` command line.

Start-up is kept fast by design: each command's module is imported only when that command
runs (or its help is shown), through :class:`LazyGroup`, click's documented pattern. A
command is registered with one line in :data:`COMMANDS`.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any

import click

from calcat_git.errors import CalcatGitError, CatalogProblemWarning

COMMANDS = {  # name → "module:attribute", imported when the command runs
    "add-calibration": "calcat_git.cli.edit:add_calibration",
    "add-detector": "calcat_git.cli.edit:add_detector",
    "add-parameter": "calcat_git.cli.edit:add_parameter",
    "add-pdu": "calcat_git.cli.edit:add_pdu",
    "check": "calcat_git.cli.review:check",
    "codeowners": "calcat_git.cli.review:codeowners",
    "conditions": "calcat_git.cli.constants:conditions",
    "diff": "calcat_git.cli.review:diff",
    "explain": "calcat_git.cli.constants:explain",
    "flag": "calcat_git.cli.edit:flag",
    "history": "calcat_git.cli.history:history",
    "import-calcat": "calcat_git.cli.calcat:import_calcat",
    "index": "calcat_git.cli.history:index_command",
    "init": "calcat_git.cli.init:init",
    "inject": "calcat_git.cli.store:inject",
    "lookup": "calcat_git.cli.constants:lookup",
    "mapping": "calcat_git.cli.history:mapping",
    "pdus": "calcat_git.cli.pdus:pdus",
    "schema": "calcat_git.cli.validate:schema",
    "serve": "calcat_git.cli.serve:serve",
    "site": "calcat_git.cli.site:site",
    "snapshot": "calcat_git.cli.history:snapshot",
    "swap": "calcat_git.cli.edit:swap",
    "tag": "calcat_git.cli.sets:tag",
    "tags": "calcat_git.cli.sets:tags",
    "validate": "calcat_git.cli.validate:validate",
    "verify-history": "calcat_git.cli.history:verify_history",
    "verify-store": "calcat_git.cli.store:verify_store",
}


class LazyGroup(click.Group):
    """Commands named in ``lazy`` are imported on first use; our own exceptions become one
    line on stderr and exit code 1."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self.lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise TypeError(f"{self.lazy[cmd_name]} is not the click command {cmd_name!r}")
        self.add_command(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        warnings.simplefilter("ignore", CatalogProblemWarning)  # commands print them as "warning: …" lines
        try:
            return super().invoke(ctx)
        except CalcatGitError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="calcat-git")
def main() -> None:
    """calcat-git: a calibration catalog kept as validated YAML in git.

    Run a command with --help to learn more, e.g. `calcat-git validate --help`.
    """
