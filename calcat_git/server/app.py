"""``calcat-git serve``: a read-only HTTP server speaking the subset of CALCAT's REST API
that EXtra's ``CalCatAPIClient`` uses, so existing clients work against a git catalog
with no change but the base URL.

Starlette (routing, requests, responses) on uvicorn (the ASGI server). Handlers are
``async def`` and call the index directly: a look-up is a few milliseconds of SQLite
and Python, so a thread hop would cost more than it saves. Every reply is JSON and
carries ``X-Calcat-Git-Commit``, the commit it was read from; errors are
``{"info": …}`` like CALCAT's (400 bad parameter, 404 unknown, 405 any method but GET),
never a traceback. The branch head is re-checked on every request (a ``stat`` of the
ref files; ``git rev-parse`` only when they changed), so new commits are served
without a restart. No value from a request is ever used as a file system path. What a
request may ask (body size, parameters, JSON depth, integers) is bounded in ``limits``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from calcat_git.errors import NotFoundError, RepositoryError
from calcat_git.server.asked import parse_asked
from calcat_git.server.ccvs import Encoded
from calcat_git.server.client_api import CLIENT_ROUTES
from calcat_git.server.endpoints import COMMIT_HEADER as COMMIT_HEADER  # (re-exported)
from calcat_git.server.endpoints import PROBLEM_HEADER as PROBLEM_HEADER
from calcat_git.server.endpoints import Call, endpoint, error_response
from calcat_git.server.following import Following, ServeConfig
from calcat_git.server.guard import MAX_HEADER_BYTES
from calcat_git.server.pinned import Pinned
from calcat_git.server.request import Limits, id_list, json_body
from calcat_git.timeutil import format_timestamp, now_utc

ENV_CONFIG = "CALCAT_GIT_SERVE_CONFIG"
MAPPING_COMMIT_HEADER = "X-Calcat-Git-Mapping-Commit"
KEEP_ALIVE_SECONDS = 5  # an idle keep-alive connection is closed after this (uvicorn's timeout_keep_alive)
SHUTDOWN_SECONDS = 5  # on stop, requests still running get this long (a stalled client never holds it up)
STARTUP_FAILURE = 3  # the exit status of a server that could not start (uvicorn's own)
SPARE_FILES = 64  # file descriptors kept beside the connections (index, git, logs)
log = logging.getLogger("calcat_git.server.app")


# --- handlers -------------------------------------------------------------------------------
def _mapping(call: Call, detector: str) -> dict[str, str | None]:
    """Slot → PDU of ``detector`` at pdu_snapshot_at (default: the time of the request) in the
    catalog served (the newest, or the one pinned by URL), or with --strict-snapshots in the
    catalog as committed then (as CALCAT answers; never later than the one served)."""
    moment = call.query.time("pdu_snapshot_at") or call.now
    catalog = call.view.catalog
    if call.following.config.strict_snapshots:
        try:
            catalog = catalog.at(moment) if catalog.committed_at is None or moment < catalog.committed_at else catalog
        except RepositoryError as exc:
            raise NotFoundError(f"Resource not found! {exc}") from None
        call.headers[MAPPING_COMMIT_HEADER] = catalog.commit or ""
    return catalog.mapping(detector, at=moment)


def pdus_by_detector(call: Call) -> Any:
    detector = call.view.name_of("detector", call.query.required_integer("detector_id"))
    return call.view.pdus_by_detector(detector, _mapping(call, detector))


@dataclass(frozen=True)
class ConditionsQuery:
    """A look-up by conditions, parsed: equal questions are equal however they were spelled
    (the reply cache is keyed by this, never by the raw request)."""

    detector: str
    calibration_ids: tuple[int, ...]
    asked: tuple[tuple[str, float | str], ...]
    event_at: Any
    pdu_snapshot_at: Any
    strategy: str
    karabo_da: str | None


def asked_of(call: Call, detector: str | None = None) -> Any:
    """The asked condition of the body (``parse_asked``), checked against ``detector``'s type."""
    body = json_body(call.body, "conditions", '{"parameters_conditions_attributes": [...]}')
    type_name = call.view.catalog.detector(detector).type_name() if detector else ""
    known = list(call.view.catalog.detector_type(type_name).parameters) if detector else None
    parsed = parse_asked(body, call.view.asked_parameters(), known, type_name)
    return parsed


