from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO_ROOT = HERE.parent
MINI = HERE / "data" / "mini"


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits made by the code under test need an identity, also on machines without a git config."""
    for key, value in (("GIT_AUTHOR_NAME", "Test Expert"), ("GIT_AUTHOR_EMAIL", "test@example.org"),
                       ("GIT_COMMITTER_NAME", "Test Expert"), ("GIT_COMMITTER_EMAIL", "test@example.org")):
        monkeypatch.setenv(key, value)


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A private copy of the small test catalog (2 detectors, 6 PDUs, 1 batch)."""
    root = tmp_path / "catalog"
    shutil.copytree(MINI, root)
    return root


@pytest.fixture
def git_mini(mini: Path) -> Path:
    """The mini catalog committed on main, with a store beside it (``store: ../store``)."""
    git(mini, "init", "-q", "-b", "main")
    commit_all(mini, "mini catalog", "2024-05-02T00:00:00Z")
    (mini.parent / "store").mkdir()
    (mini / "calcat-git.yaml").write_text("store: ../store\n")
    return mini


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic catalog repository (5k CCVs, 500 commits), shared read-only; copy it to change it."""
    import sys

    sys.path.insert(0, str(HERE / "benchmarks"))
    from generate import generate

    repo = tmp_path_factory.mktemp("synthetic") / "catalog"
    generate(repo, ccvs=5000, commits=500, seed=7)
    return repo


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded catalog's constant store, regenerated (byte-identical to the checksums in git)."""
    from calcat_git.demo_constants import generate

    store = tmp_path_factory.mktemp("demo") / "store"
    generate(REPO_ROOT, store)
    return store


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in file ``rel`` by ``new``."""
    path = root / rel
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    path.write_text(text.replace(old, new), "utf-8")


def problems(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    from calcat_git import Catalog

    return [str(p) for p in Catalog.open(root, worktree=True).validate(skip)]


def git(root: Path, *args: str, date: str | None = None, author: str = "Ada Expert") -> str:
    """Run git in ``root`` with fixed identities and, if given, author/committer date."""
    import os
    import subprocess

    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": "a@example.org"}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    result = subprocess.run(["git", "-C", str(root), *args], env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def commit_all(root: Path, message: str, date: str, author: str = "Ada Expert") -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, date=date, author=author)
    return git(root, "rev-parse", "HEAD")


MID = "registry/mappings/MID_DET_AGIPD1M-1.yaml"
SPB = "registry/mappings/SPB_DET_AGIPD1M-1.yaml"
LATE_MID = '''  - from: "2024-01-01T00:00:00Z"
    reason: Q1M1 sent to SPB
    modules:
      AGIPD00: null
'''
LATE_SPB = '''  - from: "2024-02-01T00:00:00Z"
    reason: Q1M1 arrives from MID
    modules:
      AGIPD00: AGIPD_M1
'''
SWAP = '''  - from: "2023-05-10T08:00:00+02:00"
    reason: Q1M2 replaced after a damaged ASIC
    modules:
      AGIPD01: AGIPD_M3
'''


@pytest.fixture
def repo(mini: Path) -> dict[str, str]:
    """The mini catalog committed in three steps; the last one is a late, backdated fix."""
    git(mini, "init", "-q", "-b", "main")
    edit(mini, MID, LATE_MID, "")
    edit(mini, MID, SWAP, "")
    edit(mini, SPB, LATE_SPB, "")
    shas = {"initial": commit_all(mini, "initial catalog", "2019-03-02T00:00:00Z")}
    edit(mini, MID, "      AGIPD01: AGIPD_M2\n", "      AGIPD01: AGIPD_M2\n" + SWAP)
    shas["swap"] = commit_all(mini, "Q1M2 swap", "2023-05-10T07:00:00Z", author="Bea Expert")
    edit(mini, MID, SWAP, SWAP + LATE_MID)
    edit(mini, SPB, "      AGIPD01: AGIPD_M5\n", "      AGIPD01: AGIPD_M5\n" + LATE_SPB)
    shas["late"] = commit_all(mini, "record the M1 move to SPB, late", "2024-03-01T00:00:00Z", author="Cy Expert")
    return shas
