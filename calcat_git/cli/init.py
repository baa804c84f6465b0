"""``calcat-git init`` (attached in ``cli.main``)."""

from __future__ import annotations

from pathlib import Path

import click

from calcat_git.edit.new_catalog import NewCatalog, init_catalog


@click.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", required=True, help="The catalog's name: the site's title, e.g. 'ESRF calibration catalog'.")
@click.option("--time-zone", default="UTC", show_default=True, metavar="ZONE",
              help="The facility's IANA time zone: naive times sent by CALCAT clients are read in it.")
@click.option("--admin", "admins", multiple=True, metavar="@ORG/TEAM",
              help="Forge team or user owning PDUs, detector types, calibrations, parameters (repeatable).")
@click.option("--examples", is_flag=True,
              help="Add a small coherent example (an instrument, a detector type, a calibration, a parameter, a PDU, "
                   "a detector and its mapping) instead of an empty registry.")
def init(folder: Path, name: str, time_zone: str, admins: tuple[str, ...], examples: bool) -> None:
    """Start a new catalog in FOLDER (new or empty; default: here) and commit it.

    Writes calcat-git.yaml (name, time zone, store, admins), .gitignore, a mkdocs.yml
    that builds the site with the installed package alone, CI templates (GitHub, GitLab)
    and a pre-commit configuration pinned to this calcat-git version, and a registry
    whose folders each explain their file kind with an example.

    \b
    Example:
      calcat-git init my-catalog --name "Beamline calibration catalog" --time-zone Europe/Paris \\
          --admin @facility/calcat-admins
      cd my-catalog && calcat-git validate
    """
    commit = init_catalog(folder, NewCatalog(name=name, time_zone=time_zone, admins=admins, examples=examples))
    click.echo(f"new catalog {name!r} at {folder} (commit {commit[:12]})")
    click.echo("next: add records (calcat-git schema KIND --example shows each kind), validate, "
               "and build the site with `calcat-git site build` or `mkdocs build`")
