"""The ``calcat-git`` mkdocs plugin (``plugins: [search, calcat-git]``): what the hook
``calcat_git/mkdocs_hook.py`` does, for a catalog that has only the installed package.
The site's title is the catalog's ``name`` (calcat-git.yaml) where it has one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.plugins import BasePlugin

from calcat_git import mkdocs_hook
from calcat_git.files.config import load_config


class CalcatGitPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    def on_config(self, config: Any) -> Any:
        name = load_config(Path(config.config_file_path).parent).get("name")
        if name:
            config["site_name"] = name
        return mkdocs_hook.on_config(config)

    def on_serve(self, server: Any, config: Any, builder: Any) -> Any:
        return mkdocs_hook.on_serve(server, config, builder)
