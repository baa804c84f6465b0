"""Size and range limits of catalog files, importable without the YAML parser."""

from __future__ import annotations

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
INT_RANGE = (-(2**63), 2**63 - 1)  # what SQLite and JSON readers hold exactly enough
