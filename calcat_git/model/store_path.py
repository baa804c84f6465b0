"""The rule for a path inside the constant store, shared by validation and the store."""

from __future__ import annotations

import re
from functools import lru_cache

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f]")


@lru_cache(maxsize=1 << 16)  # many CCVs name one file: each path is judged once
def store_path_problem(path: str) -> str | None:
    """Why ``path`` is not a safe store-relative path, or None if it is."""
    if path.startswith("/") or _WINDOWS_DRIVE.match(path):
        return f"{path!r} is absolute: store paths are relative to the store root"
    if "\\" in path:
        return f"{path!r} contains a backslash: use / between folders"
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return f"{path!r} has an empty, '.' or '..' segment: paths must stay inside the store"
    if _CONTROL.search(path):
        return f"{path!r} contains a control character"
    return None
