"""What a request to ``calcat-git serve`` says, and what it may ask: the server's one reader
of query parameters, bodies, times, ids and pages, and the bounds checked before any work.

Unknown is loud: a query parameter the path does not take is refused naming it, and so is
one given twice (400); the conditions of a body are read by ``asked``, which refuses an
unknown field the same way. A time is read as CALCAT reads it (:func:`client_time`: a
naive time in the facility's zone).

What one request may ask:

- a body of at most ``MAX_BODY_BYTES`` (1 MiB; more is refused with 413 before it is
  all read), and at most ``MAX_PENDING_BODY_BYTES`` of bodies held by the process at once
  (a body beyond that is refused with 503 as soon as its length or its data says so);
  a query string of at most ``MAX_PARAMETERS`` parameters and
  ``MAX_QUERY_BYTES`` bytes (400);
- a JSON body or JSON parameter nested at most ``MAX_JSON_DEPTH`` deep, no list longer
  than ``MAX_JSON_ITEMS``, every number finite and every integer within 64 bits (400);
- at most ``MAX_CONDITIONS`` conditions in a look-up, names of at most
  ``MAX_NAME_CHARS`` characters, names and string values of at most
  ``MAX_CONDITIONS_CHARS`` characters together (400);
- integers in ASCII digits only (``report_id=٣٧٥٧`` is not 3757), within 64 bits; ids in
  a path have at most 18 digits (longer ones match no route: 404);
- pages of at most ``MAX_PAGE_SIZE`` items (``page_size`` beyond it is cut to it).

With these bounds a look-up costs about what an honest one does (the asked conditions are
matched against every stored condition set and serialised per module: their size is what
makes a question expensive), so handlers may run on the event loop without holding other
clients up for long; ``tests/benchmarks/bench_hostile.py`` measures it.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, tzinfo
from typing import Any

import orjson
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from calcat_git.errors import InvalidInputError
from calcat_git.timeutil import parse_facility_time

MAX_BODY_BYTES = 1 << 20
MAX_PENDING_BODY_BYTES = 32 << 20  # bodies held at once by one process (32 of the largest, thousands of real ones)
BODY_REFUSALS = {"large": f"the request body is larger than {MAX_BODY_BYTES} bytes (1 MiB)",
                 "busy": f"too many request bodies pending (at most {MAX_PENDING_BODY_BYTES >> 20} MiB together): "
                         "retry shortly"}
MAX_QUERY_BYTES = 8 << 10
MAX_PARAMETERS = 16
MAX_JSON_DEPTH = 8
MAX_JSON_ITEMS = 256
MAX_CONDITIONS = 32  # a detector type has about ten parameters
MAX_NAME_CHARS = 128
MAX_CONDITIONS_CHARS = 8192  # LPD's 'Memory cell order' is a string of up to 512 cell numbers (~2 kB)
PAGE_SIZE, MAX_PAGE_SIZE = 100, 500
PAGE_PARAMETERS = ("page", "page_size")
INT64 = (-(2**63), 2**63 - 1)
_ASCII_INT = re.compile(r"-?[0-9]{1,19}")


class IdConvertor(Convertor[int]):
    """A record id in a path: 1 to 18 ASCII digits (below 2**63, so it fits SQLite)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id64", IdConvertor())  # before any route names it


# --- values ----------------------------------------------------------------------------------
def _shown(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:40]}… ({len(text)} characters)"


def ascii_int(text: str, name: str) -> int:
    """``text`` as a 64-bit integer written in ASCII digits (an optional leading ``-``)."""
    if not _ASCII_INT.fullmatch(text) or not INT64[0] <= int(text) <= INT64[1]:
        raise InvalidInputError(f"{name} must be an integer of ASCII digits within 64 bits, not {_shown(text)!r}")
    return int(text)


def client_time(text: str | None, zone: tzinfo, what: str) -> datetime | None:
    """A time as a CALCAT client sends it; ``None`` or ``''`` means now (None).

    The one place where the server accepts a naive time: EXtra passes strings through
    as it got them, and recorded requests carry times such as ``2020-01-07 13:26:48.00``,
    which CALCAT reads in the facility's zone (``zone``; see ``parse_facility_time``).
    """
    if text is None or not text.strip():
        return None
    return parse_facility_time(text, zone, what)


