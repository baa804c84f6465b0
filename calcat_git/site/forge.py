"""Links from the site to the catalog's files in its forge (GitHub or GitLab), from the
``repo_url`` and ``edit_uri`` of the catalog's ``mkdocs.yml`` (see :func:`forge_of`) — so that a reader can
propose a change in the forge's web editor without a clone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml


@dataclass(frozen=True, slots=True, kw_only=True)
class Forge:
    """Where the catalog's files are edited: ``{repo_url}/{edit}{path}``."""

    repo_url: str
    edit: str  # e.g. "edit/main/" (GitHub) or "-/edit/main/" (GitLab)

    def edit_url(self, path: str) -> str:
        return f"{self.repo_url}/{self.edit}{quote(path)}"

    def to_json(self) -> dict[str, str]:
        """What the site's forms build the forge's editor URLs from: ``kind`` (github:
        ``/new/BRANCH?filename=..&value=..``, ``/edit/BRANCH/PATH``; gitlab: ``/-/new/BRANCH?
        file_name=..&content=..``, ``/-/edit/BRANCH/PATH``) and the branch changes start from."""
        kind = "gitlab" if self.edit.startswith("-/") else "github"
        return {"repo_url": self.repo_url, "kind": kind, "branch": self.edit.rstrip("/").split("/")[-1]}

    @classmethod
    def from_settings(cls, repo_url: str, edit_uri: str | None) -> Forge | None:
        """From mkdocs' settings; None unless ``repo_url`` is an http(s) address. Without
        ``edit_uri`` the branch is ``main`` (GitHub's form on github.com, else GitLab's)."""
        if urlsplit(repo_url).scheme not in ("http", "https"):
            return None
        parts = [p for p in (edit_uri or "").split("/") if p]
        if parts[:1] == ["edit"] and len(parts) >= 2:
            edit = f"edit/{parts[1]}/"
        elif parts[:2] == ["-", "edit"] and len(parts) >= 3:
            edit = f"-/edit/{parts[2]}/"
        else:
            edit = "edit/main/" if urlsplit(repo_url).hostname == "github.com" else "-/edit/main/"
        return cls(repo_url=repo_url.rstrip("/"), edit=edit)


class _Lenient(yaml.SafeLoader):
    """Reads mkdocs.yml, whose tags (``!ENV``, ``!!python/name:``) are read as nothing."""


_Lenient.add_multi_constructor("", lambda loader, suffix, node: None)


def forge_of(root: Path) -> Forge | None:
    """The forge named by ``root/mkdocs.yml``: ``extra: {forge: {repo_url, edit_uri}}``, else
    mkdocs' own ``repo_url`` and ``edit_uri`` (with those, mkdocs-material also shows the
    repository in its header and asks the forge's API for its stars: a request leaving the
    site on each first visit, which ``extra.forge`` avoids)."""
    try:
        config: Any = yaml.load((root / "mkdocs.yml").read_text("utf-8"), Loader=_Lenient)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    if not isinstance(config, dict):
        return None
    extra = config.get("extra")
    settings = extra.get("forge") if isinstance(extra, dict) else None
    settings = settings if isinstance(settings, dict) else config
    repo_url, edit_uri = settings.get("repo_url"), settings.get("edit_uri")
    if not isinstance(repo_url, str):
        return None
    return Forge.from_settings(repo_url, edit_uri if isinstance(edit_uri, str) else None)