def _question(call: Call) -> ConditionsQuery:
    detector = call.query.required("detector_identifier")
    ids = id_list(call.query.required("calibration_id"), "calibration_id")
    asked = asked_of(call, detector).asked
    return ConditionsQuery(detector, tuple(ids), tuple(sorted(asked.items())), call.query.time("event_at"),
                           call.query.time("pdu_snapshot_at"), call.query.strategy(), call.query.text("karabo_da"))


def ccvs_by_conditions(call: Call) -> Any:
    """The look-up EXtra's from_condition makes. With both times given the reply depends on
    the commit and the request only, so it is kept (per commit) for repeated questions —
    e.g. the correction jobs of one run."""
    question = _question(call)
    if question.event_at is None or question.pdu_snapshot_at is None:
        return _ccvs_by_conditions(call, question)

    def answer() -> tuple[Encoded, dict[str, str]]:
        headers: dict[str, str] = {}
        return _ccvs_by_conditions(replace(call, headers=headers), question), headers

    data, headers = call.view.replies.get_or(question, answer)
    call.headers.update(headers)
    return data


def _ccvs_by_conditions(call: Call, question: ConditionsQuery) -> Encoded:
    return call.view.ccvs_by_conditions(question.detector, list(question.calibration_ids), dict(question.asked),
                                        question.event_at or call.now, _mapping(call, question.detector),
                                        question.strategy, question.karabo_da)


def _records(kind: str, name_key: str) -> Route:
    return Route(f"/api/{kind}s", endpoint(lambda c: c.view.records(kind, c.query.text(name_key)), (name_key,), True))


def _by_id(path: str, get: Callable[[Call], Any]) -> Route:
    return Route(f"/api/{path}/{{id:id64}}", endpoint(get))


ROUTES = [  # the look-up first: routes are tried in order, and it is most of the traffic
    Route("/api/calibration_constant_versions/get_by_detector_conditions",
          endpoint(ccvs_by_conditions, ("detector_identifier", "calibration_id", "karabo_da", "event_at",
                                        "pdu_snapshot_at", "begin_at_strategy", "begin_strategy_at"))),
    Route("/api/detectors/get_all_by_instrument",
          endpoint(lambda c: c.view.detectors(instrument_id=c.query.required_integer("instrument_id")),
                   ("instrument_id",))),
    _by_id("detectors", lambda c: c.view.detector(c.view.name_of("detector", c.path_id))),
    _records("instrument", "identifier"),
    _by_id("instruments", lambda c: c.view.records("instrument", c.view.name_of("instrument", c.path_id))[0]),
    _records("detector_type", "name"),
    _by_id("detector_types", lambda c: c.view.records("detector_type", c.view.name_of("detector_type", c.path_id))[0]),
    _records("calibration", "name"),
    _by_id("calibrations", lambda c: c.view.records("calibration", c.view.name_of("calibration", c.path_id))[0]),
    Route("/api/parameters", endpoint(lambda c: c.view.parameters(c.query.text("name")), ("name",), True)),
    _by_id("parameters", lambda c: c.view.parameter(c.path_id)),
    *(Route(f"/api/physical_detector_units{slash}get_all_by_detector",  # calibration_client asks with '//'
            endpoint(pdus_by_detector, ("detector_id", "pdu_snapshot_at"))) for slash in ("/", "//")),
    _by_id("physical_detector_units", lambda c: c.view.pdu(c.path_id)),
    _by_id("calibration_constant_versions", lambda c: c.view.ccv(c.path_id)),
    _by_id("reports", lambda c: c.view.report(c.path_id)),
    *CLIENT_ROUTES,
]


