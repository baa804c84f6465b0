"""The thin mkdocs hook: generate the catalog pages before mkdocs reads its docs_dir.

``calcat-git site build`` generates first and sets CALCAT_GIT_SITE_READY=1, so the hook
does nothing then; a plain ``mkdocs build`` gets the newest commit (or
CALCAT_GIT_SITE_AT=<time|sha>).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def on_config(config: Any) -> Any:
    if os.environ.get("CALCAT_GIT_SITE_READY") != "1":
        from calcat_git.cli.common import reference
        from calcat_git.cli.main import main
        from calcat_git.site.build import prepare

        root = Path(config.config_file_path).parent
        cli_page = "# CLI reference\n\n" + reference(main) + "\n"
        prepare(root, Path(config.docs_dir), os.environ.get("CALCAT_GIT_SITE_AT"), pages={"guide/cli.md": cli_page})
    return config
