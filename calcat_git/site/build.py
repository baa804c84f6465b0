"""``calcat-git site build``: generate the pages, then run the site engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import InvalidInputError
from calcat_git.site.changes import Summarize
from calcat_git.site.generate import generate


def prepare(root: Path, docs: Path, at: str | None = None, worktree: bool = False,
            pages: dict[str, str] | None = None, summarize: Summarize | None = None) -> dict[str, int]:
    """Hand-written pages of ``root/site``, the generated catalog and ``pages`` (path →
    markdown, e.g. the CLI reference the command line renders), into ``docs``; with
    ``summarize`` (a commit's ``calcat-git diff`` summary) the recent changes and feeds."""
    catalog = Catalog.open(root, worktree=worktree)
    if at:
        catalog = catalog.at(at)
    counts = generate(catalog, docs, root / "site", summarize, pages)
    return counts


def build(root: Path, out: Path | None, at: str | None, worktree: bool, engine: str,
          pages: dict[str, str] | None = None, summarize: Summarize | None = None) -> dict[str, int]:
    docs = root / ".site-src"
    counts = prepare(root, docs, at, worktree, pages, summarize)
    env = {**os.environ, "CALCAT_GIT_SITE_READY": "1"}
    site_dir = (out or root / ".site-build").resolve()
    config = root / "mkdocs.yml"
    if not config.is_file():  # a catalog without its own site configuration gets ours
        config = root / ".site-mkdocs.yml"
        config.write_text(resources.files("calcat_git").joinpath("site/defaults/mkdocs.yml").read_text("utf-8"))
    if engine == "mkdocs":
        cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "--site-dir", str(site_dir)]
    elif engine == "zensical":  # reads mkdocs.yml; writes its site_dir, copied to --out below
        cmd = [str(Path(sys.executable).with_name("zensical")), "build", "--clean", "-f", str(config)]
    else:
        raise InvalidInputError(f"unknown site engine {engine!r}: use mkdocs or zensical")
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise InvalidInputError(f"{engine} build failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    if engine == "zensical" and site_dir != (root / ".site-build").resolve():
        shutil.rmtree(site_dir, ignore_errors=True)
        shutil.copytree(root / ".site-build", site_dir)
    return counts