class ReadOnly:
    """Refuses every method but GET before routing (no HEAD, OPTIONS or writes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "GET":
            response = error_response(405, f"{scope['method']} is not allowed: this server is read-only (GET only). "
                                      "The catalog changes by pull requests: add constants with `calcat-git inject` "
                                      "(or edit the YAML) on a branch and open a pull request", {"Allow": "GET"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = "Resource not found!" if status == 404 else "internal error (see the server log)"
    if status == 500:
        log.error("unexpected error answering %s", request.url.path, exc_info=exc)
    return error_response(status, f"{message} {request.url.path}" if status == 404 else message)


def create_app(config: ServeConfig, first_routes: tuple[Route, ...] = (), guard: Callable[[ASGIApp], ASGIApp] = ReadOnly
               ) -> Starlette:
    """The application serving ``config.repo`` (its index is built or updated now);
    ``first_routes`` are tried before the read routes, ``guard`` decides on methods (the
    write mode's routes and guard)."""
    app = Starlette(routes=[*first_routes, *ROUTES], exception_handlers={HTTPException: _http_error,
                                                                        Exception: _http_error})
    app.state.following = Following(config)
    app.add_middleware(Limits, error=error_response)
    app.add_middleware(guard)
    app.add_middleware(Pinned, error=error_response)
    return app


def app_from_environment() -> Starlette:
    """The uvicorn factory of each worker process: the config comes in ``$CALCAT_GIT_SERVE_CONFIG``."""
    return create_app(ServeConfig(**json.loads(os.environ[ENV_CONFIG])))


def serve(config: ServeConfig, host: str, port: int, workers: int = 1, access_log: bool = False,
          factory: str = "calcat_git.server.app:app_from_environment", mode: str = "read-only") -> None:
    """Run the server until interrupted (``factory``: the application of each worker). One
    process binds its socket before it says where it serves, so ``port`` 0 is said as the
    port it got (the tests start servers so)."""
    config = replace(config, max_connections=connection_cap(config.max_connections))
    os.environ[ENV_CONFIG] = json.dumps(asdict(config))
    following = Following(config, seeks=False)  # fail early (and build the index once) before workers start
    options: dict[str, Any] = dict(
        factory=True, host=host, port=port, workers=workers, access_log=access_log,
        log_level="info" if access_log else "warning", http="calcat_git.server.guard:GuardedProtocol",
        timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_graceful_shutdown=SHUTDOWN_SECONDS,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES)
    server = uvicorn.Server(uvicorn.Config(factory, **options)) if workers == 1 else None
    sockets = [server.config.bind_socket()] if server else []
    bound = sockets[0].getsockname()[1] if sockets else port
    print(f"calcat-git serve: http://{host}:{bound}/api/ from {config.repo} ({following.rev} at {following.served}), "
          f"{mode}; naive times are read in {config.facility_tz}; {format_timestamp(now_utc())}", flush=True)
    if following.problem:
        print(f"calcat-git serve: {following.problem}", flush=True)
    if server is None:
        uvicorn.run(factory, **options)
        return
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=sockets)
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def connection_cap(wanted: int) -> int:
    """``wanted`` connections per process, or fewer if the open-file limit would be reached
    first (a process out of file descriptors refuses everyone): the soft limit is raised
    to the hard one when that helps, else the cap is lowered, and either is said."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = raised
    cap = min(wanted, soft - SPARE_FILES) if soft != resource.RLIM_INFINITY else wanted
    if cap < wanted:
        print(f"calcat-git serve: at most {cap} connections per process (not {wanted}): the open-file limit is "
              f"{soft}; raise it (ulimit -n) for more", flush=True)
    return max(cap, 1)
