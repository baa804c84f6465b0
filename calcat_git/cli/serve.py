"""``calcat-git serve``."""

from __future__ import annotations

from pathlib import Path

import click

from calcat_git.catalog.catalog import Catalog
from calcat_git.cli.common import BRANCH_OPTION, REPO_OPTION, STORE_OPTION
from calcat_git.errors import NotFoundError
from calcat_git.files.config import time_zone
from calcat_git.server.app import serve as run
from calcat_git.server.following import ServeConfig
from calcat_git.store.paths import store_root
from calcat_git.timeutil import facility_zone


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
@click.option("--max-connections", default=512, show_default=True, type=click.IntRange(1, 100_000),
              help="Open connections per process; beyond it the one waiting longest for its client is dropped.")
@click.option("--header-timeout", default=10.0, show_default=True, type=click.FloatRange(0.5, 3600),
              help="Seconds a client has to send a request's line and headers.")
@click.option("--body-timeout", default=30.0, show_default=True, type=click.FloatRange(0.5, 3600),
              help="Seconds a client has to send a request's body once its headers are in.")
@click.option("--write", is_flag=True,
              help="Also answer CALCAT's write API (what calibration-client's injection and flag update send) as "
                   "commits on branches, merged when auto-approved (see the guide's gateway page).")
@click.option("--tokens", type=click.Path(exists=True, dir_okay=False), default=None,
              help="With --write: the token file (lines 'sha256:<hash of a token> Name <e-mail>'); a write needs "
                   "'Authorization: Bearer TOKEN' with one of them.")
@click.option("--trust-proxy-user-header", is_flag=True,
              help="With --write: a request's X-User-Email header names its writer (only behind an authenticating "
                   "proxy that sets it).")
def serve(repo: str, branch: str | None, host: str, port: int, store: str | None, facility_tz: str | None,
          strict_snapshots: bool, workers: int, access_log: bool, max_connections: int, header_timeout: float,
          body_timeout: float, write: bool, tokens: str | None, trust_proxy_user_header: bool) -> None:
    """Serve the catalog through CALCAT's REST API: what EXtra and calibration-client read.

    Point clients at http://HOST:PORT (EXtra: setup_client("http://HOST:PORT", None,
    None, None)); paths are under /api/, and /at/REVISION/api/ answers as the catalog was
    at a commit, tag or branch. Replies are read from the newest commit of the branch,
    which is followed as it moves; each carries it in X-Calcat-Git-Commit. Integer ids
    are CALCAT's own for imported records, else 2**52 + 48 bits of a hash of the
    identifier. Only GET is answered, unless --write turns the pipeline's CALCAT writes
    into commits (on a branch per report, merged when auto-approved and clean).
    """
    facility_tz = facility_tz or time_zone(repo)
    facility_zone(facility_tz)  # an unknown zone is an error before the server starts
    Catalog.locate(Path(repo), branch, check=True)  # not a catalog: one line naming --repo, before the server starts
    try:
        prefix = str(Path(store_root(store, repo)).resolve()).rstrip("/") + "/"  # absolute, as CALCAT's file_path
    except NotFoundError:
        prefix = ""
    config = ServeConfig(repo=repo, branch=branch, store_prefix=prefix, facility_tz=facility_tz,
                         strict_snapshots=strict_snapshots, max_connections=max_connections,
                         header_timeout=header_timeout, body_timeout=body_timeout)
    if not write:
        if tokens or trust_proxy_user_header:
            raise click.UsageError("--tokens and --trust-proxy-user-header belong to --write")
        run(config, host, port, workers, access_log)
        return
    from calcat_git.gateway.app import GatewayConfig, check_writable, environment  # imported on use: only --write needs it

    gateway = GatewayConfig(tokens=str(Path(tokens).resolve()) if tokens else None,
                            trust_proxy_user_header=trust_proxy_user_header, store=prefix.rstrip("/") or None)
    check_writable(config, gateway)
    environment(gateway)
    run(config, host, port, workers, access_log, "calcat_git.gateway.app:app_from_environment", "writing")
