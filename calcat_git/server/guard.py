"""Slow and idle clients: deadlines and a cap on connections, in the HTTP protocol itself.

uvicorn closes an idle keep-alive connection (``timeout_keep_alive``) but never one that
connects and then sends a request slowly, or not at all; its ``limit_concurrency``
counts such connections too and then answers 503 to everyone, which is the denial of
service itself. :class:`GuardedProtocol` (uvicorn's own protocol, ``httptools`` or
``h11``, with these rules added) therefore:

- drops a connection that has not sent a complete request line and headers
  ``header_timeout`` seconds after it opened (or after its previous reply), or that sends
  more than ``MAX_HEADER_BYTES`` of them;
- drops a request whose body is not complete ``body_timeout`` seconds after its headers,
  and one whose client stops taking the reply for ``ANSWER_FACTOR`` times that;
- keeps at most ``max_connections`` connections per process: a new one beyond that
  pushes out the one waiting longest for its client (headers or body), so idle or
  half-open sockets never keep a well-behaved client out. With none waiting, the new
  connection is closed.

Bodies held in memory are bounded separately (``request.PendingBodies``). The settings
come from ``ServeConfig`` (``--max-connections``, ``--header-timeout``,
``--body-timeout``), in ``$CALCAT_GIT_SERVE_CONFIG`` for each worker process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

SWEEP_SECONDS = 0.5
MAX_HEADER_BYTES = 64 << 10  # request line and headers; a Python client refuses a header line over 64 KiB
ANSWER_FACTOR = 4
log = logging.getLogger("calcat_git.server.app")


class Guard:
    """The connections of one process and their deadlines (swept every ``SWEEP_SECONDS``)."""

    def __init__(self, max_connections: int, header_timeout: float, body_timeout: float) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.connections: dict[GuardedProtocol, None] = {}  # in order of arrival
        self.dropped = {"header timeout": 0, "header size": 0, "body timeout": 0, "answer timeout": 0,
                        "pushed out": 0, "refused": 0}
        self._sweeping = False

    def add(self, protocol: GuardedProtocol) -> None:
        self.connections[protocol] = None
        if not self._sweeping:
            self._sweeping = True
            asyncio.get_running_loop().call_later(SWEEP_SECONDS, self.sweep)
        if len(self.connections) > self.max_connections:
            waiting = [p for p in self.connections if p.waiting_since() is not None]
            victim = min(waiting, key=lambda p: p.waiting_since() or 0.0) if waiting else protocol
            self.drop(victim, "pushed out" if waiting else "refused")

    def discard(self, protocol: GuardedProtocol) -> None:
        self.connections.pop(protocol, None)

    def drop(self, protocol: GuardedProtocol, why: str) -> None:
        self.dropped[why] += 1
        self.discard(protocol)
        protocol.transport.abort()  # frees the socket now: nothing more is sent to a client that stalls

    def sweep(self) -> None:
        now = time.monotonic()
        for protocol in list(self.connections):
            why = protocol.overdue(now, self)
            if why:
                self.drop(protocol, why)
        if self.connections:
            asyncio.get_running_loop().call_later(SWEEP_SECONDS, self.sweep)
        else:
            self._sweeping = False


def _settings() -> Guard:
    config = json.loads(os.environ.get("CALCAT_GIT_SERVE_CONFIG", "{}"))
    return Guard(int(config.get("max_connections", 512)), float(config.get("header_timeout", 10.0)),
                 float(config.get("body_timeout", 30.0)))


_guard: Guard | None = None


def guard() -> Guard:
    """This process's guard (made on first use, from the serve config)."""
    global _guard
    if _guard is None:
        _guard = _settings()
    return _guard


class GuardedProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol with the deadlines and the connection cap of :class:`Guard`."""

    transport: asyncio.Transport
    cycle: Any
    flow: Any

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._since = time.monotonic()  # the start of the current wait for the client
        self._header_bytes = 0
        self._request: tuple[Any, float] | None = None  # the request cycle last seen, and when
        guard().add(self)

    def data_received(self, data: bytes) -> None:
        waiting = self._between_requests()
        super().data_received(data)
        if waiting and self._between_requests():  # headers still incomplete (a body after them is not counted)
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                guard().drop(self, "header size")

    def on_response_complete(self) -> None:
        self._since, self._header_bytes = time.monotonic(), 0
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        guard().discard(self)
        super().connection_lost(exc)

    def _between_requests(self) -> bool:
        return self.cycle is None or bool(self.cycle.response_complete)

    def waiting_since(self) -> float | None:
        """Since when the connection waits for its client (request or body); None while it
        is being answered."""
        if self._between_requests():
            return self._since
        if self.cycle.more_body:
            return self._request_start()
        return None

    def _request_start(self) -> float:
        if self._request is None or self._request[0] is not self.cycle:
            self._request = (self.cycle, time.monotonic())
        return self._request[1]

    def overdue(self, now: float, rules: Guard) -> str | None:
        """Which deadline the connection has missed, if any."""
        if self._between_requests():
            return "header timeout" if now - self._since > rules.header_timeout else None
        started = self._request_start()
        if self.cycle.more_body:
            return "body timeout" if now - started > rules.body_timeout else None
        stalled = self.flow is not None and self.flow.write_paused  # the client does not take the reply
        return "answer timeout" if stalled and now - started > ANSWER_FACTOR * rules.body_timeout else None
