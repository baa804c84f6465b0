"""``calcat-git site build``: generate the pages, then run the site engine.

Each build works in a fresh temporary folder in the checkout (generated sources and built
pages; zensical wants both inside the project) with its own copy of the engine
configuration pointing there, and publishes the finished pages with a rename (after a
copy beside the output if that is on another file system): two builds in one checkout
never mix their snapshots, and readers of the output see one whole build or the other.

Nothing a commit can put in the checkout is written through or deleted: the generated
pages (rewritten in place, build after build) and their lock live in the git directory,
and the output is either a new folder or one a build made before (it holds ``MARKER``).
The catalog's engine configuration is its own, but code it names (mkdocs ``hooks``) runs
only when the user allows it, and the engine sees none of the user's environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from calcat_git.catalog.catalog import Catalog
from calcat_git.errors import InvalidInputError, RepositoryError, SiteBuildError
from calcat_git.files.config import load_config
from calcat_git.git.repo import GitRepo
from calcat_git.locks import exclusive
from calcat_git.site.changes import Summarize
from calcat_git.site.generate import generate
from calcat_git.site.output import refuse_links

DEFAULT_OUT = ".site-build"
GENERATED = "site-src"  # in the git directory's calcat-git folder: the generated pages, kept between builds
MARKER = ".calcat-git-site"  # in every output a build published: the next build may replace that folder
MARKER_TEXT = "Built by `calcat-git site build`: the next build of this catalog replaces this whole folder.\n"
OUR_HOOK = "calcat_git/mkdocs_hook.py"  # does nothing under `site build` (the pages are generated already)
ENGINE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SOURCE_DATE_EPOCH")

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


def generated_folder(root: Path) -> tuple[Path, Path] | None:
    """The folder the pages of the checkout at ``root`` are generated into, build after
    build, and its lock: in the git directory, where no commit can put a file (None
    outside a git repository: then each build generates afresh)."""
    try:
        state = GitRepo(root).state_dir()
    except RepositoryError:
        return None
    return state / GENERATED, state / f"{GENERATED}.lock"


def _engine_config(root: Path) -> str:
    """The catalog's engine configuration (ours if it has none); a linked one is refused."""
    original = root / "mkdocs.yml"
    refuse_links(root, ["mkdocs.yml", "site", "overrides"])
    if original.is_file():
        return original.read_text("utf-8")
    return resources.files("calcat_git").joinpath("site/defaults/mkdocs.yml").read_text("utf-8")


class _Lenient(yaml.SafeLoader):
    """Reads an mkdocs configuration for its plain keys: any tag (``!ENV``, python names) is None."""


_Lenient.add_multi_constructor("", lambda loader, suffix, node: None)


def catalog_hooks(root: Path) -> list[str]:
    """The mkdocs hooks (python files of the repository) the catalog's configuration names,
    besides calcat-git's own (which does nothing under ``site build``)."""
    try:
        data: Any = yaml.load(_engine_config(root), Loader=_Lenient)  # a safe loader: every tag is None
    except yaml.YAMLError:
        return []  # the engine says what is wrong with it
    hooks = data.get("hooks") if isinstance(data, dict) else None
    return [str(h) for h in hooks if str(h) != OUR_HOOK] if isinstance(hooks, list) else []


def _config(root: Path, work: Path, allow_hooks: bool) -> Path:
    """The catalog's engine configuration with docs_dir and site_dir in ``work`` (a folder of
    ``root``; relative, as zensical wants), and without hooks unless ``allow_hooks``;
    written beside the original, so its relative paths (overrides) hold."""
    text = _FOLDER_KEYS.sub("", _engine_config(root)).rstrip("\n")
    text += f"\ndocs_dir: {work.name}/src\nsite_dir: {work.name}/out\n"
    name = load_config(root).get("name")
    if name:
        text += f"site_name: {json.dumps(name)}\n"  # the catalog's name is the site's title (the last key counts)
    if not allow_hooks:
        text += "hooks: []\n"  # a repeated key: the last one counts
    config = root / f".site-mkdocs-{work.name}.yml"
    with open(config, "x", encoding="utf-8") as handle:  # a new file (the name is as fresh as the work folder)
        handle.write(text)
    return config


