"""``calcat-git serve`` (attached in ``cli``)."""

from __future__ import annotations

import click

from calcat_git.cli.common import BRANCH_OPTION, REPO_OPTION, STORE_OPTION


@click.command()
@REPO_OPTION
@BRANCH_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; the default answers this machine only.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@STORE_OPTION
@click.option("--facility-tz", default=None, metavar="ZONE",
              help="Time zone in which naive request times (no Z, no offset) are read, as CALCAT does "
                   "[default: time_zone of calcat-git.yaml, else Europe/Berlin].")
@click.option("--strict-snapshots", is_flag=True,
              help="Read PDU mappings from the catalog as committed at pdu_snapshot_at (CALCAT's answers exactly) "
                   "instead of the newest catalog.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
@click.option("--access-log", is_flag=True, help="Log every request.")
def serve(repo: str, branch: str | None, host: str, port: int, store: str | None, facility_tz: str | None,
          strict_snapshots: bool, workers: int, access_log: bool) -> None:
    """Serve the catalog read-only through CALCAT's REST API (the subset EXtra uses).

    Point clients at http://HOST:PORT (EXtra: setup_client("http://HOST:PORT", None,
    None, None)); paths are under /api/. Replies are read from the newest commit of the
    branch, which is followed as it moves; each carries it in X-Calcat-Git-Commit.
    Integer ids are CALCAT's own for imported records, else 2**52 + 48 bits of a hash of
    the identifier. Only GET is answered.
    """
    from pathlib import Path

    from calcat_git.catalog.catalog import Catalog
    from calcat_git.errors import NotFoundError
    from calcat_git.files.config import time_zone
    from calcat_git.server.app import serve as run
    from calcat_git.server.following import ServeConfig
    from calcat_git.store.paths import store_root
    from calcat_git.timeutil import facility_zone

    facility_tz = facility_tz or time_zone(repo)
    facility_zone(facility_tz)  # an unknown zone is an error before the server starts
    Catalog.locate(Path(repo), branch, check=True)  # not a catalog: one line naming --repo, before the server starts
    try:
        prefix = str(Path(store_root(store, repo)).resolve()).rstrip("/") + "/"  # absolute, as CALCAT's file_path
    except NotFoundError:
        prefix = ""
    run(ServeConfig(repo=repo, branch=branch, store_prefix=prefix, facility_tz=facility_tz,
                    strict_snapshots=strict_snapshots), host, port, workers, access_log)
