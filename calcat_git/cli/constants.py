"""Constant commands: lookup, explain, inject, verify-store (attached in ``cli``)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from calcat_git.cli.common import BRANCH_OPTION, JSON_OPTION, REPO_OPTION, STORE_OPTION, Snapshot, Timestamp


def _lookup_options(func: Any) -> Any:
    options = [
        click.argument("detector"),
        click.option("--event-at", default="now", show_default=True, type=Timestamp("--event-at time"),
                     help="Creation time of the RAW data (validity clock), ISO-8601 with Z or an offset."),
        click.option("--snapshot-at", default=None, type=Snapshot("--snapshot-at"),
                     help="Read the catalog as committed then [default: newest]; = --event-at is classic CALCAT."),
        click.option("--calibration", "calibrations", multiple=True, metavar="NAME",
                     help="Calibration to look up (repeatable) [default: all of the detector type's]."),
        click.option("--condition", "conditions", multiple=True, metavar="'NAME=VALUE'",
                     help="Operating condition, CALCAT spelling, e.g. 'Memory cells=352' (repeatable)."),
        click.option("--strategy", type=click.Choice(["closest", "prior"]), default="closest", show_default=True,
                     help="closest: smallest |begin_at - event_at|; prior: newest begin_at <= event_at."),
        click.option("--include-bad", is_flag=True, help="Also consider bad-quality or withdrawn constants."),
        REPO_OPTION, BRANCH_OPTION,
        click.option("--worktree", is_flag=True, help="Read the files on disk instead of git."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _split_conditions(pairs: tuple[str, ...]) -> dict[str, str]:
    from calcat_git.errors import InvalidInputError

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInputError(f"--condition {pair!r} is not NAME=VALUE, e.g. 'Memory cells=352'")
        out[name.strip()] = value.strip()
    return out


def _asked_without_class(given: dict[str, str], dtype: Any, calibrations: list[str]) -> dict[str, dict[str, float | str]]:
    """A detector type without a conditions class: the given parameters, all of them asked of
    every calibration (numbers where they read as numbers); unknown names all named at once."""
    from calcat_git.errors import NotFoundError, closest_names

    unknown = [n for n in given if n not in dtype.parameters]
    if unknown:
        hints = "; ".join(f"{n!r}{closest_names(n, list(dtype.parameters))}" for n in unknown)
        raise NotFoundError(f"--condition: not parameters of {dtype.identifier}: {hints} "
                            f"(it has {', '.join(dtype.parameters)})")
    values: dict[str, float | str] = {}
    for name, text in given.items():
        try:
            values[name] = float(text)
        except ValueError:
            values[name] = text
    return dict.fromkeys(calibrations, values)


def asked_from_cli(dtype: Any, given: dict[str, str], calibrations: list[str]) -> dict[str, dict[str, float | str]]:
    """Per calibration, the parameters a look-up asks, from --condition texts: through the
    type's conditions class (defaults filled in, as the Python classes do) where it has one."""
    from calcat_git.lookup.conditions import CONDITIONS_CLASSES

    cls = CONDITIONS_CLASSES.get(dtype.identifier)
    if cls is None:
        return _asked_without_class(given, dtype, calibrations)
    return cls.from_strings(given).asked_of(calibrations)


def _run_lookup(detector: str, event_at: datetime, snapshot_at: datetime | str | None, calibrations: tuple[str, ...],
                conditions: tuple[str, ...], strategy: str, include_bad: bool, repo: str, branch: str | None,
                worktree: bool) -> tuple[Any, Any, dict[str, dict[str, float | str]]]:
    from calcat_git.catalog.catalog import Catalog
    from calcat_git.lookup.engine import Engine, check_calibrations

    given = _split_conditions(conditions)  # malformed NAME=VALUE fails before a catalog is opened
    catalog = Catalog.open(repo, branch=branch, worktree=worktree)
    if snapshot_at is not None:
        catalog = catalog.at(snapshot_at)
    dtype = catalog.detector_type(catalog.detector(detector).type_name())
    check_calibrations(dtype, list(calibrations))  # a misspelt calibration first, then the conditions
    asked = asked_from_cli(dtype, given, list(calibrations) or list(dtype.calibrations))
    engine = Engine(catalog)
    return engine, engine.run(detector, asked, event_at, strategy, include_bad), asked


