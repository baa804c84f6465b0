from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO_ROOT = HERE.parent
MINI = HERE / "data" / "mini"


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A private copy of the small test catalog (2 detectors, 6 PDUs, 1 batch)."""
    root = tmp_path / "catalog"
    shutil.copytree(MINI, root)
    return root


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in file ``rel`` by ``new``."""
    path = root / rel
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    path.write_text(text.replace(old, new), "utf-8")


def problems(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    from calcat_git import Catalog

    return [str(p) for p in Catalog.open(root).validate(skip)]
