"""What one request may ask of the server, checked before any work is done.

- a body of at most ``MAX_BODY_BYTES`` (1 MiB; more is refused with 413 before it is
  all read), a query string of at most ``MAX_PARAMETERS`` parameters and
  ``MAX_QUERY_BYTES`` bytes (400);
- a JSON body or JSON parameter nested at most ``MAX_JSON_DEPTH`` deep, no list longer
  than ``MAX_JSON_ITEMS``, every number finite and every integer within 64 bits (400);
- at most ``MAX_CONDITIONS`` conditions in a look-up, names of at most
  ``MAX_NAME_CHARS`` characters, names and string values of at most
  ``MAX_CONDITIONS_CHARS`` characters together (400);
- integers in ASCII digits only (``report_id=٣٧٥٧`` is not 3757), within 64 bits; ids in
  a path have at most 18 digits (longer ones match no route: 404).

With these bounds a look-up costs about what an honest one does (the asked conditions are
matched against every stored condition set and serialised per module: their size is what
makes a question expensive), so handlers may run on the event loop without holding other
clients up for long; ``tests/benchmarks/bench_hostile.py`` measures it.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from calcat_git.errors import InvalidInputError

MAX_BODY_BYTES = 1 << 20
MAX_QUERY_BYTES = 8 << 10
MAX_PARAMETERS = 16
MAX_JSON_DEPTH = 8
MAX_JSON_ITEMS = 256
MAX_CONDITIONS = 32  # a detector type has about ten parameters
MAX_NAME_CHARS = 128
MAX_CONDITIONS_CHARS = 8192  # LPD's 'Memory cell order' is a string of up to 512 cell numbers (~2 kB)
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


def ascii_int(text: str, name: str) -> int:
    """``text`` as a 64-bit integer written in ASCII digits (an optional leading ``-``)."""
    if not _ASCII_INT.fullmatch(text) or not INT64[0] <= int(text) <= INT64[1]:
        shown = text if len(text) <= 40 else f"{text[:40]}… ({len(text)} characters)"
        raise InvalidInputError(f"{name} must be an integer of ASCII digits within 64 bits, not {shown!r}")
    return int(text)


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


def _query_problem(scope: Scope) -> str | None:
    query: bytes = scope.get("query_string", b"")
    if len(query) > MAX_QUERY_BYTES:
        return f"the query string is {len(query)} bytes long (at most {MAX_QUERY_BYTES})"
    count = len([part for part in query.split(b"&") if part])
    if count > MAX_PARAMETERS:
        return f"{count} query parameters given (at most {MAX_PARAMETERS})"
    return None


class Limits:
    """ASGI middleware: refuses oversized requests before routing; the body is read here
    (at most ``MAX_BODY_BYTES`` of it) and handed on whole."""

    def __init__(self, app: ASGIApp, error: Any) -> None:
        self.app = app
        self.error = error  # (status, message) -> Response, the server's JSON error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _query_problem(scope)
        if problem:
            await self._refuse(400, problem, scope, receive, send)
            return
        body = await self._body(scope, receive)
        if body is None:
            await self._refuse(413, f"the request body is larger than {MAX_BODY_BYTES} bytes (1 MiB)",
                               scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # http.disconnect, when it comes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _body(scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it is known to be too large."""
        for name, value in scope.get("headers", []):
            if name == b"content-length" and (not value.isdigit() or len(value) > 12 or int(value) > MAX_BODY_BYTES):
                return None
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _refuse(self, status: int, message: str, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response = self.error(status, message)
        await response(scope, receive, send)
