"""Catalog text in markdown: escaped so that it stays inert text wherever it is shown."""

from __future__ import annotations

from html import escape


def md(text: object) -> str:
    """Catalog text made safe for markdown: HTML escaped, markdown syntax neutralised."""
    out = escape(str(text), quote=True)
    return "".join(f"\\{ch}" if ch in "\\`*_{}[]()#+-.!|~" else ch for ch in out)
