"""CLI: ``import-calcat`` (CALCAT records into the catalog, one commit per import)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from calcat_git.timeutil import FACILITY_ZONE


@click.command("import-calcat")
@click.option("--replies", "replies", multiple=True, type=click.Path(exists=True), metavar="PATH",
              help="Recorded CALCAT replies: vcrpy cassette files or folders of them (repeatable).")
@click.option("--url", default=None, metavar="BASE",
              help="Read a live CALCAT (read-only, paged), e.g. https://in.xfel.eu/calibration.")
@click.option("--token-env", default=None, metavar="NAME", help="Environment variable holding a bearer token.")
@click.option("--detector", "detectors", multiple=True, metavar="ID",
              help="With --url: detector (Karabo ID) to import (repeatable).")
@click.option("--snapshot-at", "snapshots", multiple=True, metavar="T",
              help="With --url: read each detector's PDUs at this time (repeatable) [default: now].")
@click.option("--report", "reports", multiple=True, type=int, metavar="ID",
              help="With --url: also import the CCVs of this report (repeatable).")
@click.option("--zone", default=FACILITY_ZONE, show_default=True,
              help="Time zone of CALCAT's naive times (offsets in replies are kept exact).")
@click.option("--experts", default=None, metavar="@TEAM,…",
              help="Experts of new detectors [default: the catalog's admins].")
@click.option("--repo", default=".", show_default=True, type=click.Path(file_okay=False), help="Catalog root.")
@click.option("--no-commit", is_flag=True, help="Write and validate the files, do not commit.")
@click.option("--json", "as_json", is_flag=True, help="Print what was added as JSON.")
def import_calcat(replies: tuple[str, ...], url: str | None, token_env: str | None, detectors: tuple[str, ...],
                  snapshots: tuple[str, ...], reports: tuple[int, ...], zone: str, experts: str | None, repo: str,
                  no_commit: bool, as_json: bool) -> None:
    """Import CALCAT's records into the catalog: one validated commit.

    Detector types, instruments, calibrations, PDUs, detectors, parameters and
    CCVs (in new batch files, one per detector, report and condition) keep their
    CALCAT ids as `calcat_id`. Mapping changes come from the PDU lists CALCAT showed
    at snapshot times and at CCV begin times; a change seen only between two
    observations is dated at the later one with `observed_between`.

    Replies are read oldest recording first (a cassette interaction's
    `recorded_at`, else its `Date` header; a live reply's time of asking): a
    record's most recent recording wins, and the summary lists every field that
    changed between recordings. CALCAT's 404 "no PDU" for a detector at T ends
    the slots seen before T. A text condition (`txt_value`) is imported as text.

    Nothing is dropped silently: the summary (and --json) names every reply and
    field that was not imported with a count and the reason, and first of all
    any endpoint or field this version does not know.

    Importing the same replies again changes nothing; conflicting facts are
    reported and never overwrite the catalog. Exit 1 if the result would not
    validate (nothing is written then). With --url, a reply over 4 MiB, a
    malformed X-Total-Pages or a redirect loop stops the import with one line;
    the token is never sent to another origin than --url's.

    \b
    Examples:
      calcat-git import-calcat --replies recordings/      # a folder of cassettes
      calcat-git import-calcat --url https://calcat.example/calibration --token-env CALCAT_TOKEN \\
          --detector SPB_DET_AGIPD1M-1 --snapshot-at 2024-01-01T00:00:00Z
    """
    from calcat_git.calcat_import.crawl import crawl
    from calcat_git.calcat_import.live import http_fetch, token_from_env
    from calcat_git.calcat_import.replies import read_cassettes
    from calcat_git.calcat_import.write import import_replies
    from calcat_git.errors import InvalidInputError
    from calcat_git.timeutil import now_utc, parse_timestamp

    if bool(replies) == bool(url):
        raise InvalidInputError("give either --replies PATH… or --url BASE")
    if url and not detectors:
        raise InvalidInputError("--url needs at least one --detector to import")
    if url:
        times = [parse_timestamp(t, "--snapshot-at") for t in snapshots] or [now_utc().replace(microsecond=0)]
        fetch = http_fetch(url, token_from_env(token_env))
        source = list(crawl(fetch, detectors, times, reports,
                            progress=lambda m: click.echo(f"calcat-git: {m}", err=True)))
    else:
        source = read_cassettes(Path(p) for p in replies)
    team = tuple(e.strip() for e in experts.split(",") if e.strip()) if experts is not None else None
    result = import_replies(repo, source, zone=zone, commit=not no_commit, experts=team)
    if as_json:
        from calcat_git.cli.common import emit_json

        emit_json(result.to_json())
    else:
        click.echo(result.summary())
        if result.commit:
            click.echo(f"\ncommitted {result.commit[:12]}")
    if not result.plan.records:
        sys.exit(0)
