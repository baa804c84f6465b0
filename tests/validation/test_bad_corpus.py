"""The bad-input corpus (tests/data/bad/): every file, dropped into a copy of the mini
catalog, gets exactly the one-line messages its manifest entry lists, from the CLI (exit
code 1, no traceback) and from the Python API alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from calcat_git import Catalog
from calcat_git.index.parse import Invalid, parse_blob

from ..helpers import HERE, fast_sample, git, problems, run_cli

CORPUS = HERE / "data" / "bad"
MANIFEST: dict[str, Any] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
PATHS: dict[str, str] = MANIFEST["paths"]


def expected_lines(case: dict[str, Any]) -> list[str]:
    return [line.format(**PATHS) for line in case["expect"]]


def validate_both(root: Path) -> list[str]:
    """Problems from the API; the CLI must print the same lines, exit 1 (0 if none), no traceback."""
    found = problems(root)
    run = run_cli("validate", str(root))
    assert "Traceback" not in run.stderr
    assert run.stdout.splitlines() == (found or [run.stdout.splitlines()[0]])  # valid: one summary line
    assert run.returncode == (1 if found else 0), run.stderr
    return found


def test_corpus_and_manifest_agree() -> None:
    files = {p.stem for p in CORPUS.glob("*.yaml")} - {"expected"}
    assert files == set(MANIFEST["files"]), "every corpus file has a manifest entry and vice versa"


@pytest.mark.parametrize("name", fast_sample(sorted(MANIFEST["files"]), keep=4))
def test_corpus_file(mini: Path, name: str) -> None:
    case = MANIFEST["files"][name]
    target = PATHS[case["at"]]
    raw = (CORPUS / f"{name}.yaml").read_bytes()
    (mini / target).write_bytes(raw)
    assert validate_both(mini) == expected_lines(case)
    parsed = parse_blob(target, raw)  # the index meets the same bytes in git: it must never raise
    file_local = any("[yaml]" in line or "[schema]" in line for line in case["expect"])
    assert isinstance(parsed, Invalid) == file_local  # the index and validate agree about the file
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


@pytest.mark.parametrize("name", fast_sample(sorted(MANIFEST["made"]), keep=3))
def test_made_case(mini: Path, tmp_path: Path, name: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    _make(mini, outside, name)
    assert validate_both(mini) == expected_lines(MANIFEST["made"][name])


def _h5(path: Path, name: str) -> None:
    """Write the constant file of HDF5 case ``name`` (a good file, then broken in one place)."""
    import h5py
    import numpy as np

    from calcat_git.store.hdf5 import write_constant

    if name in ("empty-file", "no-constants"):
        path.write_bytes(b"") if name == "empty-file" else h5py.File(path, "w").close()
        return
    pdu, uuid = ("AGIPD_M9", 100009) if name == "unknown-pdu" else ("AGIPD_M3", 100003)
    write_constant(path, pdu=pdu, uuid=uuid, detector_type="AGIPD-Type", calibration="Offset", data=np.ones((2, 2)),
                   conditions={"Memory cells": 352, "Sensor Bias Voltage": 300},
                   begin_at="2019-01-01T00:00:00Z" if name == "pdu-not-in-a-slot" else "2024-06-01T00:00:00Z")
    with h5py.File(path, "a") as handle:
        ccv = handle[f"{pdu}/Offset/0"]
        cond = ccv["operating_condition/memory_cells"]
        recipes = {
            "missing-data-dataset": lambda: ccv.__delitem__("data"),
            "missing-conditions-group": lambda: ccv.__delitem__("operating_condition"),
            "missing-begin-at": lambda: ccv.attrs.__delitem__("begin_at"),
            "missing-database-name": lambda: cond.attrs.__delitem__("database_name"),
            "uuid-as-string": lambda: handle[pdu].attrs.__setitem__("uuid", "100003"),
            "begin-at-as-number": lambda: ccv.attrs.__setitem__("begin_at", np.int64(1717200000)),
            "naive-begin-at": lambda: ccv.attrs.__setitem__("begin_at", "2024-06-01T10:00:00"),
        }
        if name in recipes:
            recipes[name]()
        elif name in ("string-data", "compound-data"):
            del ccv["data"]
            ccv["data"] = "text" if name == "string-data" else np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")])
        elif name in ("condition-array", "condition-nan"):
            attrs = dict(cond.attrs)
            del ccv["operating_condition/memory_cells"]
            new = ccv["operating_condition"].create_dataset("memory_cells", data=[1, 2] if name == "condition-array"
                                                             else np.nan)
            new.attrs.update(attrs)
        elif name == "pdu-is-a-dataset":
            del handle[pdu]
            handle[pdu] = np.zeros(3)
        else:
            _h5_elsewhere(handle, ccv, cond, name)
    if name == "truncated":
        path.write_bytes(path.read_bytes()[:700])


def _h5_elsewhere(handle: Any, ccv: Any, cond: Any, name: str) -> None:
    """HDF5 that points outside the file, shares objects, declares too much, or holds odd values."""
    import h5py
    import numpy as np

    if name in ("external-storage", "virtual-dataset", "huge-declared-data"):
        del ccv["data"]
    if name == "external-link":
        ccv["extra"] = h5py.ExternalLink("other.h5", "/secret")
    elif name == "external-storage":  # read back /etc/passwd through .ndarray() before
        ccv.create_dataset("data", shape=(32,), dtype="u1", external=[("/etc/passwd", 0, 32)])
    elif name == "virtual-dataset":
        layout = h5py.VirtualLayout(shape=(2,), dtype="f8")
        layout[:] = h5py.VirtualSource("other.h5", "/x", shape=(2,))
        ccv.create_virtual_dataset("data", layout)
    elif name == "soft-link-ccv":
        ccv.parent["1"] = h5py.SoftLink(ccv.name)
    elif name == "hard-link-ccv":
        ccv.parent["1"] = ccv
    elif name == "huge-declared-data":  # a few kB on disk, 149 GiB declared
        ccv.create_dataset("data", shape=(40_000, 40_000, 25), dtype="f4", chunks=(1, 1000, 25))
    elif name == "condition-array-typed-scalar":
        attrs = dict(cond.attrs)
        del ccv["operating_condition/memory_cells"]
        new = ccv["operating_condition"].create_dataset("memory_cells", shape=(), dtype=np.dtype(("f8", (100_000,))))
        new.attrs.update(attrs)
    elif name == "uuid-array":
        handle[ccv.name.split("/")[1]].attrs["uuid"] = np.arange(100_000)
    elif name == "deviation-array":
        cond.attrs["lower_deviation"] = np.zeros(100_000)
    elif name == "nan-deviation":
        cond.attrs["lower_deviation"] = np.nan
    elif name == "bool-condition":
        attrs = dict(cond.attrs)
        del ccv["operating_condition/memory_cells"]
        ccv["operating_condition"].create_dataset("memory_cells", data=True).attrs.update(attrs)
    elif name == "bidi-group-name":
        ccv.parent.move("0", "0\u202e")
    elif name not in ("good", "unknown-pdu", "pdu-not-in-a-slot", "truncated"):  # pragma: no cover
        raise AssertionError(f"no recipe for {name}")


@pytest.mark.parametrize("name", fast_sample(sorted(MANIFEST["hdf5"]), keep=2))
def test_bad_constant_file(git_mini: Path, tmp_path: Path, name: str) -> None:
    from calcat_git import InvalidInputError
    from calcat_git.edit.change import inject
    from calcat_git.store.paths import content_path, file_sha256

    path = tmp_path / f"{name}.h5"
    _h5(path, name.replace("store-checksum-mismatch", "good"))
    store = git_mini.parent / "store"
    sha = file_sha256(path)
    if name == "store-checksum-mismatch":
        (store / content_path(sha)).parent.mkdir(parents=True)
        (store / content_path(sha)).write_bytes(b"something else")
    before = sorted(p for p in (git_mini.parent).rglob("*") if ".git" not in p.parts)
    expected = [line.format(h5=path, store=store, sha=sha, sha2=sha[:2]) for line in MANIFEST["hdf5"][name]]
    with pytest.raises(InvalidInputError) as caught:
        inject(git_mini, [path], report_path="r/bad.pdf")
    assert [f"error: {caught.value}"] == expected
    run = run_cli("inject", str(path), "--report", "r/bad.pdf", "--repo", str(git_mini))
    assert (run.returncode, run.stdout, run.stderr.splitlines()) == (1, "", expected)
    assert sorted(p for p in (git_mini.parent).rglob("*") if ".git" not in p.parts) == before  # nothing left


@pytest.mark.parametrize("name", fast_sample(sorted(MANIFEST["cli"]), keep=2))
def test_bad_command_line(git_mini: Path, name: str) -> None:
    case = MANIFEST["cli"][name]
    run = run_cli(*case["args"], "--repo", str(git_mini))
    assert (run.returncode, run.stdout, run.stderr) == (1, "", case["stderr"].format(repo=git_mini) + "\n")


@pytest.mark.parametrize("name", fast_sample(sorted(MANIFEST["inject"]), keep=1))
def test_bad_injection(git_mini: Path, tmp_path: Path, name: str) -> None:
    """Arguments of inject that `validate` or git would refuse: exit 1, one line, nothing written or committed."""

    case = MANIFEST["inject"][name]
    path = tmp_path / f"{name}.h5"
    _h5(path, case.get("file", "good"))
    args = [str(path), "--report", case.get("report", "r/bad.pdf"), *case.get("args", []), "--repo", str(git_mini)]
    before = sorted(p for p in (git_mini.parent).rglob("*") if ".git" not in p.parts)
    refs = git(git_mini, "for-each-ref")
    run = run_cli("inject", *args)
    expected = [line.format(h5=path) for line in case["expect"]]
    assert (run.returncode, run.stdout, run.stderr.splitlines()) == (1, "", expected)
    assert sorted(p for p in (git_mini.parent).rglob("*") if ".git" not in p.parts) == before
    assert git(git_mini, "for-each-ref") == refs  # no branch made, nothing committed


def _tree(root: Path) -> list[tuple[str, bytes]]:
    return sorted((p.relative_to(root).as_posix(), p.read_bytes()) for p in root.rglob("*")
                  if p.is_file() and ".git" not in p.relative_to(root).parts)


def _import_refused(repo: Path, replies: Path, expected: str, file: Path | None = None) -> None:
    before, head = _tree(repo), git(repo, "rev-parse", "HEAD")
    run = run_cli("import-calcat", "--replies", str(replies), "--repo", str(repo))
    assert (run.returncode, run.stdout, run.stderr) == (1, "", expected.format(file=file or replies) + "\n")
    assert _tree(repo) == before and git(repo, "rev-parse", "HEAD") == head  # nothing written, nothing committed


@pytest.mark.parametrize("name", fast_sample(sorted(MANIFEST["replies"]), keep=1))
def test_bad_calcat_reply(git_mini: Path, name: str) -> None:
    _import_refused(git_mini, CORPUS / "replies" / f"{name}.yaml", MANIFEST["replies"][name])


@pytest.mark.parametrize("name", fast_sample(sorted(MANIFEST["replies_made"]), keep=1))
def test_bad_calcat_reply_made(git_mini: Path, tmp_path: Path, name: str) -> None:
    folder = tmp_path / "replies"
    folder.mkdir()
    target = folder / f"{name}.yaml"
    if name == "dev-zero":  # a link to an endless file: the size is checked on what is read
        target.symlink_to("/dev/zero")
    else:  # ~600 KB of aliases, refused at the first anchor (nothing is expanded)
        lines = ["interactions:", "- request: {method: GET, uri: 'http://x/api/calibrations'}", "  a0: &a0 [x, x]"]
        lines += [f"  a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 20000)]
        target.write_text("\n".join(lines) + "\n")
        assert target.stat().st_size > 600_000
    _import_refused(git_mini, folder, MANIFEST["replies_made"][name], target)  # the folder, as a user passes it
