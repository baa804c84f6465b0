"""``calcat-git init``: a new, empty catalog from the installed package alone.

Everything is written into a fresh folder beside the target, committed there, and only
then renamed into place: a failed ``init`` (a bad setting, no git identity, a failing
hook) leaves no half-made catalog behind.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from string import Template

from calcat_git.errors import InvalidInputError, RepositoryError
from calcat_git.files.config import CONFIG_FILE, parse_config
from calcat_git.files.examples import EXAMPLE_PATHS, example_text
from calcat_git.files.parse import REGISTRY_KINDS
from calcat_git.git.repo import GitRepo
from calcat_git.timeutil import facility_zone

# file written → template of calcat_git/edit/templates
FILES = {
    CONFIG_FILE: "calcat-git.yaml",
    ".gitignore": "gitignore",
    "mkdocs.yml": "mkdocs.yml",
    ".gitlab-ci.yml": "gitlab-ci.yml",
    ".github/workflows/catalog.yml": "github-catalog.yml",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
}
ADMIN = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?")
FOLDER_README = """# registry/{folder}/

One file per {kind}, named after its identifier. A commented example
(`calcat-git schema {kind} --example` prints it; `calcat-git schema {kind}` the full schema):

```yaml
{example}```
"""
CONSTANTS_README = """# constants_index/

One file per injection batch, written by `calcat-git inject` (never by hand):
`constants_index/<detector>/<YYYY>/<UTC stamp>-<slug>.yaml`. Its format:

```yaml
{example}```
"""
SITE_KEEP = "This catalog's own site pages (optional) go in this folder; the guide ships with calcat-git.\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCatalog:
    """What ``init`` writes: the catalog's name, its facility zone, its admins (forge teams
    or users, e.g. ``@facility/calcat-admins``), and whether to add a coherent example set."""

    name: str
    time_zone: str = "UTC"
    admins: tuple[str, ...] = ()
    examples: bool = False

    def check(self) -> None:
        if not self.name.strip() or any(ord(c) < 32 for c in self.name):
            raise InvalidInputError("--name must be a non-empty line of text, e.g. --name 'ESRF calibration catalog'")
        facility_zone(self.time_zone)
        for admin in self.admins:
            if not ADMIN.fullmatch(admin):
                raise InvalidInputError(f"admin {admin!r} is not a forge team or user: write @org/team or @user")


def version() -> str:
    """The installed calcat-git's version: CI templates pin it."""
    try:
        return metadata.version("calcat-git")
    except metadata.PackageNotFoundError:
        return "0"


def files_of(new: NewCatalog) -> dict[str, str]:
    """Path → content of every file of a new catalog."""
    values = {"name": json.dumps(new.name), "time_zone": json.dumps(new.time_zone),
              "admins": ", ".join(json.dumps(a) for a in new.admins), "version": version()}
    templates = resources.files("calcat_git").joinpath("edit/templates")
    out = {path: Template(templates.joinpath(name).read_text("utf-8")).substitute(values) for path, name in FILES.items()}
    for folder, (kind, _, _) in REGISTRY_KINDS.items():
        out[f"registry/{folder}/README.md"] = FOLDER_README.format(folder=folder, kind=kind, example=example_text(kind))
    out["constants_index/README.md"] = CONSTANTS_README.format(example=example_text("constants"))
    out["site/.gitkeep"] = SITE_KEEP
    if new.examples:
        out.update({path: example_text(kind) for kind, path in EXAMPLE_PATHS.items() if kind != "constants"})
    parse_config(out[CONFIG_FILE].encode(), CONFIG_FILE)  # what init writes, calcat-git reads
    return out


def _empty_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise InvalidInputError(f"{target} exists and is not a folder: name a new or empty folder")
    if target.is_dir() and any(target.iterdir()):
        raise InvalidInputError(f"{target} is not empty: name a new or empty folder (init never writes into a used one)")


def init_catalog(target: Path, new: NewCatalog) -> str:
    """Write, commit and put in place a new catalog at ``target`` (new or empty); its first commit."""
    new.check()
    target = target.absolute()
    _empty_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=target.parent))
    try:
        for rel, text in files_of(new).items():
            path = work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        repo = GitRepo.init(work)
        commit = repo.commit_paths(["."], f"Start the catalog {new.name}", what="the first commit")
        _empty_target(target)  # still new or empty: nobody wrote there meanwhile
        try:
            work.rename(target)  # replaces an empty folder in one step
        except OSError as exc:
            raise RepositoryError(f"cannot put the new catalog at {target}: {exc.strerror}") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return commit
