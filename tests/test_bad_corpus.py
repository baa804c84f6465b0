"""The bad-input corpus (tests/data/bad/): every file, dropped into a copy of the mini
catalog, gets exactly the one-line messages its manifest entry lists, from the CLI (exit
code 1, no traceback) and from the Python API alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from calcat_git import Catalog
from calcat_git.blobs import parse_blob

from .conftest import HERE, problems

CORPUS = HERE / "data" / "bad"
MANIFEST: dict[str, Any] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
PATHS: dict[str, str] = MANIFEST["paths"]


def expected_lines(case: dict[str, Any]) -> list[str]:
    return [line.format(**PATHS) for line in case["expect"]]


def validate_both(root: Path) -> list[str]:
    """Problems from the API; the CLI must print the same lines, exit 1 (0 if none), no traceback."""
    found = problems(root)
    run = subprocess.run([sys.executable, "-m", "calcat_git", "validate", str(root)], capture_output=True,
                         text=True, check=False)
    assert "Traceback" not in run.stderr
    assert run.stdout.splitlines() == (found or [run.stdout.splitlines()[0]])  # valid: one summary line
    assert run.returncode == (1 if found else 0), run.stderr
    return found


def test_corpus_and_manifest_agree() -> None:
    files = {p.stem for p in CORPUS.glob("*.yaml")} - {"expected"}
    assert files == set(MANIFEST["files"]), "every corpus file has a manifest entry and vice versa"


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_corpus_file(mini: Path, name: str) -> None:
    case = MANIFEST["files"][name]
    target = PATHS[case["at"]]
    raw = (CORPUS / f"{name}.yaml").read_bytes()
    (mini / target).write_bytes(raw)
    assert validate_both(mini) == expected_lines(case)
    parsed = parse_blob(target, raw)  # the index meets the same bytes in git: it must never raise
    assert parsed[0] == ("invalid" if any("[yaml]" in line for line in case["expect"]) else parsed[0])
    if case.get("mapping"):
        catalog = Catalog.open(mini, worktree=True)
        for detector, at, modules in case["mapping"]:
            assert catalog.mapping(detector, at=at) == modules, at


def _make(root: Path, outside: Path, name: str) -> None:
    """Build a ``made:`` case in the catalog at ``root``."""
    pdu = root / PATHS["PDU"]
    if name == "huge-file":
        pdu.write_bytes(pdu.read_bytes() + b'description: "' + b"x" * (5 << 20) + b'"\n')
    elif name == "huge-nesting":
        pdu.write_bytes(pdu.read_bytes() + b"description: " + b"[" * 100_000 + b"]" * 100_000 + b"\n")
    elif name == "symlink-outside":
        (outside / "secret.yaml").write_text("identifier: Secret\n")
        (root / "registry/calibrations/Secret.yaml").symlink_to(outside / "secret.yaml")
    elif name == "symlinked-folder":
        (outside / "LPD_M1.yaml").write_text("physical_name: LPD_M1\ndetector_type: LPD-Type\nuuid: 1\nstatus: active\n")
        (root / "registry/pdus/LPD-Type").symlink_to(outside, target_is_directory=True)
    elif name == "case-clash":
        (root / "registry/calibrations/offset.yaml").write_text("identifier: offset\n")
    elif name == "case-clash-folder":
        copy = root / "constants_index/mid_det_agipd1m-1/2024"
        copy.mkdir(parents=True)
        batch = root / PATHS["BATCH"]
        (copy / batch.name).write_bytes(batch.read_bytes())
    elif name == "not-a-catalog-file":
        (root / "registry/calibrations/notes.txt").write_text("hello\n")
    else:  # pragma: no cover
        raise AssertionError(f"no recipe for {name}")


@pytest.mark.parametrize("name", sorted(MANIFEST["made"]))
def test_made_case(mini: Path, tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    _make(mini, outside, name)
    assert validate_both(mini) == expected_lines(MANIFEST["made"][name])
