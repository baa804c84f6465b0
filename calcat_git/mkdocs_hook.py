"""The thin mkdocs hook: plain ``mkdocs build`` and ``mkdocs serve`` work on a fresh clone.

``mkdocs.yml`` names the hand-written pages (``site/``) as ``docs_dir``, which a fresh
clone has. Once the configuration is read, this hook generates the catalog pages with
those hand-written pages into the git directory (``.git/calcat-git/site-src/``, where no
commit can put a file; from the newest commit, or ``CALCAT_GIT_SITE_AT=<time|sha>``) and
points ``docs_dir`` there, so mkdocs builds them; ``mkdocs serve`` watches ``site/`` and
regenerates on each rebuild. An output folder (``site_dir``) that is a symbolic link is
refused: mkdocs would empty the folder it points at; a finished output is marked as one
calcat-git built, so ``calcat-git site build`` may replace it. ``calcat-git site build`` generates
into a folder of its own first, names it in its configuration copy and sets
CALCAT_GIT_SITE_READY=1, so the hook then does nothing.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from calcat_git.cli.doc import page
from calcat_git.errors import CalcatGitError
from calcat_git.files.config import load_config
from calcat_git.locks import exclusive
from calcat_git.site.build import MARKER, MARKER_TEXT, generated_folder, prepare


def on_config(config: Any) -> Any:
    """Generate the catalog pages and point docs_dir at them; the catalog's ``name``
    (calcat-git.yaml) is the site's title where it has one."""
    name = load_config(Path(config.config_file_path).parent).get("name")
    if name:
        config["site_name"] = name
    if os.environ.get("CALCAT_GIT_SITE_READY") == "1":
        return config  # `calcat-git site build` generated the pages and named docs_dir itself
    root = Path(config.config_file_path).parent
    site_dir = Path(config.site_dir)
    if site_dir.is_symlink():
        raise PluginError(f"{site_dir} is a symbolic link: mkdocs would empty the folder it points at; remove the "
                          "link (or set site_dir to a folder)")
    kept = generated_folder(root)
    if kept is None:
        raise PluginError(f"{root} is not a git repository: the catalog pages are generated from its commits")
    docs, lock = kept
    try:
        with exclusive(lock, "waiting for another site build of this checkout …"):
            prepare(root, docs, os.environ.get("CALCAT_GIT_SITE_AT"), pages={"guide/cli.md": page()})
    except CalcatGitError as exc:
        raise PluginError(str(exc)) from None
    config["docs_dir"] = str(docs)
    return config


def on_post_build(config: Any) -> None:
    """Mark the output as a site calcat-git built (mkdocs made it), so that ``calcat-git site
    build`` may replace it later; the marker is written without following a link."""
    if os.environ.get("CALCAT_GIT_SITE_READY") == "1":
        return  # `calcat-git site build` marks what it publishes
    fd = os.open(Path(config.site_dir) / MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(MARKER_TEXT)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """``mkdocs serve`` rebuilds when the hand-written pages change, not when the hook
    regenerates the catalog pages (which would rebuild forever)."""
    root = Path(config.config_file_path).parent
    with contextlib.suppress(KeyError):  # watched only when serve read docs_dir after on_config
        server.unwatch(config.docs_dir)
    server.watch(str(root / "site"))
    return server
