"""``calcat-git pdus`` (attached in ``cli.main``): the PDUs, where each sits, which are free."""

from __future__ import annotations

from datetime import datetime

import click

from calcat_git.catalog.catalog import Catalog
from calcat_git.cli.common import (
    BRANCH_OPTION,
    JSON_OPTION,
    REPO_OPTION,
    emit_json,
    event_at_option,
    snapshot_at_option,
    source_text,
)
from calcat_git.timeutil import format_timestamp


@click.command()
@click.option("--type", "detector_type", default=None, metavar="TYPE", help="Only PDUs of this detector type.")
@click.option("--free", is_flag=True, help="Only PDUs in no module slot (spares for a module swap).")
@event_at_option(old=("--at",), help="Validity time: where the PDUs sit then (ISO-8601 with Z or an offset).")
@snapshot_at_option()
@REPO_OPTION
@BRANCH_OPTION
@JSON_OPTION
def pdus(detector_type: str | None, free: bool, event_at: datetime, snapshot_at: datetime | str | None, repo: str,
         branch: str | None, as_json: bool) -> None:
    """List the PDUs and the slot each sits in at a time (retired ones last).

    \b
    Example: spare AGIPD modules now
      calcat-git pdus --type AGIPD-Type --free
    """
    at = event_at
    catalog = Catalog.open(repo, branch=branch)
    if snapshot_at is not None:
        catalog = catalog.at(snapshot_at)
    reg = catalog.registry
    if detector_type is not None and detector_type not in reg.detector_types:
        raise click.UsageError(f"unknown detector type {detector_type!r}: one of {', '.join(sorted(reg.detector_types))}")
    where = {pdu: (name, slot) for name, m in reg.mappings.items() for slot, pdu in m.state_at(at).items() if pdu}
    rows = [{"pdu": name, "detector_type": p.detector_type, "status": p.status,
             "detector": where[name][0] if name in where else None, "aggregator": where[name][1] if name in where else None}
            for name, p in sorted(reg.pdus.items(), key=lambda item: (item[1].status != "active", item[0]))
            if (detector_type is None or p.detector_type == detector_type) and not (free and name in where)]
    if as_json:
        emit_json({"at": format_timestamp(at), "commit": catalog.commit, "pdus": rows})
        return
    click.echo(f"{len(rows)} PDU(s) at {format_timestamp(at)} (read from {source_text(catalog)})")
    for row in rows:
        place = f"{row['detector']} {row['aggregator']}" if row["detector"] else "free"
        click.echo(f"  {row['pdu']}  {row['detector_type']}  {row['status']}  {place}")
