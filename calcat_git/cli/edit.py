"""Edit commands: swap, add-pdu. They write the same YAML a person would, and only after
the whole catalog validates with it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from calcat_git.cli.common import REPO_OPTION, Timestamp
from calcat_git.edit.changes import apply, pdu_file, swap_files
from calcat_git.errors import InvalidInputError

BRANCH_HELP = "Create this branch from HEAD, switch to it and commit the edit there."


def _done(files: dict[str, str], commit: str | None, branch: str | None) -> None:
    for path, text in files.items():
        click.echo(f"{path}:")
        click.echo("".join(f"  + {line}\n" for line in text.splitlines()), nl=False)
    if commit:
        click.echo(f"committed {commit[:12]}" + (f" on new branch {branch}" if branch else ""))
    else:
        click.echo("written (not committed): `calcat-git validate`, then commit")


@click.command()
@click.argument("detector")
@click.argument("assignments", nargs=-1, required=True, metavar="SLOT=PDU...")
@click.option("--from", "valid_from", required=True, type=Timestamp("--from time"),
              help="When the new hardware took data first (validity time), with Z or an offset.")
@click.option("--reason", required=True, help="Why, in a few words (kept in the mapping file).")
@REPO_OPTION
@click.option("--branch", default=None, help=BRANCH_HELP)
@click.option("--commit", "do_commit", is_flag=True, help="Commit on the current branch.")
def swap(detector: str, assignments: tuple[str, ...], valid_from: datetime, reason: str, repo: str,
         branch: str | None, do_commit: bool) -> None:
    """Record a module swap or move: which PDU sits in each SLOT from --from on.

    SLOT is an aggregator (AGIPD01) or a module name (Q1M2); PDU a PDU's physical name,
    or - to empty the slot. A PDU that sits in another slot at --from leaves it at the
    same time (in another detector's mapping too). Appends one change to the end of
    registry/mappings/DETECTOR.yaml, exactly as you would by hand, after the whole
    catalog validated with it; nothing is written otherwise.

    Example:
      calcat-git swap MID_DET_AGIPD1M-1 Q1M2=AGIPD_SIV1_AGIPDV11_M315 \\
          --from 2024-05-10T08:00:00+02:00 --reason "Q1M2 replaced after a damaged ASIC" --branch mid-q1m2-swap
    """
    if branch and do_commit:
        raise InvalidInputError("give --commit or --branch, not both")
    pairs: dict[str, str] = {}
    for item in assignments:
        slot, sep, pdu = item.partition("=")
        if not sep or not slot.strip() or not pdu.strip():
            raise InvalidInputError(f"{item!r} is not SLOT=PDU, e.g. AGIPD01=AGIPD_SIV1_AGIPDV11_M315 or AGIPD01=-")
        pairs[slot.strip()] = pdu.strip()
    root = Path(repo)
    files = swap_files(root, detector, pairs, valid_from, reason)
    commit = apply(root, {p: new for p, (new, _) in files.items()}, f"{detector}: {reason}", branch, do_commit)
    _done({p: added for p, (_, added) in files.items()}, commit, branch)


@click.command("add-pdu")
@click.argument("name")
@click.option("--type", "detector_type", required=True, help="Its detector type, e.g. AGIPD-Type.")
@click.option("--uuid", required=True, type=click.IntRange(min=0), help="The PDU's uuid (no two PDUs share one).")
@click.option("--description", default=None, help="Free text, e.g. where it came from.")
@REPO_OPTION
@click.option("--branch", default=None, help=BRANCH_HELP)
@click.option("--commit", "do_commit", is_flag=True, help="Commit on the current branch.")
def add_pdu(name: str, detector_type: str, uuid: int, description: str | None, repo: str, branch: str | None,
            do_commit: bool) -> None:
    """Add a physical detector unit (admins): registry/pdus/TYPE/NAME.yaml.

    Writes the file from the PDU template (physical_name, detector_type, uuid, status:
    active, description), after the whole catalog validated with it. Then `calcat-git swap`
    puts it into a slot.
    """
    if branch and do_commit:
        raise InvalidInputError("give --commit or --branch, not both")
    root = Path(repo)
    path, text = pdu_file(root, name, detector_type, uuid, description)
    commit = apply(root, {path: text}, f"add PDU {name} ({detector_type})", branch, do_commit)
    _done({path: text}, commit, branch)
