"""``calcat-git site build``: generate the pages, then run the site engine.

Each build works in its own temporary folder in the checkout (generated sources and
built pages; zensical wants both inside the project) with its own copy of the engine
configuration pointing there, and publishes the finished pages with a rename (after a
copy beside the output if that is on another file system): two builds in one checkout
never mix their snapshots, and readers of the output see one whole build or the other.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from importlib import resources
from pathlib import Path

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import InvalidInputError
from calcat_git.locks import exclusive
from calcat_git.site.changes import Summarize
from calcat_git.site.generate import generate

GENERATED = ".site-src"  # the generated pages; plain `mkdocs build` (the hook) writes them there too

_FOLDER_KEYS = re.compile(r"^(docs_dir|site_dir)\s*:.*$\n?", re.MULTILINE)


def prepare(root: Path, docs: Path, at: datetime | str | None = None, worktree: bool = False,
            pages: dict[str, str] | None = None, summarize: Summarize | None = None) -> dict[str, int]:
    """Hand-written pages of ``root/site``, the generated catalog and ``pages`` (path →
    markdown, e.g. the CLI reference the command line renders), into ``docs``; with
    ``summarize`` (a commit's ``calcat-git diff`` summary) the recent changes and feeds."""
    catalog = Catalog.open(root, worktree=worktree)
    if at:
        catalog = catalog.at(at)
    counts = generate(catalog, docs, root / "site", summarize, pages)
    return counts


def _config(root: Path, work: Path) -> Path:
    """The catalog's engine configuration (ours if it has none) with docs_dir and site_dir
    in ``work`` (a folder of ``root``; relative, as zensical wants); written beside the
    original, so its relative paths (hooks, overrides) hold."""
    original = root / "mkdocs.yml"
    text = original.read_text("utf-8") if original.is_file() else \
        resources.files("calcat_git").joinpath("site/defaults/mkdocs.yml").read_text("utf-8")
    text = _FOLDER_KEYS.sub("", text).rstrip("\n") + f"\ndocs_dir: {work.name}/src\nsite_dir: {work.name}/out\n"
    config = root / f".site-mkdocs-{work.name}.yml"
    config.write_text(text, "utf-8")
    return config


def publish(built: Path, target: Path) -> None:
    """Put the folder ``built`` at ``target`` by renames (on one file system): an older
    ``target`` is moved aside first and removed after; a concurrent publisher just wins or loses."""
    while True:
        try:
            os.rename(built, target)
            return
        except OSError:
            if not target.exists():
                raise
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        try:
            os.rename(target, aside / "site")
        except FileNotFoundError:
            pass  # another build moved it first: try again
        except NotADirectoryError:
            raise InvalidInputError(f"{target} is a file, not a folder: choose another --out") from None
        shutil.rmtree(aside, ignore_errors=True)


def _generate(root: Path, src: Path, at: datetime | str | None, worktree: bool, pages: dict[str, str] | None,
              summarize: Summarize | None) -> dict[str, int]:
    """Generate into the checkout's ``.site-src/`` (only what changed since the last build is
    rewritten, each file replaced whole), then hard-link that snapshot into ``src``: under a
    lock, so two builds never mix commits, and the links keep this build's files whatever a
    later generation replaces."""
    shared = root / GENERATED
    with exclusive(root / ".site-src.lock", "waiting for another site build of this checkout …"):
        counts = prepare(root, shared, at, worktree, pages, summarize)
        shutil.copytree(shared, src, copy_function=os.link)
    return counts


def build(root: Path, out: Path | None, at: datetime | str | None, worktree: bool, engine: str,
          pages: dict[str, str] | None = None, summarize: Summarize | None = None) -> dict[str, int]:
    if engine not in ("mkdocs", "zensical"):
        raise InvalidInputError(f"unknown site engine {engine!r}: use mkdocs or zensical")
    site_dir = (out or root / ".site-build").resolve()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".site-work-", dir=root))
    config = _config(root, work)
    try:
        counts = _generate(root, work / "src", at, worktree, pages, summarize)
        env = {**os.environ, "CALCAT_GIT_SITE_READY": "1"}
        if engine == "mkdocs":
            cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)]
        else:
            cmd = [str(Path(sys.executable).with_name("zensical")), "build", "--clean", "-f", str(config)]
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise InvalidInputError(f"{engine} build failed: {(done.stderr or done.stdout).strip()[-2000:]}")
        built = work / "out"
        if built.stat().st_dev != site_dir.parent.stat().st_dev:  # a rename cannot cross file systems
            staged = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.new-", dir=site_dir.parent))
            built = shutil.copytree(built, staged / "site")
        publish(built, site_dir)
    finally:
        config.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return counts
