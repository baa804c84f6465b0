"""``calcat-git serve --write``: the read server plus CALCAT's write API as commits.

Reads stay open and unchanged. The writes calibration-client 11.4.0 makes in
``inject_new_calibration_constant_version`` and ``update_calibration_constant_version``
are answered as CALCAT answers them (201 with the record; errors as ``{"info": …}``:
400 a malformed body, 401 no known writer, 404 an unknown id, 422 a request the catalog
cannot take, 503 a repository that moved under the write: try again), each by a writer
named by a bearer token or a trusted proxy (``auth``). Every other method or path is 405.
A write runs on a thread (git and HDF5 block), one at a time per repository through the
write path's lock; its reply names the branch it wrote (``X-Calcat-Git-Branch``), whether
it was merged (``X-Calcat-Git-Review``) and the commit serving it (``X-Calcat-Git-Commit``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from calcat_git.errors import CalcatGitError, CatalogInvalidError, InvalidInputError, NotFoundError, RepositoryError
from calcat_git.gateway.approve import Approval
from calcat_git.gateway.auth import Tokens, Writer, writer_of
from calcat_git.gateway.ccv import parse_ccv
from calcat_git.gateway.context import Gateway, Refused
from calcat_git.gateway.flags import ccv_by_id, put_flags
from calcat_git.gateway.steps import set_calibration_constant, set_expected_condition, set_report
from calcat_git.gateway.together import Committer
from calcat_git.git import commits
from calcat_git.git.repo import GitRepo
from calcat_git.server.app import ENV_CONFIG, create_app
from calcat_git.server.ccvs import dumps
from calcat_git.server.endpoints import COMMIT_HEADER, JSON_TYPE, endpoint, error_response
from calcat_git.server.following import Following, ServeConfig
from calcat_git.server.view import CalcatView

ENV_GATEWAY = "CALCAT_GIT_GATEWAY_CONFIG"
REASON_HEADER = "x-calcat-git-reason"
WRITES = {("POST", "/api/conditions/set_expected_condition"), ("POST", "/api/calibration_constants"),
          ("POST", "/api/reports"), ("POST", "/api/reports/set"), ("POST", "/api/calibration_constant_versions")}
log = logging.getLogger("calcat_git.gateway")


@dataclass(frozen=True)
class GatewayConfig:
    tokens: str | None = None  # the token file
    trust_proxy_user_header: bool = False
    store: str | None = None  # the constant store root (absolute)
    grace_hours: float = 24.0


Outcome = tuple[int, Any, Approval | None]
Step = Callable[[Gateway, CalcatView, bytes, Writer, Request], Outcome]


def _is_write(method: str, path: str) -> bool:
    path = path.removesuffix("/")  # calibration-client posts to "calibration_constants/"
    if (method, path) in WRITES:
        return True
    head, _, tail = path.rpartition("/")
    return method == "PUT" and head == "/api/calibration_constant_versions" and tail.isdigit()


class WriteGate:
    """GET for everyone; the write API's methods and paths for a known writer (401
    otherwise, before the body is read); anything else 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "GET":
            method, path = scope["method"], scope["path"]
            if not _is_write(method, path):
                response = error_response(405, f"{method} {path} is not allowed: this server writes only what "
                                          "calibration-client's injection sends (POST conditions/"
                                          "set_expected_condition, calibration_constants, reports, "
                                          "calibration_constant_versions; PUT calibration_constant_versions/<id>)",
                                          {"Allow": "GET"})
                await response(scope, receive, send)
                return
            state = scope["app"].state
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            writer = writer_of(headers, state.tokens, state.gateway_config.trust_proxy_user_header)
            if writer is None:
                response = error_response(401, "writing needs a writer: send 'Authorization: Bearer TOKEN' with a "
                                          "token of the server's token file (reads need none)",
                                          {"WWW-Authenticate": 'Bearer realm="calcat-git"'})
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["writer"] = writer
        await self.app(scope, receive, send)


def _status(exc: CalcatGitError) -> int:
    if isinstance(exc, Refused | CatalogInvalidError):
        return 422
    if isinstance(exc, InvalidInputError):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, RepositoryError):
        return 503
    return 500


