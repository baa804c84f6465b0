from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from .helpers import LATE_MID, LATE_SPB, MID, MINI, REPO_ROOT, SPB, SWAP, commit_all, edit, git

# Hypothesis profiles: `ci` (`make test`) and `dev`, a fifth of the examples (`make test-fast`). Chosen with
# `--hypothesis-profile=dev` or CALCAT_GIT_HYPOTHESIS_PROFILE=dev; a test asks `examples(n)` (helpers) for its share.
# No deadline: examples start processes and git on machines shared with other work, where one slow example says
# nothing about the code.
settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile(os.environ.get("CALCAT_GIT_HYPOTHESIS_PROFILE", "ci"))


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
    from .benchmarks.generate import generate

    repo = tmp_path_factory.mktemp("synthetic") / "catalog"
    generate(repo, ccvs=5000, commits=500, seed=7)
    return repo


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded catalog's constant store, regenerated (byte-identical to the checksums in git)."""
    from calcat_git.demo.constants import generate

    store = tmp_path_factory.mktemp("demo") / "store"
    generate(REPO_ROOT, store)
    return store


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
