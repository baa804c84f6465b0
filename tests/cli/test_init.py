"""`calcat-git init` starts a catalog from the installed package alone; `schema --example`
prints a valid example of each kind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from calcat_git.files.examples import EXAMPLE_PATHS, example_text
from calcat_git.files.parse import parse_file

from ..helpers import fast_sample, run_cli


@pytest.mark.parametrize("kind", fast_sample(sorted(EXAMPLE_PATHS), keep=3))
def test_each_example_is_a_valid_file_of_its_kind(kind: str) -> None:
    printed = run_cli("schema", kind, "--example").stdout
    assert printed == example_text(kind)
    parsed = parse_file(EXAMPLE_PATHS[kind], printed.encode())
    assert parsed.ok, parsed.problems


def test_init_writes_a_committed_catalog_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "catalog"
    done = run_cli("init", str(target), "--name", "Beamline: calibration", "--time-zone", "Europe/Paris", "--admin",
                   "@facility/calcat-admins")
    assert done.returncode == 0, done.stderr
    assert "new catalog 'Beamline: calibration'" in done.stdout
    config = yaml.safe_load((target / "calcat-git.yaml").read_text())
    assert config == {"name": "Beamline: calibration", "time_zone": "Europe/Paris", "store": ".store",
                      "admins": ["@facility/calcat-admins"]}
    status = subprocess.run(["git", "status", "--porcelain"], cwd=target, capture_output=True, text=True, check=True)
    assert status.stdout == ""  # everything written is committed
    log = subprocess.run(["git", "log", "--format=%s"], cwd=target, capture_output=True, text=True, check=True)
    assert log.stdout.splitlines() == ["Start the catalog Beamline: calibration"]
    valid = run_cli("validate", str(target))
    assert valid.returncode == 0 and "valid: 0 detector types" in valid.stdout, valid.stdout + valid.stderr
    mkdocs = yaml.safe_load((target / "mkdocs.yml").read_text())
    assert "calcat-git" in mkdocs["plugins"] and "hooks" not in mkdocs  # no file of the tool's repository
    for ci in (".gitlab-ci.yml", ".github/workflows/catalog.yml", ".pre-commit-config.yaml"):
        assert "calcat-git==" in (target / ci).read_text()  # a pinned version, never `pip install .`
    assert [p.name for p in tmp_path.iterdir()] == ["catalog"]  # no work folder left beside it
    assert "/registry/pdus/ @facility/calcat-admins" in (target / "CODEOWNERS").read_text()
    check = run_cli("check", "--base", "HEAD", "--repo", str(target))
    assert check.returncode == 0 and check.stdout == "0 error(s), 0 warning(s)\n", check.stdout + check.stderr


@pytest.mark.slow
def test_init_examples_make_a_coherent_catalog(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "c"), "--name", "Example", "--examples").returncode == 0
    valid = run_cli("validate", str(tmp_path / "c"))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "1 detector types, 1 detectors, 1 pdus, 1 mappings" in valid.stdout
    mapping = run_cli("mapping", "BL1_DET_PIXEL-1", "--at", "2026-02-01T00:00:00Z", "--repo", str(tmp_path / "c"))
    assert "PIXEL_M001" in mapping.stdout, mapping.stdout + mapping.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--name", ""], "--name must be a non-empty line of text"),
    (["--name", "x", "--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["--name", "x", "--admin", "evil\n* @x"], "--admin 'evil\\n* @x' "),
])
def test_init_refuses_bad_settings_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_cli("init", str(tmp_path / "c"), *args)
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_never_writes_into_a_used_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    done = run_cli("init", str(tmp_path), "--name", "x")
    assert done.returncode == 1
    assert done.stderr.strip() == (f"error: {tmp_path} is not empty: name a new or empty folder "
                                   "(init never writes into a used one)")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_init_into_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    assert run_cli("init", "--name", "x", cwd=tmp_path / "c").returncode == 0
    assert (tmp_path / "c" / ".git").is_dir() and (tmp_path / "c" / "calcat-git.yaml").is_file()


def test_serve_reads_naive_times_in_the_catalogs_zone(tmp_path: Path) -> None:
    from calcat_git.files.config import time_zone

    run_cli("init", str(tmp_path / "c"), "--name", "x", "--time-zone", "Asia/Tokyo")
    assert time_zone(tmp_path / "c") == "Asia/Tokyo"
    assert time_zone(tmp_path) == "Europe/Berlin"  # no settings: CALCAT's own zone
