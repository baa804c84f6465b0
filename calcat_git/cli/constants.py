"""Look-up commands: lookup, explain, conditions."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from calcat_git.catalog.catalog import Catalog
from calcat_git.cli.common import (
    BRANCH_OPTION,
    JSON_OPTION,
    REPO_OPTION,
    emit_json,
    event_at_option,
    snapshot_at_option,
    warn,
)
from calcat_git.errors import InvalidInputError
from calcat_git.lookup.caldata import CalibrationData
from calcat_git.lookup.conditions import CONDITIONS_CLASSES
from calcat_git.lookup.engine import Engine
from calcat_git.lookup.rules import LookupRules
from calcat_git.timeutil import format_timestamp


def _lookup_options(func: Any) -> Any:
    options = [
        click.argument("detector"),
        event_at_option(),
        snapshot_at_option(),
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

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInputError(f"--condition {pair!r} is not NAME=VALUE, e.g. 'Memory cells=352'")
        out[name.strip()] = value.strip()
    return out


def _run_lookup(detector: str, event_at: datetime, snapshot_at: datetime | str | None, calibrations: tuple[str, ...],
                conditions: tuple[str, ...], strategy: str, include_bad: bool, repo: str, branch: str | None,
                worktree: bool) -> tuple[Any, Any, Any]:

    given = _split_conditions(conditions)  # malformed NAME=VALUE fails before a catalog is opened
    catalog = Catalog.open(repo, branch=branch, worktree=worktree)
    if snapshot_at is not None:
        catalog = catalog.at(snapshot_at)
    catalog.check_loads(detector)  # a file the look-up depends on that does not load: refused, named
    dtype = catalog.detector_type(catalog.detector(detector).type_name())
    asks = LookupRules.of(dtype).asked(given, list(calibrations))  # the conditions checked first, then calibrations
    engine = Engine(catalog)
    return engine, engine.run(detector, asks, event_at, strategy, include_bad), asks


@click.command()
@_lookup_options
@JSON_OPTION
def lookup(as_json: bool, **kwargs: Any) -> None:
    """Find the constants offline correction would use for DETECTOR.

    For each calibration and module: the PDU mapped at --event-at; its constants whose
    conditions match (same parameters; numbers within the deviations); good quality
    only; then --strategy picks by begin_at. Where the detector type states look-up
    rules (its conditions: block), each calibration only gets the parameters it uses,
    and legacy values (e.g. AGIPD 'Gain mode=0') are left out, as in EXtra. Exit 1 if
    anything is missing.
    """

    _, outcome, _ = _run_lookup(**kwargs)
    result = CalibrationData.from_outcome(outcome)
    warn(result.problems)
    if as_json:

        emit_json(result.to_dict())
    else:
        tag = f", published set {result.tag}" if result.tag else ""
        click.echo(f"{result.detector.identifier} for RAW data of {format_timestamp(kwargs['event_at'])} "
                   f"(read from {(result.commit or 'working tree')[:12]}{tag}, strategy {result.strategy})")
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
    warn(outcome.problems)
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

    catalog = Catalog.open(repo, branch=branch)
    type_name = name if name in catalog.names("detector_type") else catalog.detector(name).type_name()
    rules = LookupRules.of(catalog.detector_type(type_name))
    cls = CONDITIONS_CLASSES.get(type_name)
    if as_json:

        emit_json({"detector_type": type_name, "conditions_class": cls.__name__ if cls else None,
                   "parameters": _parameter_rows(rules)})
    elif not rules.stated:
        known = f"any of {', '.join(rules.dtype.parameters)}" if rules.dtype.parameters else "the type lists none"
        click.echo(f"{type_name} states no look-up rules: give the parameters the constants have ({known})")
    else:
        _print_parameters(type_name, rules, cls.__name__ if cls else "Conditions.for_type")


def _parameter_rows(rules: Any) -> list[dict[str, Any]]:
    """The look-up parameters of a type's rules as `conditions --json` lists them."""
    kinds = {"number": "float", "integer": "int", "boolean": "bool", "text": "str", "number or text": "float or str"}
    return [
        {
            "parameter": p.name,
            "type": kinds[p.kind] + (" or None" if p.allows_none and rules.stated else ""),
            "default": p.default,
            "required": p.required,
            "legacy": p.legacy,
            "calibrations": [c for c, ps in rules.calibrations if ps is None or p.name in ps],
        }
        for p in rules.parameters
    ]


def _print_parameters(type_name: str, rules: Any, class_name: str) -> None:
    every = {c for c, _ in rules.calibrations}
    click.echo(f"{type_name} ({class_name}): --condition 'NAME=VALUE' per parameter")
    for row in _parameter_rows(rules):
        default = "required" if row["required"] else f"default {row['default']}"
        cals = "all calibrations" if set(row["calibrations"]) == every else ", ".join(row["calibrations"]) or "none"
        click.echo(f"  {row['parameter']:22} {row['type']:14} {default:14} {cals}")
    legacy = {p.name: p.legacy for p in rules.parameters if p.legacy is not None}
    if legacy:
        left = ", ".join(f"{k}={v:g}" if not isinstance(v, str) else f"{k}={v}" for k, v in legacy.items())
        click.echo(f"  left out of the look-up at their legacy value (as in EXtra): {left}")
