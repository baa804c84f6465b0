"""Catalog text in markdown: escaped so that it stays inert text wherever it is shown."""

from __future__ import annotations

import re
from html import escape

_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def md(text: object) -> str:
    """Catalog text made safe for markdown: on one line (a line break in a commit message or
    reason cannot end a table row or start a block), HTML escaped, markdown syntax neutralised."""
    out = escape(_LINE_BREAKS.sub(" ", str(text)), quote=True)
    return "".join(f"\\{ch}" if ch in "\\`*_{}[]()#+-.!|~" else ch for ch in out)