def _check(value: Any, what: str, depth: int = 1) -> None:
    if depth > MAX_JSON_DEPTH:
        raise InvalidInputError(f"{what} is nested more than {MAX_JSON_DEPTH} deep")
    if isinstance(value, list | dict):
        if len(value) > MAX_JSON_ITEMS:
            raise InvalidInputError(f"{what} has a list or object of {len(value)} items (at most {MAX_JSON_ITEMS})")
        for item in value.values() if isinstance(value, dict) else value:
            _check(item, what, depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
        raise InvalidInputError(f"{what} holds the integer {value}, beyond 64 bits")


def load_json(data: bytes | str, what: str, malformed: str | None = None) -> Any:
    """Parse JSON from a client within the limits above; :class:`InvalidInputError` otherwise
    (saying ``malformed``, if given, when it is no JSON or beyond what a double holds)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(malformed or f"{what} is not JSON within limits: {exc}") from None
    _check(value, what)
    return value


def json_body(body: bytes, what: str, example: str) -> Any:
    """A request's JSON body (``what`` it holds, shaped like ``example`` when it is missing)."""
    if not body.strip():
        raise InvalidInputError(f"send the {what} as a JSON body: {example}")
    return load_json(body, "the body")


def id_list(text: str, name: str, empty: bool = False) -> list[int]:
    """An id or a JSON list of ids as clients send them (``[1, 2]``; ``empty``: ``[]`` too)."""
    malformed = f"{name} must be an id or a list of ids such as [1, 2], not {_shown(text)!r}"
    value = load_json(text, name, malformed) if text.isascii() else None
    ids = value if isinstance(value, list) else [value]
    if (not ids and not empty) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInputError(malformed)
    return [i for i in ids if isinstance(i, int)]


def check_conditions(asked: dict[str, float | str]) -> None:
    """Refuse a look-up asking more, or longer, conditions than any detector type has."""
    if len(asked) > MAX_CONDITIONS:
        raise InvalidInputError(f"{len(asked)} conditions given (at most {MAX_CONDITIONS})")
    for name in asked:
        if len(name) > MAX_NAME_CHARS:
            raise InvalidInputError(f"parameter name {name[:40]!r}… is {len(name)} characters long "
                                    f"(at most {MAX_NAME_CHARS})")
    size = sum(len(name) + (len(value) if isinstance(value, str) else 0) for name, value in asked.items())
    if size > MAX_CONDITIONS_CHARS:
        raise InvalidInputError(f"the conditions hold {size} characters of names and text values "
                                f"(at most {MAX_CONDITIONS_CHARS})")


# --- query parameters --------------------------------------------------------------------------
class Query:
    """The query parameters of a request, each ``allowed`` name at most once (any other is
    refused); times are read in ``zone``. A ``paged`` path takes ``page`` and ``page_size`` too."""

    def __init__(self, request: Request, allowed: tuple[str, ...], zone: tzinfo, paged: bool = False) -> None:
        allowed = (*allowed, *PAGE_PARAMETERS) if paged else allowed
        params = request.query_params
        for key in params:
            if key not in allowed:
                raise InvalidInputError(f"unknown query parameter {key!r}" +
                                        (f" (allowed: {', '.join(allowed)})" if allowed else " (this path takes none)"))
            if len(params.getlist(key)) > 1:
                raise InvalidInputError(f"query parameter {key!r} is given more than once")
        self.params = params
        self.zone = zone

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

    def time(self, name: str) -> datetime | None:
        """The time ``name`` as CALCAT reads it (:func:`client_time`); None: now."""
        return client_time(self.text(name), self.zone, name)

    def strategy(self) -> str:
        """``begin_at_strategy`` (EXtra) or ``begin_strategy_at`` (calibration_client), default closest."""
        given = {text for name in ("begin_at_strategy", "begin_strategy_at") if (text := self.text(name)) is not None}
        if len(given) > 1:
            raise InvalidInputError(f"begin_at_strategy and begin_strategy_at disagree: {', '.join(sorted(given))}")
        return given.pop() if given else "closest"

    def page(self, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """The page of ``items`` asked (``page``, ``page_size``) and the headers saying which."""
        page, size = self.integer("page", 1), self.integer("page_size", PAGE_SIZE)
        if page is None or size is None or page < 1 or size < 1:
            raise InvalidInputError("page and page_size must be at least 1")
        size = min(size, MAX_PAGE_SIZE)
        pages = max(1, math.ceil(len(items) / size))
        headers = {"X-Total-Pages": str(pages), "X-Count-Per-Page": str(size), "X-Current-Page": str(page),
                   "X-Total-Count": str(len(items))}
        return items[(page - 1) * size: page * size], headers


# --- sizes, before routing ---------------------------------------------------------------------
def _query_problem(scope: Scope) -> str | None:
    query: bytes = scope.get("query_string", b"")
    if len(query) > MAX_QUERY_BYTES:
        return f"the query string is {len(query)} bytes long (at most {MAX_QUERY_BYTES})"
    count = len([part for part in query.split(b"&") if part])
    if count > MAX_PARAMETERS:
        return f"{count} query parameters given (at most {MAX_PARAMETERS})"
    return None


class PendingBodies:
    """Bytes of request bodies held in memory by one process, at most ``limit`` together:
    however many clients send bodies (or hold them unfinished), memory stays bounded."""

    def __init__(self, limit: int = MAX_PENDING_BODY_BYTES) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        """Reserve ``size`` more bytes; False (nothing reserved) if that exceeds the limit."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        self.held -= size


class Disconnected(Exception):
    """The client went away (or was dropped) before its body was complete."""


class Limits:
    """ASGI middleware: refuses oversized requests before routing; the body is read here
    (at most ``MAX_BODY_BYTES`` of it, within the process's ``PendingBodies``) and handed on whole."""

    def __init__(self, app: ASGIApp, error: Any, pending: PendingBodies | None = None) -> None:
        self.app = app
        self.error = error  # (status, message) -> Response, the server's JSON error
        self.pending = pending or PendingBodies()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _query_problem(scope)
        if problem:
            await self._refuse(400, problem, scope, receive, send)
            return
        held = [0]  # bytes of this request's body reserved in self.pending
        try:
            body = await self._body(scope, receive, held)
        except Disconnected:
            return  # nobody to answer
        finally:
            self.pending.give(held[0])  # the body is handed on whole: it is no longer pending
        if isinstance(body, str):
            await self._refuse(413 if body == "large" else 503, BODY_REFUSALS[body], scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # http.disconnect, when it comes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _body(self, scope: Scope, receive: Receive, held: list[int]) -> bytes | str:
        """The whole body, or why not ("large", "busy") as soon as that is known; bytes
        reserved in ``self.pending`` are added to ``held[0]`` (the announced length up front)."""
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit() or len(value) > 12 or int(value) > MAX_BODY_BYTES:
                    return "large"
                if not self.pending.take(int(value)):
                    return "busy"
                held[0] += int(value)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                raise Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return "large"
            if size > held[0]:  # chunked, or more than announced
                if not self.pending.take(size - held[0]):
                    return "busy"
                held[0] = size
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _refuse(self, status: int, message: str, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response = self.error(status, message)
        await response(scope, receive, send)