@click.command()
@_lookup_options
@JSON_OPTION
def lookup(as_json: bool, **kwargs: Any) -> None:
    """Find the constants offline correction would use for DETECTOR.

    For each calibration and module: the PDU mapped at --event-at; its constants whose
    conditions match (same parameters; numbers within the deviations); good quality
    only; then --strategy picks by begin_at. Where a detector type has a conditions
    class, each calibration only gets the parameters it uses, and legacy defaults
    (e.g. AGIPD 'Gain mode=0') are left out, as in EXtra. Exit 1 if anything is missing.
    """
    from calcat_git.lookup.caldata import CalibrationData
    from calcat_git.timeutil import format_timestamp

    _, outcome, _ = _run_lookup(**kwargs)
    result = CalibrationData.from_outcome(outcome)
    if as_json:
        from calcat_git.cli.common import emit_json

        emit_json(result.to_dict())
    else:
        click.echo(f"{result.detector.identifier} for RAW data of {format_timestamp(kwargs['event_at'])} "
                   f"(read from {(result.commit or 'working tree')[:12]}, strategy {result.strategy})")
        for cal, group in result.items():
            for agg, const in group.items():
                click.echo(f"  {cal:16} {agg:9} {const.pdu_name:28} {const.ccv_hash[:12]}  {const.path}:{const.dataset}")
        for cal, reasons in result.missing.items():
            for agg, why in reasons.items():
                click.echo(f"  {cal:16} {agg:9} MISSING: {why}")
    if result.missing:
        sys.exit(1)


@click.command()
@_lookup_options
def explain(**kwargs: Any) -> None:
    """Show every candidate constant considered per module, and why it won or lost.

    Takes the same arguments as `lookup`. Exit 1 if anything is missing.
    """
    engine, outcome, asked = _run_lookup(**kwargs)
    for line in engine.explain(outcome, asked, kwargs["include_bad"]):
        click.echo(line)
    if any(outcome.missing.values()):
        sys.exit(1)


@click.command()
@click.argument("name")
@REPO_OPTION
@BRANCH_OPTION
@JSON_OPTION
def conditions(name: str, repo: str, branch: str | None, as_json: bool) -> None:
    """List the --condition parameters of a detector or detector type, with defaults.

    NAME is a detector (e.g. MID_DET_AGIPD1M-1) or a detector type (AGIPD-Type). A
    parameter with a default may be left out of `lookup`; `required` ones must be given
    (`None` where the type allows it). The last column names the calibrations asked it.
    """
    from calcat_git.catalog.catalog import Catalog
    from calcat_git.lookup.conditions import CONDITIONS_CLASSES

    catalog = Catalog.open(repo, branch=branch)
    type_name = name if name in catalog.names("detector_type") else catalog.detector(name).type_name()
    dtype = catalog.detector_type(type_name)
    cls = CONDITIONS_CLASSES.get(type_name)
    if as_json:
        from calcat_git.cli.common import emit_json

        rows = _parameter_rows(cls) or [
            {"parameter": p, "type": "float or str", "default": None, "required": False,
             "calibrations": list(dtype.calibrations)}
            for p in dtype.parameters
        ]
        emit_json({"detector_type": type_name, "conditions_class": cls.__name__ if cls else None, "parameters": rows})
    elif cls is None:
        known = f"any of {', '.join(dtype.parameters)}" if dtype.parameters else "the type lists none"
        click.echo(f"{type_name} has no conditions class: give the parameters the constants have ({known})")
    else:
        _print_parameters(type_name, cls)


def _parameter_rows(cls: Any) -> list[dict[str, Any]]:
    """The parameters of conditions class ``cls`` (None: no rows) as `conditions --json` lists them."""
    from calcat_git.lookup.conditions_base import REQUIRED

    return [
        {
            "parameter": i.spelling,
            "type": i.kind + (" or None" if i.optional else ""),
            "default": None if i.default is REQUIRED else i.default,
            "required": i.default is REQUIRED,
            "calibrations": list(i.calibrations),
        }
        for i in (cls.parameter_infos() if cls else [])
    ]


