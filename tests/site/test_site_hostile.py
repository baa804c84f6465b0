"""The site build on a hostile checkout or with a careless ``--out``: nothing outside a
folder it built is deleted or written, no linked file is published, no code from the
repository runs unless allowed. Real builds of the mini catalog (mkdocs, and plain
``mkdocs build`` through the hook)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from calcat_git.errors import SiteBuildError
from calcat_git.site.build import build
from calcat_git.site.output import refuse_links

from ..helpers import REPO_ROOT, build_site, commit_all, edit, git, run_cli

pytestmark = pytest.mark.slow  # each case runs a real site build (a few seconds)


def site_build(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("site", "build", "--repo", str(root), *args, cwd=root, env=env)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (links as their target's name)."""
    return {str(p.relative_to(folder)): (os.readlink(p).encode() if p.is_symlink() else p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()}


@pytest.fixture
def catalog(mini: Path) -> Path:
    git(mini, "init", "-q", "-b", "main")
    commit_all(mini, "catalog", "2024-05-02T00:00:00Z")
    return mini


@pytest.mark.parametrize("out", [".", "registry", "elsewhere"])
def test_out_refuses_a_folder_it_did_not_build(catalog: Path, tmp_path: Path, out: str) -> None:
    """`--out .` deleted the whole checkout, `.git` included; `--out registry` and a user's
    folder were replaced. Now: refused in one line, exit 1, nothing touched."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "thesis.tex").write_text("years of work")
    target = catalog if out == "." else catalog / out if out == "registry" else tmp_path / out
    before = tree(tmp_path)
    done = site_build(catalog, "--out", str(target))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    why = (f"{catalog} holds the catalog itself: give a new folder for --out" if out == "." else
           f"{target} exists and is not a site calcat-git built (it has no .calcat-git-site file): give a new "
           "folder for --out, or remove this one yourself")
    assert done.stderr.splitlines() == [f"error: {why}"]
    assert tree(tmp_path) == before


def test_out_may_be_new_or_a_site_it_built(catalog: Path, tmp_path: Path) -> None:
    out = build_site(catalog, tmp_path / "new" / "html")
    assert (out / ".calcat-git-site").is_file() and (out / "index.html").is_file()
    (out / "stale.html").write_text("from the last build")
    build_site(catalog, out)  # replaced whole: a build made it
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()


def _links(root: Path, victim: Path) -> None:
    """Tracked symbolic links where the site build kept its work folders and lock."""
    for name in ("src", "build"):
        (victim / name).mkdir(parents=True)
        (victim / name / "precious.txt").write_text(f"{name} data")
    (victim / "lock.txt").write_text("a file the lock would cut to 0 bytes")
    (root / ".site-src").symlink_to(victim / "src", target_is_directory=True)
    (root / ".site-build").symlink_to(victim / "build", target_is_directory=True)
    (root / ".site-src.lock").symlink_to(victim / "lock.txt")
    commit_all(root, "links where the site build works", "2024-05-03T00:00:00Z")


def test_tracked_links_named_like_work_folders_are_never_followed(catalog: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    _links(catalog, victim)
    before = tree(victim)
    default = site_build(catalog)  # `make site`: the default output is the link
    assert default.returncode == 1
    assert default.stderr.splitlines() == [f"error: {catalog / '.site-build'} is a symbolic link: give a new folder "
                                           "for --out (or one a site build made)"]
    build_site(catalog, tmp_path / "html")  # elsewhere: builds, in the git directory's work folder
    assert (catalog / ".git/calcat-git/site-src/index.md").is_file()
    assert tree(victim) == before


def _plain_mkdocs(root: Path) -> subprocess.CompletedProcess[str]:
    """Plain `mkdocs build` in a catalog with the project's mkdocs.yml and hook."""
    config = (REPO_ROOT / "mkdocs.yml").read_text()
    (root / "mkdocs.yml").write_text(config.replace("calcat_git/mkdocs_hook.py", "hooks/mkdocs_hook.py"))
    shutil.copytree(REPO_ROOT / "site", root / "site", dirs_exist_ok=True)
    (root / "hooks").mkdir(exist_ok=True)  # not calcat_git/: that would hide the installed package
    shutil.copy2(REPO_ROOT / "calcat_git" / "mkdocs_hook.py", root / "hooks" / "mkdocs_hook.py")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=root, capture_output=True,
                          text=True, check=False)


