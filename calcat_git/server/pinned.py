"""Clients pinned by URL: ``/at/<revision>/api/…`` is ``/api/…`` at that revision."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

PINNED_KEY = "calcat_git.revision"  # the scope key the revision is handed on in


class Pinned:
    """``/at/<revision>/api/…`` answers as ``/api/…`` at that revision (a commit, a published
    set's tag, a branch, or a time): the revision, percent-decoded from the raw path (so a
    tag may hold ``/`` as ``%2F``), goes to the handlers in the scope."""

    def __init__(self, app: ASGIApp, error: Any) -> None:
        self.app = app
        self.error = error  # (status, message) -> Response, the server's JSON error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw: bytes = scope.get("raw_path") or scope.get("path", "").encode()
        if scope["type"] == "http" and raw.startswith(b"/at/"):
            revision, slash, rest = raw[len(b"/at/"):].partition(b"/")
            if not slash or not rest.startswith(b"api/") or not revision:
                response: Response = self.error(404, "Resource not found! pinned paths are /at/<revision>/api/…")
                await response(scope, receive, send)
                return
            path = "/" + unquote(rest.decode("ascii", "replace"))
            scope = {**scope, "path": path, "raw_path": b"/" + rest,
                     PINNED_KEY: unquote(revision.decode("ascii", "replace"))}
        await self.app(scope, receive, send)
