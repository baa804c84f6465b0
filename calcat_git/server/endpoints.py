"""What every endpoint of ``calcat-git serve`` shares: its query parameters (each allowed
name at most once; any other refused, naming it), the call a handler sees, pages, and
errors as CALCAT shapes them (``{"info": …}``)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from calcat_git.errors import CalcatGitError, InvalidInputError, NotFoundError
from calcat_git.server.ccvs import Encoded, dumps
from calcat_git.server.following import Following
from calcat_git.server.limits import ascii_int, load_json
from calcat_git.server.view import CalcatView

COMMIT_HEADER = "X-Calcat-Git-Commit"
PROBLEM_HEADER = "X-Calcat-Git-Problem"  # why a newer commit of the branch is not served
PAGE_SIZE, MAX_PAGE_SIZE = 100, 500
JSON_TYPE = "application/json; charset=utf-8"


class Query:
    """The query parameters of a request, each allowed name at most once."""

    def __init__(self, request: Request, allowed: tuple[str, ...]) -> None:
        params = request.query_params
        for key in params:
            if key not in allowed:
                raise InvalidInputError(f"unknown query parameter {key!r}" +
                                        (f" (allowed: {', '.join(allowed)})" if allowed else " (this path takes none)"))
            if len(params.getlist(key)) > 1:
                raise InvalidInputError(f"query parameter {key!r} is given more than once")
        self.params = params

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        return ascii_int(value, name)

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise InvalidInputError(f"query parameter {name!r} is required")
        return value

    def required_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise InvalidInputError(f"query parameter {name!r} is required")
        return value


@dataclass
class Call:
    """One request as a handler sees it."""

    view: CalcatView
    query: Query
    body: bytes
    path_id: int
    following: Following
    headers: dict[str, str]


Handler = Callable[[Call], Any]


def _paged(items: list[Any], query: Query) -> tuple[list[Any], dict[str, str]]:
    page, size = query.integer("page", 1), query.integer("page_size", PAGE_SIZE)
    if page is None or size is None or page < 1 or size < 1:
        raise InvalidInputError("page and page_size must be at least 1")
    size = min(size, MAX_PAGE_SIZE)
    pages = max(1, math.ceil(len(items) / size))
    headers = {"X-Total-Pages": str(pages), "X-Count-Per-Page": str(size), "X-Current-Page": str(page),
               "X-Total-Count": str(len(items))}
    return items[(page - 1) * size: page * size], headers


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = data.bytes() if isinstance(data, Encoded) else dumps(data)
    return Response(body, status_code=status, headers=headers, media_type=JSON_TYPE)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return _json({"info": message, "status": status}, status, headers)


def endpoint(handler: Handler, allowed: tuple[str, ...] = (), paged: bool = False
             ) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around ``handler``: parameters, errors, commit and page headers."""
    names = (*allowed, "page", "page_size") if paged else allowed

    async def run(request: Request) -> Response:
        following: Following = request.app.state.following
        headers: dict[str, str] = {}
        try:
            view = following.view()
            headers[COMMIT_HEADER] = view.catalog.commit or ""
            if following.problem:
                headers[PROBLEM_HEADER] = following.problem
            call = Call(view, Query(request, names), await request.body(), int(request.path_params.get("id", 0)),
                        following, headers)
            data = handler(call)
            if paged:
                data, page_headers = _paged(data, call.query)
                headers.update(page_headers)
            return _json(data, headers=headers)
        except InvalidInputError as exc:
            return error_response(400, str(exc), headers)
        except NotFoundError as exc:
            return error_response(404, str(exc), headers)
        except CalcatGitError as exc:
            return error_response(500, str(exc), headers)

    return run


def id_list(text: str, name: str, empty: bool = False) -> list[int]:
    """An id or a JSON list of ids as clients send them (``[1, 2]``; ``empty``: ``[]`` too)."""
    shown = text if len(text) <= 40 else f"{text[:40]}… ({len(text)} characters)"
    malformed = f"{name} must be an id or a list of ids such as [1, 2], not {shown!r}"
    value = load_json(text, name, malformed) if text.isascii() else None
    ids = value if isinstance(value, list) else [value]
    if (not ids and not empty) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInputError(malformed)
    return [i for i in ids if isinstance(i, int)]
