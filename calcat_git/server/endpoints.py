"""What every endpoint of ``calcat-git serve`` shares: the call a handler sees (its query
read by ``request.Query``: any parameter the path does not take is refused, naming it),
pages, headers, and errors as CALCAT shapes them (``{"info": …}``)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from calcat_git.errors import CalcatGitError, InvalidInputError, NotFoundError
from calcat_git.server.ccvs import Encoded, dumps
from calcat_git.server.following import Following, Unavailable, printable
from calcat_git.server.pinned import PINNED_KEY
from calcat_git.server.request import Query
from calcat_git.server.view import CalcatView
from calcat_git.timeutil import now_utc

COMMIT_HEADER = "X-Calcat-Git-Commit"
PROBLEM_HEADER = "X-Calcat-Git-Problem"  # why the branch head is not served (printable ASCII, at most 512 bytes)
TAG_HEADER = "X-Calcat-Git-Tag"  # the published set a pinned request asked for
WARNING_HEADER = "X-Calcat-Git-Warning"  # e.g. the published set asked for was marked invalid
JSON_TYPE = "application/json; charset=utf-8"
log = logging.getLogger("calcat_git.server.app")


@dataclass
class Call:
    """One request as a handler sees it. ``now`` is the request's one default of the times
    it does not give (event_at, pdu_snapshot_at, snapshot_at): read once, as it arrives."""

    view: CalcatView
    query: Query
    body: bytes
    path_id: int
    following: Following
    headers: dict[str, str]
    now: datetime


Handler = Callable[[Call], Any]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = data.bytes() if isinstance(data, Encoded) else dumps(data)
    return Response(body, status_code=status, headers=headers, media_type=JSON_TYPE)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"info": message, "status": status}, status, headers)


def endpoint(handler: Handler, allowed: tuple[str, ...] = (), paged: bool = False
             ) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around ``handler``: parameters, errors, commit and page headers."""

    async def run(request: Request) -> Response:
        following: Following = request.app.state.following
        body = await request.body()
        for attempt in (1, 2):
            headers: dict[str, str] = {}
            try:
                return answer(following, request, body, headers)
            except sqlite3.Error as exc:  # the index was damaged under us: rebuilt, and asked once more
                if attempt == 2:
                    log.error("the index failed again after a rebuild", exc_info=exc)
                    return error_response(503, "the index is damaged and could not be rebuilt: see the server log",
                                          headers)
                following.recover(exc)
            except InvalidInputError as exc:
                return error_response(400, str(exc), headers)
            except NotFoundError as exc:
                return error_response(404, str(exc), headers)
            except Unavailable as exc:
                return error_response(503, str(exc), headers)
            except CalcatGitError as exc:
                return error_response(500, str(exc), headers)
        raise AssertionError("unreachable")  # pragma: no cover

    def answer(following: Following, request: Request, body: bytes, headers: dict[str, str]) -> Response:
        pinned = request.scope.get(PINNED_KEY)
        try:
            view = following.view() if pinned is None else following.view_at(pinned)
        finally:
            if following.problem:
                headers[PROBLEM_HEADER] = following.problem
        headers[COMMIT_HEADER] = view.catalog.commit or ""
        if view.catalog.tag:
            headers[TAG_HEADER] = view.catalog.tag
        if view.catalog.notes:
            headers[WARNING_HEADER] = printable("; ".join(view.catalog.notes))
        query = Query(request, allowed, view.zone, paged)
        call = Call(view, query, body, int(request.path_params.get("id", 0)), following, headers,
                    now_utc())
        data = handler(call)
        if paged:
            data, page_headers = call.query.page(data)
            headers.update(page_headers)
        return _json(data, headers=headers)

    return run