def write_endpoint(step: Step) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        following: Following = request.app.state.following
        headers: dict[str, str] = {}
        try:
            view = following.view()
            status, data, approval = await run_in_threadpool(step, request.app.state.gateway, view,
                                                             await request.body(), request.state.writer, request)
        except CalcatGitError as exc:
            message = str(exc) if not isinstance(exc, NotFoundError) or str(exc).startswith("Resource") else \
                f"Resource not found! {exc}"
            return error_response(_status(exc), message.strip("'\""), headers)
        headers[COMMIT_HEADER] = view.catalog.commit or ""  # served when the request came
        if approval is not None:
            headers.update(approval.headers())
            if approval.merged is not None:
                headers[COMMIT_HEADER] = approval.merged  # served from the next request on
        return Response(dumps(data), status_code=status, headers=headers, media_type=JSON_TYPE)

    return run


def _created(make: Callable[[Gateway, CalcatView, bytes], tuple[int, Any]]) -> Step:
    return lambda gateway, view, body, writer, request: (*make(gateway, view, body), None)


def _ccv(gateway: Gateway, view: CalcatView, body: bytes, writer: Writer, request: Request) -> Outcome:
    posted = parse_ccv(gateway, view, body)  # the file read and hashed here, on this request's thread
    (status, data), approval = request.app.state.committer.submit(view, posted, writer)
    return status, data, approval


def _flags(gateway: Gateway, view: CalcatView, body: bytes, writer: Writer, request: Request) -> Outcome:
    reason = request.headers.get(REASON_HEADER, "")
    data, approval = put_flags(gateway, view, int(request.path_params["id"]), body, writer, reason)
    return 200, data, approval


def write_routes(gateway: Gateway) -> tuple[Route, ...]:
    """The write API's routes, and the read of a CCV that waits for review on its branch."""
    return (*WRITE_ROUTES, Route("/api/calibration_constant_versions/{id:id64}",
                                 endpoint(lambda c: ccv_by_id(gateway, c.view, c.path_id)), methods=["GET"]))


WRITE_ROUTES = tuple(
    Route(path + slash, write_endpoint(step), methods=[method])
    for path, step, method in (
        ("/api/conditions/set_expected_condition", _created(set_expected_condition), "POST"),
        ("/api/calibration_constants", _created(set_calibration_constant), "POST"),
        ("/api/reports", _created(set_report), "POST"),
        ("/api/reports/set", _created(set_report), "POST"),  # what Report.set() posts to
        ("/api/calibration_constant_versions", _ccv, "POST"),
        ("/api/calibration_constant_versions/{id:id64}", _flags, "PUT"),
    ) for slash in ("", "/"))


def create_write_app(config: ServeConfig, gateway_config: GatewayConfig) -> Starlette:
    """The read server with the write API (see the module)."""
    store = Path(gateway_config.store) if gateway_config.store else None
    branch = GitRepo(config.repo).resolve_branch(config.branch)
    gateway = Gateway(config.repo, branch, store, config.store_prefix, gateway_config.grace_hours)
    app = create_app(config, write_routes(gateway), WriteGate)
    app.state.gateway = gateway
    app.state.committer = Committer(gateway)
    app.state.gateway_config = gateway_config
    app.state.tokens = Tokens.read(gateway_config.tokens) if gateway_config.tokens else Tokens()
    return app


def app_from_environment() -> Starlette:
    """The uvicorn factory of each worker process of ``serve --write``."""
    return create_write_app(ServeConfig(**json.loads(os.environ[ENV_CONFIG])),
                            GatewayConfig(**json.loads(os.environ[ENV_GATEWAY])))


def environment(gateway_config: GatewayConfig) -> None:
    os.environ[ENV_GATEWAY] = json.dumps(asdict(gateway_config))


def check_writable(config: ServeConfig, gateway_config: GatewayConfig) -> None:
    """Refuse to start a writer that could not work: no writer can ever be named, or the
    served branch is checked out (merging would leave its working tree behind)."""
    if not gateway_config.tokens and not gateway_config.trust_proxy_user_header:
        raise InvalidInputError("--write needs --tokens FILE (or --trust-proxy-user-header behind an authenticating "
                                "proxy): every write names its writer")
    if gateway_config.tokens:
        Tokens.read(gateway_config.tokens)  # a malformed line is an error now, not at the first write
    repo = GitRepo(config.repo)
    branch = repo.resolve_branch(config.branch)
    where = commits.checked_out(repo).get(branch)
    if where is not None:
        raise RepositoryError(f"--write moves branch {branch}, which is checked out in {where}: serve a bare clone "
                              "(git clone --bare) or a repository where another branch is checked out")
