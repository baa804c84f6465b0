"""The thin mkdocs hook: plain ``mkdocs build`` and ``mkdocs serve`` work on a fresh clone.

``mkdocs.yml`` names the hand-written pages (``site/``) as ``docs_dir``, which a fresh
clone has. Once the configuration is read, this hook generates the catalog pages with
those hand-written pages into ``.site-src/`` (from the newest commit, or
``CALCAT_GIT_SITE_AT=<time|sha>``) and points ``docs_dir`` there, so mkdocs builds them;
``mkdocs serve`` watches ``site/`` and regenerates on each rebuild. ``calcat-git site
build`` generates into a folder of its own first, names it in its configuration copy and
sets CALCAT_GIT_SITE_READY=1, so the hook then does nothing.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from calcat_git.cli.doc import page
from calcat_git.site.build import prepare

GENERATED = ".site-src"


def on_config(config: Any) -> Any:
    if os.environ.get("CALCAT_GIT_SITE_READY") == "1":
        return config  # `calcat-git site build` generated the pages and named docs_dir itself
    root = Path(config.config_file_path).parent
    docs = root / GENERATED
    prepare(root, docs, os.environ.get("CALCAT_GIT_SITE_AT"), pages={"guide/cli.md": page()})
    config["docs_dir"] = str(docs)
    return config


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when the hand-written pages change, not when the hook
    regenerates .site-src/ (which would rebuild forever)."""
    root = Path(config.config_file_path).parent
    with contextlib.suppress(KeyError):  # watched only when serve read docs_dir after on_config
        server.unwatch(config.docs_dir)
    server.watch(str(root / "site"))
    return server
