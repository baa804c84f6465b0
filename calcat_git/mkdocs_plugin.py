"""The ``calcat-git`` mkdocs plugin (``plugins: [search, calcat-git]``): what the hook
``calcat_git/mkdocs_hook.py`` does, for a catalog that has only the installed package.
"""

from __future__ import annotations

from typing import Any

from mkdocs.plugins import BasePlugin

from calcat_git import mkdocs_hook


class CalcatGitPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    def on_config(self, config: Any) -> Any:
        return mkdocs_hook.on_config(config)

    def on_post_build(self, config: Any) -> None:
        mkdocs_hook.on_post_build(config)

    def on_serve(self, server: Any, config: Any, builder: Any) -> Any:
        return mkdocs_hook.on_serve(server, config, builder)
