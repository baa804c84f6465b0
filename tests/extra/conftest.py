"""EXtra's calibration tests against a catalog imported from the CALCAT replies they were
recorded with (tests/data/calcat-replies): every test here reads that catalog through
``calcat_git.setup_catalog``, as EXtra's read CALCAT through ``setup_client``.

The fixtures of RAW runs are EXtra's (tests/conftest.py; BSD-3-Clause, LICENSE-EXtra):
``extra_data``'s example AGIPD runs with train timestamps moved to 2026-04-10.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest

import calcat_git
from calcat_git.lookup.extra_api import reset_catalog

from ..helpers import HERE, git

REPLIES = HERE / "data" / "calcat-replies"

# Tests of EXtra's file that cannot run here, and why (GPFS-only ones skip by their own mark).
SKIPS = {
    "test_format_time": "tests EXtra's private HTTP client (CalCatAPIClient.format_time); calcat-git reads a "
                        "catalog, and its EXtra-named API reads times the same way (tests/extra/test_extra_api.py)",
    "test_lpd_fallback": "asks EXtra's private HTTP client (get_client().get('conditions/...')), and its "
                         "recording (test_lpd_fallback.yaml) is not among the recorded replies",
}
NOT_RECORDED = "its recording ({}.yaml) is not among the recorded replies, so the catalog lacks its CCVs"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "vcr: EXtra's recorded CALCAT replies (here: the imported catalog answers)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.fspath is not None and Path(str(item.fspath)).parent == Path(__file__).parent:
            name = item.name.split("[")[0]
            reason = SKIPS.get(name)
            if reason is None and item.get_closest_marker("vcr") and not (REPLIES / f"{name}.yaml").exists() \
                    and name not in ANSWERED_WITHOUT_RECORDING:
                reason = NOT_RECORDED.format(name)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


# Tests whose own recording is missing but whose facts other recordings hold.
ANSWERED_WITHOUT_RECORDING: set[str] = set()


@pytest.fixture(scope="session")
def imported_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog imported once per session from the recorded replies (``import-calcat``)."""
    root = tmp_path_factory.mktemp("extra") / "catalog"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "empty catalog")
    result = subprocess.run([sys.executable, "-m", "calcat_git", "import-calcat", "--replies", str(REPLIES),
                             "--repo", str(root)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(autouse=True)
def catalog_of_recordings(imported_catalog: Path) -> Iterator[Path]:
    calcat_git.setup_catalog(imported_catalog)
    yield imported_catalog
    reset_catalog()


def _patch_train_timestamps(run: Any) -> None:
    import h5py

    ts = datetime(year=2026, month=4, day=10, hour=11, minute=27).replace(tzinfo=UTC).timestamp() * 10**9
    for fa in run.files:
        fa.close()
        with h5py.File(fa.filename, "a") as h5f:
            dset = h5f["INDEX/timestamp"]
            dset[:] = [ts + i * 10**8 for i in range(dset.shape[0])]


def _run(directory: str) -> Any:
    from extra_data import RunDirectory

    run = RunDirectory(directory)
    _patch_train_timestamps(run)
    return run


@pytest.fixture(scope="session")
def mock_agipd1m_directory() -> Iterator[str]:
    from extra_data.tests import make_examples

    with TemporaryDirectory() as td:
        make_examples.make_agipd1m_run(td)
        yield td


@pytest.fixture
def mock_agipd1m_run(mock_agipd1m_directory: str) -> Any:
    return _run(mock_agipd1m_directory)


@pytest.fixture(scope="session")
def mock_legacy_agipd1m_directory() -> Iterator[str]:
    from extra_data.tests import make_examples

    with TemporaryDirectory() as td:  # no gain.value or bunchStructure.repetitionRate in /CONTROL/
        make_examples.make_agipd1m_run(td, rep_rate=False, gain_setting=False, integration_time=False,
                                       bias_voltage=True)
        yield td


@pytest.fixture
def mock_legacy_agipd1m_run(mock_legacy_agipd1m_directory: str) -> Any:
    return _run(mock_legacy_agipd1m_directory)


@pytest.fixture(scope="session")
def mock_agipd500k_directory() -> Iterator[str]:
    from extra_data.tests import make_examples

    with TemporaryDirectory() as td:
        make_examples.make_agipd500k_run(td)
        yield td


@pytest.fixture
def mock_agipd500k_run(mock_agipd500k_directory: str) -> Any:
    return _run(mock_agipd500k_directory)
