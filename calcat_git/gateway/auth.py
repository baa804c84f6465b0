"""Who may write through the gateway: reads stay open, a write names its writer.

A writer shows a bearer token (``Authorization: Bearer TOKEN``) listed in the token file
(``--tokens FILE``), one token a line, stored hashed::

    # sha256 of the token                                              committer
    sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae  Ada Expert <ada@example.org>

(``printf %s "$TOKEN" | sha256sum`` prints the hash.) The hash of the token shown is
compared with every listed one in constant time. Only when the server is told to trust
its reverse proxy (``--trust-proxy-user-header``) does the ``X-User-Email`` header that
calibration-client sends to an authenticating proxy name the writer instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from calcat_git.errors import InvalidInputError

USER_HEADER = "x-user-email"
_LINE = re.compile(r"sha256:(?P<hash>[0-9a-f]{64})\s+(?P<name>[^<>]*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>")
_EMAIL = re.compile(r"[^<>\s@]+@[^<>\s@]+")


@dataclass(frozen=True)
class Writer:
    """Who a write is made for: the author and committer of its commits."""

    name: str
    email: str

    def identity(self) -> tuple[str, str]:
        return self.name, self.email


@dataclass(frozen=True)
class Tokens:
    """The token file's entries: sha256 of a token → its writer."""

    entries: tuple[tuple[bytes, Writer], ...] = ()

    @classmethod
    def read(cls, path: str | Path) -> Tokens:
        """The token file at ``path`` (see the module); a line it cannot read is an error naming it."""
        entries = []
        text = Path(path).read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            found = _LINE.fullmatch(line.strip())
            if found is None:
                raise InvalidInputError(f"{path}:{number}: a token line is 'sha256:<64 hex digits> Name <e-mail>'")
            entries.append((bytes.fromhex(found["hash"]), Writer(found["name"] or found["email"], found["email"])))
        return cls(tuple(entries))

    def writer(self, token: str) -> Writer | None:
        """The writer of ``token``, or None; every entry is compared, in constant time."""
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for stored, writer in self.entries:
            if hmac.compare_digest(stored, digest):
                found = writer
        return found


def writer_of(headers: dict[str, str], tokens: Tokens, trust_proxy: bool) -> Writer | None:
    """The writer a request names (lower-case ``headers``), or None: a bearer token first,
    then, only with ``trust_proxy``, the proxy's user header."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return tokens.writer(token.strip())
    email = headers.get(USER_HEADER, "").strip()
    if trust_proxy and _EMAIL.fullmatch(email):
        return Writer(email.partition("@")[0], email)
    return None