def check_output(root: Path, target: Path) -> None:
    """Refuse an output folder that is neither new nor one a build published (with ``MARKER``):
    publishing replaces the whole folder."""
    if target.is_symlink():
        raise InvalidInputError(f"{target} is a symbolic link: give a new folder for --out (or one a site build made)")
    if not target.exists():
        return
    if not target.is_dir():
        raise InvalidInputError(f"{target} is a file, not a folder: choose another --out")
    if root == target or root.is_relative_to(target):
        raise InvalidInputError(f"{target} holds the catalog itself: give a new folder for --out")
    marker = target / MARKER
    if marker.is_symlink() or not marker.is_file():
        raise InvalidInputError(f"{target} exists and is not a site calcat-git built (it has no {MARKER} file): "
                                "give a new folder for --out, or remove this one yourself")


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


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system (a linked worktree's git directory elsewhere)
        shutil.copy2(source, target)


def _generate(root: Path, src: Path, at: datetime | str | None, worktree: bool, pages: dict[str, str] | None,
              summarize: Summarize | None) -> dict[str, int]:
    """Generate into the git directory's ``site-src/`` (only what changed since the last build
    is rewritten, each file replaced whole), then hard-link that snapshot into ``src``: under
    a lock, so two builds never mix commits, and the links keep this build's files whatever
    a later generation replaces. Outside a git repository, straight into ``src``."""
    kept = generated_folder(root)
    if kept is None:
        return prepare(root, src, at, worktree, pages, summarize)
    shared, lock = kept
    with exclusive(lock, "waiting for another site build of this checkout …"):
        counts = prepare(root, shared, at, worktree, pages, summarize)
        shutil.copytree(shared, src, copy_function=_link_or_copy)
    return counts


def build(root: Path, out: Path | None, at: datetime | str | None, worktree: bool, engine: str,
          pages: dict[str, str] | None = None, summarize: Summarize | None = None,
          allow_hooks: bool = False) -> dict[str, int]:
    if engine not in ("mkdocs", "zensical"):
        raise InvalidInputError(f"unknown site engine {engine!r}: use mkdocs or zensical")
    site_dir = Path(os.path.abspath(out if out is not None else root / DEFAULT_OUT))  # a link is not resolved
    check_output(root, site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".site-work-", dir=root))
    try:
        config = _config(root, work, allow_hooks)
        try:
            counts = _generate(root, work / "src", at, worktree, pages, summarize)
            _run_engine(root, engine, config)
        finally:
            config.unlink(missing_ok=True)
        built = work / "out"
        (built / MARKER).write_text(MARKER_TEXT, "utf-8")
        if built.stat().st_dev != site_dir.parent.stat().st_dev:  # a rename cannot cross file systems
            staged = Path(tempfile.mkdtemp(prefix=f".{site_dir.name}.new-", dir=site_dir.parent))
            built = shutil.copytree(built, staged / "site")
        check_output(root, site_dir)  # still new, or still ours
        publish(built, site_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return counts


def _run_engine(root: Path, engine: str, config: Path) -> None:
    """The engine in ``root`` with none of the user's environment (a configuration's ``!ENV``
    reads nothing secret) and, for mkdocs, without the checkout on Python's path (``-P``: a
    configuration cannot import the repository's own modules as extensions)."""
    env = {k: v for k, v in os.environ.items() if k in ENGINE_ENV} | {"CALCAT_GIT_SITE_READY": "1"}
    if engine == "mkdocs":
        cmd = [sys.executable, "-P", "-m", "mkdocs", "build", "--strict", "-f", str(config)]
    else:
        cmd = [str(Path(sys.executable).with_name("zensical")), "build", "--clean", "-f", str(config)]
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()[-2000:]
        raise SiteBuildError(f"{engine} build failed: {output}", root, output)
