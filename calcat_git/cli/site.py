"""The site command group (attached in ``cli``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from calcat_git.cli.common import REPO_OPTION


@click.group()
def site() -> None:
    """Build the static site (mkdocs-material, or zensical) of a catalog snapshot."""


@site.command("build")
@REPO_OPTION
@click.option("--at", "at", default=None, metavar="TIME|REV",
              help="Snapshot to render: a time, commit, tag or branch [default: newest commit].")
@click.option("--out", default=None, type=click.Path(file_okay=False), help="Output folder [default: .site-build].")
@click.option("--worktree", is_flag=True, help="Render the working tree instead of a commit.")
@click.option("--engine", type=click.Choice(["mkdocs", "zensical"]), default="mkdocs", show_default=True)
@click.option("--allow-catalog-hooks", is_flag=True,
              help="Run the mkdocs hooks the catalog's mkdocs.yml names (python code from the repository).")
def site_build(repo: str, at: str | None, out: str | None, worktree: bool, engine: str,
               allow_catalog_hooks: bool) -> None:
    """Generate the catalog pages and build the site (in a temporary folder, then renamed into place).

    --out is a new folder or one a site build made before (it holds a .calcat-git-site
    file); any other folder is refused, never replaced. The catalog's own mkdocs hooks
    (code from the repository) run only with --allow-catalog-hooks.
    """
    import os
    from pathlib import Path

    from calcat_git.cli.common import reference
    from calcat_git.site.build import DEFAULT_OUT, build, catalog_hooks

    cli_page = "# CLI reference\n\n" + reference(click.get_current_context().find_root().command) + "\n"  # type: ignore[arg-type]
    root = Path(repo).resolve()
    hooks = catalog_hooks(root)
    if hooks:
        click.echo(f"running the catalog's mkdocs hooks {', '.join(hooks)} (code from the repository, allowed by "
                   "--allow-catalog-hooks)" if allow_catalog_hooks else
                   f"not running the catalog's mkdocs hooks {', '.join(hooks)} (code from the repository): pass "
                   "--allow-catalog-hooks to run them", err=True)
    counts = build(root, Path(out) if out else None, at, worktree, engine, {"guide/cli.md": cli_page},
                   summarize=change_summary(root), allow_hooks=allow_catalog_hooks)
    where = Path(os.path.abspath(out)) if out else root / DEFAULT_OUT
    click.echo(f"site built: {counts['pages']} catalog pages in {where} (open {where / 'index.html'}, "
               f"or serve it: python -m http.server -d {where})")


def change_summary(repo: Path) -> Callable[[str, str], str]:
    """A commit's summary exactly as ``calcat-git diff BASE HEAD`` prints it (the site's
    recent changes and feeds show it; the site cannot import the review app, its sibling)."""
    from datetime import timedelta

    from calcat_git.files.loading import ParseCache
    from calcat_git.git.repo import GitRepo
    from calcat_git.review.rules import prepare, review
    from calcat_git.review.summary import markdown, summary

    git, cache = GitRepo(repo), ParseCache()

    def summarize(base: str, head: str) -> str:
        change = prepare(git, base, head, timedelta(days=1), cache)  # the site asks for one commit after another
        cache.trim()
        return markdown(summary(change, review(change)))

    return summarize
