"""Edit commands: swap, add-pdu (attached in ``cli``). Each is a thin wrapper of
``Change`` (``calcat_git.edit.change``): the YAML a person would write, validated with the
whole catalog, then written, committed (--commit) or committed onto a branch (--branch),
all or nothing."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from calcat_git.cli.common import REPO_OPTION, Timestamp
from calcat_git.edit.change import Change
from calcat_git.edit.target import commits_to
from calcat_git.errors import InvalidInputError

R = TypeVar("R")

BRANCH_HELP = ("Commit onto this branch (new, from HEAD, or an existing one that is not checked out); your checkout, "
               "index and files stay as they are.")
COMMIT_HELP = "Commit on the checked-out branch (git's hooks run as with `git commit`)."
TARGET = [click.option("--branch", default=None, help=BRANCH_HELP),
          click.option("--commit", "do_commit", is_flag=True, help=COMMIT_HELP)]


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(TARGET):
        func = option(func)
    return REPO_OPTION(func)


def run_change(repo: str, message: str, branch: str | None, do_commit: bool, edit: Callable[[Change], R],
               store: str | None = None, quiet: bool = False) -> tuple[R, Change]:
    """Make one change with ``edit`` and write it; print what it wrote and where it went."""
    with Change(repo, message, branch=branch, commit=commits_to(branch, do_commit), store=store) as change:
        out = edit(change)
        diff = change.diff()
    if not quiet:
        show(change, diff)
    return out, change


def _added(old: bytes | None, new: bytes | None) -> list[str]:
    before, after = (old or b"").decode("utf-8", "replace"), (new or b"").decode("utf-8", "replace")
    if new is None:
        return ["  (removed)"]
    if after.startswith(before):
        return [f"  + {line}" for line in after[len(before):].splitlines()]
    return ["  " + line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=1)][2:]


def show(change: Change, diff: dict[str, tuple[bytes | None, bytes | None]]) -> None:
    for path, (old, new) in diff.items():
        click.echo(f"{path}:")
        for line in _added(old, new):
            click.echo(line)
    done = change.written
    if done is not None:
        for problem in done.old_problems[:1]:
            click.echo(f"calcat-git: note: the catalog already had {len(done.old_problems)} problem(s) this change did "
                       f"not cause, e.g. {problem}; `calcat-git validate` lists them", err=True)
    if done is None or not done.files:
        click.echo("nothing to change")
    elif change.target == "branch":
        click.echo(f"committed {done.commit and done.commit[:12]} onto branch {change.branch}; your checkout is "
                   f"unchanged (`git switch {change.branch}` shows it, `git push -u origin {change.branch}` proposes it)")
    elif change.target == "checked-out":
        click.echo(f"committed {done.commit and done.commit[:12]} on {change.branch}")
    else:
        click.echo("written (not committed): `calcat-git validate`, then commit")


@click.command()
@click.argument("detector")
@click.argument("assignments", nargs=-1, required=True, metavar="SLOT=PDU...")
@click.option("--from", "valid_from", required=True, type=Timestamp("--from time"),
              help="When the new hardware took data first (validity time), with Z or an offset.")
@click.option("--reason", required=True, help="Why, in a few words (kept in the mapping file).")
@target_options
def swap(detector: str, assignments: tuple[str, ...], valid_from: datetime, reason: str, repo: str,
         branch: str | None, do_commit: bool) -> None:
    """Record a module swap or move: which PDU sits in each SLOT from --from on.

    SLOT is an aggregator (AGIPD01) or a module name (Q1M2); PDU a PDU's physical name,
    or - to empty the slot; each slot once. A PDU that sits in another slot at --from
    leaves it at the same time (in another detector's mapping too). Appends one change to
    the end of registry/mappings/DETECTOR.yaml, exactly as you would by hand, after the
    whole catalog validated with it; nothing is written otherwise. With --branch the
    commit holds the branch's files and this change only: commit a new PDU first.

    \b
    Example:
      calcat-git swap MID_DET_AGIPD1M-1 Q1M2=AGIPD_SIV1_AGIPDV11_M315 \\
          --from 2024-05-10T08:00:00+02:00 --reason "Q1M2 replaced after a damaged ASIC" --branch mid-q1m2-swap
    """
    pairs: dict[str, str] = {}
    for item in assignments:
        slot, sep, pdu = item.partition("=")
        if not sep or not slot.strip() or not pdu.strip():
            raise InvalidInputError(f"{item!r} is not SLOT=PDU, e.g. AGIPD01=AGIPD_SIV1_AGIPDV11_M315 or AGIPD01=-")
        if slot.strip() in pairs:
            raise InvalidInputError(f"slot {slot.strip()} is given twice: give each slot once")
        pairs[slot.strip()] = pdu.strip()
    run_change(repo, f"{detector}: {reason}", branch, do_commit,
               lambda change: change.swap(detector, pairs, since=valid_from, reason=reason))


@click.command("add-pdu")
@click.argument("name")
@click.option("--type", "detector_type", required=True, help="Its detector type, e.g. AGIPD-Type.")
@click.option("--uuid", required=True, type=click.IntRange(min=0), help="The PDU's uuid (no two PDUs share one).")
@click.option("--description", default=None, help="Free text, e.g. where it came from.")
@target_options
def add_pdu(name: str, detector_type: str, uuid: int, description: str | None, repo: str, branch: str | None,
            do_commit: bool) -> None:
    """Add a physical detector unit (admins): registry/pdus/TYPE/NAME.yaml.

    Writes the file from the PDU template (physical_name, detector_type, uuid, status:
    active, description), after the whole catalog validated with it. Then `calcat-git swap`
    puts it into a slot.

    \b
    Example:
      calcat-git add-pdu AGIPD_SIV1_AGIPDV12_M998 --type AGIPD-Type --uuid 101001499998 --commit
    """
    run_change(repo, f"add PDU {name} ({detector_type})", branch, do_commit,
               lambda change: change.add_pdu(name, detector_type=detector_type, uuid=uuid, description=description))


@click.command("add-calibration")
@click.argument("name")
@click.option("--type", "types", multiple=True, required=True, help="A detector type it belongs to (repeatable).")
@click.option("--parameter", "parameters", multiple=True, required=True,
              help="A parameter it is looked up with, as the type spells it (repeatable).")
@click.option("--description", default=None, help="Free text: what it is.")
@target_options
def add_calibration(name: str, types: tuple[str, ...], parameters: tuple[str, ...], description: str | None,
                    repo: str, branch: str | None, do_commit: bool) -> None:
    """Add a calibration (admins): registry/calibrations/NAME.yaml, and NAME in each type's
    calibrations.

    Each --parameter must be one of the type's parameters (`calcat-git add-parameter` adds
    one). A type with look-up rules (a `conditions:` block) asks NAME exactly these
    parameters. A calibration that exists already is only added to more types. Nothing is
    written unless the whole catalog validates with it.

    \b
    Example:
      calcat-git add-calibration DarkDrift --type AGIPD-Type --parameter "Memory cells" \\
          --parameter "Sensor Bias Voltage" --description "slow offset drift" --branch add-darkdrift
    """
    run_change(repo, f"add calibration {name} ({', '.join(types)})", branch, do_commit,
               lambda change: change.add_calibration(name, types=list(types), parameters=list(parameters),
                                                     description=description))


@click.command("add-parameter")
@click.argument("name")
@click.option("--type", "types", multiple=True, required=True, help="A detector type that has it (repeatable).")
@click.option("--calibration", "calibrations", multiple=True,
              help="A calibration looked up with it (repeatable; needs the type's look-up rules).")
@click.option("--default", default=None, help="The value a look-up asks when none is given [default: left out].")
@click.option("--legacy", default=None, help="Left out of a look-up at this value, as EXtra does.")
@click.option("--lower-deviation", type=click.FloatRange(min=0), default=None, help="Default lower deviation [0].")
@click.option("--upper-deviation", type=click.FloatRange(min=0), default=None, help="Default upper deviation [0].")
@click.option("--unit", default=None, help="Its unit, e.g. V.")
@click.option("--text", is_flag=True, help="A text-valued parameter (matched exactly), e.g. a memory cell order.")
@target_options
def add_parameter(name: str, types: tuple[str, ...], calibrations: tuple[str, ...], default: str | None,
                  legacy: str | None, lower_deviation: float | None, upper_deviation: float | None, unit: str | None,
                  text: bool, repo: str, branch: str | None, do_commit: bool) -> None:
    """Add a parameter condition (admins): NAME is its CALCAT spelling.

    Writes registry/parameters/<name>.yaml (unit, default deviations) unless a parameter
    with this spelling exists, and adds NAME to each type's parameters. In a type with
    look-up rules (a `conditions:` block) it also gets its kind, --default and --legacy,
    and each --calibration is looked up with it. Nothing is written unless the whole
    catalog validates with it.

    \b
    Example:
      calcat-git add-parameter "Probe param" --type AGIPD-Type --unit V --lower-deviation 0.5 \\
          --upper-deviation 0.5 --commit
    """
    run_change(repo, f"add parameter {name} ({', '.join(types)})", branch, do_commit,
               lambda change: change.add_parameter(name, types=list(types), calibrations=calibrations, default=default,
                                                   legacy=legacy, lower_deviation=lower_deviation,
                                                   upper_deviation=upper_deviation, unit=unit, text=text))


@click.command("add-detector")
@click.argument("identifier")
@click.option("--type", "detector_type", required=True, help="Its detector type, e.g. jungfrau-Type.")
@click.option("--instrument", required=True, help="The instrument it serves, e.g. HED.")
@click.option("--modules", type=click.IntRange(min=1), required=True, help="How many module slots it has.")
@click.option("--first-module-index", type=click.IntRange(min=0), default=0, show_default=True,
              help="Number of its first slot (aggregators are the type's prefix and the number: JNGFR01 …).")
@click.option("--source-name-pattern", default=None,
              help="Its data source pattern [default: IDENTIFIER/DET/{modno}CH0:xtdf].")
@target_options
def add_detector(identifier: str, detector_type: str, instrument: str, modules: int, first_module_index: int,
                 source_name_pattern: str | None, repo: str, branch: str | None, do_commit: bool) -> None:
    """Add a detector (admins): registry/detectors/IDENTIFIER.yaml.

    Its slots are named after the type's aggregator prefix and numbered from
    --first-module-index; its experts are the catalog's admins (edit the file to name
    others). Then `calcat-git swap` puts PDUs into its slots (its first swap starts its
    mapping file). Nothing is written unless the whole catalog validates with it.

    \b
    Example:
      calcat-git add-detector HED_IA1_JF500K2 --type jungfrau-Type --instrument HED --modules 1 \\
          --first-module-index 1 --source-name-pattern "HED_IA1_JF500K2/DET/JNGFR{modno:02d}:daqOutput" --commit
    """
    run_change(repo, f"add detector {identifier} ({detector_type}, {instrument})", branch, do_commit,
               lambda change: change.add_detector(identifier, detector_type=detector_type, instrument=instrument,
                                                  modules=modules, first_module_index=first_module_index,
                                                  source_name_pattern=source_name_pattern))


@click.command()
@click.argument("ccvs", nargs=-1, required=True, metavar="CCV_ID...")
@click.option("--bad-quality", "which", flag_value="bad-quality", help="Mark them bad quality (look-ups skip them).")
@click.option("--good-quality", "which", flag_value="good-quality", help="Mark them good quality again.")
@click.option("--not-deployed", "which", flag_value="not-deployed", help="Mark them not deployed (look-ups skip them).")
@click.option("--deployed", "which", flag_value="deployed", help="Mark them deployed again.")
@click.option("--reason", required=True, help="Why, in a few words (kept in the batch file).")
@target_options
def flag(ccvs: tuple[str, ...], which: str | None, reason: str, repo: str, branch: str | None,
         do_commit: bool) -> None:
    """Flag constants: bad or good quality, deployed or not, with the reason.

    CCV_ID is a CCV's integer id (CALCAT's for an imported one, as `lookup --json` shows
    as int_id) or its content id (8 to 64 hex digits of ccv_id). Sets good_quality or
    deployed in its batch file and appends {at, flag, reason} to its `flagged` list; the
    CCV keeps its id, and look-ups at snapshots before the change answer as they did.

    \b
    Example:
      calcat-git flag 4778024163930938 --bad-quality --reason "stripes in the offset map" --branch flag-m337
    """
    if which is None:
        raise InvalidInputError("give one of --bad-quality, --good-quality, --not-deployed, --deployed")
    run_change(repo, f"flag {len(ccvs)} CCV(s) {which}: {reason}", branch, do_commit,
               lambda change: change.flag(list(ccvs), which, reason=reason))
