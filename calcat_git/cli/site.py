"""The site command group."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import click

from calcat_git.cli.common import REPO_OPTION, snapshot_at_option
from calcat_git.cli.doc import page
from calcat_git.files.loading import ParseCache
from calcat_git.git.repo import GitRepo
from calcat_git.review.rules import prepare, review
from calcat_git.review.summary import markdown, summary
from calcat_git.site.build import DEFAULT_OUT, build, catalog_hooks


@click.group()
def site() -> None:
    """Build the static site (mkdocs-material, or zensical) of a catalog snapshot."""


@site.command("build")
@REPO_OPTION
@snapshot_at_option(old=("--at",), help="Render the catalog as committed then: a time, commit, tag or branch "
                    "[default: newest].")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output folder [default: .site-build].")
@click.option("--worktree", is_flag=True, help="Render the working tree instead of a commit.")
@click.option("--engine", type=click.Choice(["mkdocs", "zensical"]), default="mkdocs", show_default=True)
@click.option("--allow-catalog-hooks", is_flag=True,
              help="Run the mkdocs hooks the catalog's mkdocs.yml names (python code from the repository).")
def site_build(repo: str, snapshot_at: datetime | str | None, out: str | None, worktree: bool, engine: str,
               allow_catalog_hooks: bool) -> None:
    """Generate the catalog pages and build the site (in a temporary folder, then renamed into place).

    --out is a new folder or one a site build made before (it holds a .calcat-git-site
    file); any other folder is refused, never replaced. The catalog's own mkdocs hooks
    (code from the repository) run only with --allow-catalog-hooks.
    """
    root = Path(repo).resolve()
    hooks = catalog_hooks(root)
    if hooks:
        click.echo(f"running the catalog's mkdocs hooks {', '.join(hooks)} (code from the repository, allowed by "
                   "--allow-catalog-hooks)" if allow_catalog_hooks else
                   f"not running the catalog's mkdocs hooks {', '.join(hooks)} (code from the repository): pass "
                   "--allow-catalog-hooks to run them", err=True)
    counts = build(root, Path(out) if out else None, snapshot_at, worktree, engine, {"guide/cli.md": page()},
                   summarize=change_summary(root), allow_hooks=allow_catalog_hooks)
    where = Path(os.path.abspath(out)) if out else root / DEFAULT_OUT
    click.echo(f"site built: {counts['pages']} catalog pages in {where} (open {where / 'index.html'}, "
               f"or serve it: python -m http.server -d {where})")


def change_summary(repo: Path) -> Callable[[str, str], str]:
    """A commit's summary exactly as ``calcat-git diff BASE HEAD`` prints it (the site's
    recent changes and feeds show it; the site cannot import the review app, its sibling)."""
    git, cache = GitRepo(repo), ParseCache()

    def summarize(base: str, head: str) -> str:
        change = prepare(git, base, head, timedelta(days=1), cache)  # the site asks for one commit after another
        cache.trim()
        return markdown(summary(change, review(change)))

    return summarize