def _print_parameters(type_name: str, cls: Any) -> None:
    every = set(cls.calibration_types)
    click.echo(f"{type_name} ({cls.__name__}): --condition 'NAME=VALUE' per parameter")
    for row in _parameter_rows(cls):
        default = "required" if row["required"] else f"default {row['default']}"
        cals = "all calibrations" if set(row["calibrations"]) == every else ", ".join(row["calibrations"]) or "none"
        click.echo(f"  {row['parameter']:22} {row['type']:14} {default:14} {cals}")
    if cls.legacy_defaults:
        left = ", ".join(f"{k}={v:g}" for k, v in cls.legacy_defaults.items())
        click.echo(f"  left out of the look-up at their legacy value (as in EXtra): {left}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--report", "report_path", required=True, help="Store-relative path of the report (PDF) of these constants.")
@click.option("--report-id", type=int, default=None, help="Report id, if the report has one.")
@STORE_OPTION
@click.option("--commit", "do_commit", is_flag=True, help="Commit the new batch file on the checked-out branch.")
@click.option("--branch", default=None, help="Commit the batch onto this branch instead (new, from HEAD, or one that is "
                                             "not checked out); your checkout, index and files stay as they are.")
@REPO_OPTION
@JSON_OPTION
def inject(files: tuple[str, ...], report_path: str, report_id: int | None, store: str | None, do_commit: bool,
           branch: str | None, repo: str, as_json: bool) -> None:
    """Inject constant files (HDF5, pipeline layout) as one new constants batch.

    Checks everything against the registry first (the PDU exists and sits in a slot at
    begin_at, calibration and parameters belong to its type) and validates the catalog
    with the batch; then copies the files into the store under their content-derived
    path and writes constants_index/<detector>/<YYYY>/<stamp>-<slug>.yaml. A failure
    leaves nothing. The checked-out branch takes a batch with --commit, not --branch.

    \b
    Example:
      calcat-git inject dark/r0042_m3.h5 --report xfel/reports/MID/dark_r0042.pdf --report-id 42 \\
          --branch inject/r0042
    """
    from calcat_git.edit.change import inject as run_inject

    result = run_inject(repo, list(files), report_path=report_path, report_id=report_id, store=store,
                        commit=do_commit, branch=branch)
    if as_json:
        from calcat_git.cli.common import emit_json

        emit_json(vars(result))
        return
    click.echo(f"{result.batch_path}: {result.ccvs} constant(s) of {result.detector}; "
               f"{len(result.store_files)} new file(s) in the store" + (f"; commit {result.commit}" if result.commit else ""))


@click.command("verify-store")
@REPO_OPTION
@BRANCH_OPTION
@STORE_OPTION
@click.option("--at", "snapshot", default=None, metavar="T|SHA", help="Snapshot to check [default: newest].")
@click.option("--worktree", is_flag=True, help="Check the files the working tree names.")
@click.option("--jobs", default=4, show_default=True, help="Files checked in parallel.")
@JSON_OPTION
def verify_store(repo: str, branch: str | None, store: str | None, snapshot: str | None, worktree: bool, jobs: int,
                 as_json: bool) -> None:
    """Check that every constant file a snapshot names is in the store, unchanged.

    Lists missing files, files whose sha256 differs and files whose constants would read
    data outside them (external links or storage, virtual datasets, shared objects); exit 1
    if there are any. CCVs imported from CALCAT name no sha256 and are counted as
    unverifiable.
    """
    from calcat_git.catalog.catalog import Catalog
    from calcat_git.store.verify import verify

    catalog = Catalog.open(repo, branch=branch, worktree=worktree)
    if snapshot:
        catalog = catalog.at(snapshot)
    report = verify(catalog, store, jobs)
    if as_json:
        from calcat_git.cli.common import emit_json

        emit_json(report)
    else:
        for path in report["missing"]:
            click.echo(f"missing: {path}")
        for path in report["mismatch"]:
            click.echo(f"checksum differs: {path}")
        for line in report["elsewhere"]:
            click.echo(f"data outside the file: {line}")
        click.echo(f"{report['checked']} file(s) checked in {report['store']}: {len(report['missing'])} missing, "
                   f"{len(report['mismatch'])} differ, {len(report['elsewhere'])} read data outside the file"
                   + (f"; {len(report['unverifiable'])} imported file(s) have no checksum" if report["unverifiable"] else ""))
    if report["missing"] or report["mismatch"] or report["elsewhere"]:
        sys.exit(1)