def test_plain_mkdocs_build_never_follows_tracked_links(catalog: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    _links(catalog, victim)
    before = tree(victim)
    done = _plain_mkdocs(catalog)
    assert done.returncode == 1
    assert (f"{catalog / '.site-build'} is a symbolic link: mkdocs would empty the folder it points at; remove "
            "the link (or set site_dir to a folder)") in done.stderr
    assert tree(victim) == before
    (catalog / ".site-build").unlink()
    done = _plain_mkdocs(catalog)  # the generated pages go to the git directory, not through .site-src
    assert done.returncode == 0, done.stderr
    assert (catalog / ".site-build/index.html").is_file() and tree(victim) == before
    build_site(catalog, catalog / ".site-build")  # what plain mkdocs built, site build may replace


@pytest.mark.parametrize("where", ["site/leak.md", "site/guide", "site"])
def test_linked_site_sources_are_refused(catalog: Path, tmp_path: Path, where: str) -> None:
    """A link to /proc/self/environ in site/ put the environment into a page and the search index."""
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "environ.md").write_text("CALCAT_TOKEN=s3cret\n")
    if where != "site":
        (catalog / "site").mkdir()
    link = catalog / where
    link.symlink_to(secret / "environ.md" if where.endswith(".md") else secret, target_is_directory=True)
    done = site_build(catalog, "--out", str(tmp_path / "html"))
    assert done.returncode == 1 and not (tmp_path / "html").exists()
    assert done.stderr.splitlines() == [f"error: {where} is a symbolic link: files the site build reads must be "
                                        "regular files inside the repository; nothing was built"]
    with pytest.raises(SiteBuildError) as refused:
        refuse_links(catalog, ["site"])
    assert refused.value.path == link and refused.value.output == ""


def test_a_failed_engine_run_is_a_site_build_error(catalog: Path, tmp_path: Path) -> None:
    (catalog / "mkdocs.yml").write_text("site_name: [unclosed\n")
    with pytest.raises(SiteBuildError, match=r"^mkdocs build failed: ") as failed:
        build(catalog, tmp_path / "html", None, worktree=True, engine="mkdocs")
    assert failed.value.path == catalog
    assert "MkDocs encountered an error parsing the configuration file" in failed.value.output
    assert not (tmp_path / "html").exists()


HOOK = """from pathlib import Path
Path(__file__).with_name("hook-ran").write_text("code from the repository ran")
"""


def test_catalog_hooks_run_only_when_allowed(catalog: Path, tmp_path: Path) -> None:
    config = (REPO_ROOT / "calcat_git/site/defaults/mkdocs.yml").read_text()
    (catalog / "mkdocs.yml").write_text(config + 'hooks:\n  - evil_hook.py\nextra:\n  leak: !ENV [CALCAT_TEST_SECRET, "none"]\n'
                                        'copyright: !ENV [CALCAT_TEST_SECRET, "no secret"]\n')
    (catalog / "evil_hook.py").write_text(HOOK)
    commit_all(catalog, "a catalog with its own hook", "2024-05-03T00:00:00Z")
    env = {**os.environ, "CALCAT_TEST_SECRET": "s3cret-token"}
    done = site_build(catalog, "--out", str(tmp_path / "html"), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["not running the catalog's mkdocs hooks evil_hook.py (code from the "
                                        "repository): pass --allow-catalog-hooks to run them"]
    assert not (catalog / "hook-ran").exists()
    assert "s3cret-token" not in (tmp_path / "html/index.html").read_text()  # !ENV sees none of the user's environment
    done = site_build(catalog, "--out", str(tmp_path / "html"), "--allow-catalog-hooks")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == ("running the catalog's mkdocs hooks evil_hook.py (code from the "
                                           "repository, allowed by --allow-catalog-hooks)")
    assert (catalog / "hook-ran").exists()


def test_control_characters_in_commit_text_keep_the_feeds_valid_xml(catalog: Path, tmp_path: Path) -> None:
    """A commit subject with \\x01 or \\x0c made the Atom feeds invalid XML: commit text is shown
    with such characters escaped, and the feeds parse."""
    import xml.etree.ElementTree as ET

    edit(catalog, "registry/mappings/MID_DET_AGIPD1M-1.yaml", "reason: Q1M1 sent to SPB", "reason: Q1M1 to SPB")
    git(catalog, "add", "-A")
    git(catalog, "commit", "-q", "-m", "bell\x01 and \x0cform feed \x1b[31mred", date="2024-05-03T00:00:00Z",
        author="Eve\x07 Ill")
    out = build_site(catalog, tmp_path / "html")
    feeds = sorted((out / "feeds").glob("*.atom"))
    assert feeds
    titles = [e.text for f in feeds for e in ET.parse(f).getroot().iter("{http://www.w3.org/2005/Atom}title")]
    assert "bell\\x01 and \\x0cform feed \\x1b[31mred" in titles
    names = [e.text for e in ET.parse(out / "feeds/all.atom").getroot().iter("{http://www.w3.org/2005/Atom}name")]
    assert "Eve\\x07 Ill" in names
    page = (out / "changes.html").read_text()
    assert "\x01" not in page and "\x1b" not in page and "bell\\x01" in page
