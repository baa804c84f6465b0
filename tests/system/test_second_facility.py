"""A second facility starts a catalog from the wheel alone: the wheel is built from a copy of
the source and installed into a fresh environment outside this repository; from then on only
that environment's ``calcat-git`` and ``mkdocs`` and the files they write are used: ``init``,
a detector type and an instrument written from ``schema KIND --example``, the one-step
commands, a constant file as the pipeline writes it (h5py), ``inject``, ``validate``, plain
``mkdocs build``, and ``serve`` asked by EXtra's own client.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import h5py
import numpy as np
import pytest
import yaml

from ..helpers import REPO_ROOT, start_serving, stop_process

NAME = "Sirius calibration catalog"
ZONE = "America/Sao_Paulo"
XFEL_WORDS = ("AGIPD", "Q1M2", "XFEL")  # placeholders of the tool's own catalog: never in another facility's pages
SHIPPED = ("calcat_git/site/guide/getting-started.md", "calcat_git/site/guide/cli.md",
           "calcat_git/edit/templates/mkdocs.yml", "calcat_git/edit/templates/gitignore",
           "calcat_git/files/examples/detector_type.yaml", "calcat_git/files/schemas/detector_type.json",
           "calcat_git/site/defaults/mkdocs.yml", "calcat_git/site/defaults/assets/lookup.js",
           "calcat_git/site/defaults/api-schemas/ccv-index.json", "calcat_git/py.typed")


def _env(venv: Path) -> dict[str, str]:
    """The new environment activated, with nothing pointing back at this repository."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CALCAT_GIT_STORE", "CALCAT_GIT_CATALOG", "PYTHONHOME")}
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}", "VIRTUAL_ENV": str(venv),
            "NO_MKDOCS_2_WARNING": "1", "GIT_AUTHOR_NAME": "Ana Lima", "GIT_AUTHOR_EMAIL": "ana@example.org",
            "GIT_COMMITTER_NAME": "Ana Lima", "GIT_COMMITTER_EMAIL": "ana@example.org"}


@dataclass(frozen=True)
class Venv:
    path: Path
    wheel: Path

    def run(self, cwd: Path, *args: str) -> str:
        done = subprocess.run(args, cwd=cwd, env=_env(self.path), capture_output=True, text=True, check=False,
                              timeout=600)
        assert done.returncode == 0, f"{' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}"
        return done.stdout

    def tool(self, cwd: Path, *args: str) -> str:
        return self.run(cwd, str(self.path / "bin" / "calcat-git"), *args)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh environment outside the repository with the wheel built from a copy of the source."""
    base = tmp_path_factory.mktemp("facility")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "calcat_git", source / "calcat_git",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=120)
    new = Venv(env, base)  # the wheel's folder for now
    new.run(base, str(env / "bin/python"), "-m", "pip", "install", "-q", "setuptools>=77")  # the build backend
    new.run(source, str(env / "bin/python"), "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
            "-w", str(base / "dist"), ".")
    (wheel,) = (base / "dist").glob("calcat_git-*.whl")
    new.run(base, str(env / "bin/python"), "-m", "pip", "install", "-q", str(wheel))
    shutil.rmtree(source)
    where = new.run(base, str(env / "bin/python"), "-c", "import calcat_git; print(calcat_git.__file__)")
    assert Path(where.strip()).is_relative_to(env), where
    return Venv(env, wheel)


def test_the_guide_pages_are_in_every_nav() -> None:
    """The guide ships in the package; this repository's site, a new catalog's and the default list each page."""
    pages = sorted(f"guide/{p.name}" for p in (REPO_ROOT / "calcat_git/site/guide").glob("*.md"))
    assert "guide/getting-started.md" in pages
    for config in ("mkdocs.yml", "calcat_git/edit/templates/mkdocs.yml", "calcat_git/site/defaults/mkdocs.yml"):
        text = (REPO_ROOT / config).read_text("utf-8").replace("$name", "x")
        nav = yaml.safe_load(text)["nav"]
        guide = next(item["Guide"] for item in nav if isinstance(item, dict) and "Guide" in item)
        assert sorted(guide) == pages, config


def test_a_catalogs_own_page_replaces_the_guides(git_mini: Path, tmp_path: Path) -> None:
    from calcat_git.site.build import prepare

    (git_mini / "site/guide").mkdir(parents=True)
    (git_mini / "site/guide/formats.md").write_text("# Our own formats\n")
    docs = tmp_path / "docs"
    prepare(git_mini, docs, pages={"guide/cli.md": "# CLI\n"})
    guide = REPO_ROOT / "calcat_git/site/guide"
    assert (docs / "guide/formats.md").read_text("utf-8") == "# Our own formats\n"
    assert (docs / "guide/getting-started.md").read_text("utf-8") == (guide / "getting-started.md").read_text("utf-8")
    assert (docs / "guide/cli.md").read_text("utf-8") == "# CLI\n"  # the command line's reference, as rendered
    assert {p.name for p in (docs / "guide").glob("*.md")} == {p.name for p in guide.glob("*.md")}


@pytest.mark.slow
def test_the_wheel_ships_what_site_init_and_guide_need(venv: Venv) -> None:
    names = set(zipfile.ZipFile(venv.wheel).namelist())
    assert set(SHIPPED) <= names, sorted(set(SHIPPED) - names)
    for folder in ("calcat_git/site/guide", "calcat_git/edit/templates", "calcat_git/files/examples",
                   "calcat_git/files/schemas", "calcat_git/site/defaults/assets", "calcat_git/site/defaults/api-schemas"):
        ours = {f"{folder}/{p.name}" for p in (REPO_ROOT / folder).iterdir() if p.is_file()}
        assert ours and ours <= names, (folder, sorted(ours - names))


def _serve(venv: Venv, root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The new environment's ``calcat-git serve`` on a free loopback port, once it answers."""
    proc, port = start_serving([str(venv.path / "bin/calcat-git"), "serve", "--repo", str(root), "--port", "0"],
                               cwd=root, env=_env(venv.path))
    return proc, f"http://127.0.0.1:{port}"


def _constant_file(path: Path, data: np.ndarray) -> None:
    """One Offset constant of PDU HEXA_M001 in the layout the calibration pipeline writes."""
    with h5py.File(path, "w") as handle:
        unit = handle.create_group("HEXA_M001")
        unit.attrs["uuid"] = np.int64(5001)
        unit.attrs["detector_type"] = "Hexa-Type"
        ccv = unit.create_group("Offset").create_group("0")
        ccv.attrs["begin_at"] = "2026-02-01T10:00:00-03:00"
        conditions = ccv.create_group("operating_condition")
        for name, value in {"Sensor Bias Voltage": 200.0, "Integration Time": 10.0}.items():
            item = conditions.create_dataset(name.lower().replace(" ", "_"), data=value)
            item.attrs["database_name"] = name
            item.attrs["lower_deviation"] = 0.0
            item.attrs["upper_deviation"] = 0.0
        ccv.create_dataset("data", data=data)


def _build_catalog(venv: Venv, work: Path) -> tuple[Path, dict[str, object], np.ndarray]:
    """``init``, records, a mapped detector and one injected constant: the catalog, inject's reply, the data."""
    venv.tool(work, "init", "cat", "--name", NAME, "--time-zone", ZONE, "--admin", "@sirius/calibration")
    root = work / "cat"
    example = venv.tool(root, "schema", "detector_type", "--example")
    (root / "registry/detector_types/Hexa-Type.yaml").write_text(
        example.replace("Pixel-Type", "Hexa-Type").replace("PIXEL", "HEXA")
        .replace("calibrations: [Offset]", "calibrations: []").replace("parameters: [Sensor Bias Voltage]", "parameters: []"))
    example = venv.tool(root, "schema", "instrument", "--example")
    (root / "registry/instruments/CARNAUBA.yaml").write_text(example.replace("BL1", "CARNAUBA")
                                                               .replace("Beamline 1", "Carnauba"))
    venv.run(root, "git", "add", "registry")
    venv.run(root, "git", "commit", "-q", "-m", "The Hexa detector type and the Carnauba beamline")
    venv.tool(root, "add-parameter", "Sensor Bias Voltage", "--type", "Hexa-Type", "--unit", "V",
              "--lower-deviation", "5", "--upper-deviation", "5", "--commit")
    venv.tool(root, "add-parameter", "Integration Time", "--type", "Hexa-Type", "--unit", "us", "--commit")
    venv.tool(root, "add-calibration", "Offset", "--type", "Hexa-Type", "--parameter", "Sensor Bias Voltage",
              "--parameter", "Integration Time", "--description", "dark offset", "--commit")
    venv.tool(root, "add-calibration", "Gain", "--type", "Hexa-Type", "--parameter", "Sensor Bias Voltage", "--commit")
    venv.tool(root, "add-detector", "CAR_DET_HEXA1", "--type", "Hexa-Type", "--instrument", "CARNAUBA",
              "--modules", "2", "--commit")
    for number in (1, 2):
        venv.tool(root, "add-pdu", f"HEXA_M00{number}", "--type", "Hexa-Type", "--uuid", f"500{number}", "--commit")
    venv.tool(root, "swap", "CAR_DET_HEXA1", "HEXA00=HEXA_M001", "HEXA01=HEXA_M002",
              "--from", "2026-01-05T08:00:00-03:00", "--reason", "first installation", "--commit")
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    _constant_file(work / "offset_m001.h5", data)
    reply = yaml.safe_load(venv.tool(root, "inject", str(work / "offset_m001.h5"), "--report",
                                     "reports/carnauba/offset_r0001.pdf", "--commit", "--json"))
    assert "valid: 1 detector types, 1 detectors, 2 pdus, 1 mappings, 1 constant batches, 1 ccvs" in \
        venv.tool(root, "validate")
    assert venv.run(root, "git", "status", "--porcelain") == ""
    return root, reply, data


def _check_site(venv: Venv, root: Path) -> None:
    """Plain ``mkdocs build``: the facility's title, its own records, the guide, no XFEL placeholder."""
    venv.run(root, str(venv.path / "bin/mkdocs"), "build")
    built = root / ".site-build"
    assert f"<title>{NAME}</title>" in (built / "index.html").read_text("utf-8")
    assert "HEXA_M001" in (built / "catalog/detectors/CAR_DET_HEXA1.html").read_text("utf-8")
    guide = {p.stem for p in (built / "guide").glob("*.html")}
    assert guide == {p.stem for p in (REPO_ROOT / "calcat_git/site/guide").glob("*.md")}
    assert "AGIPD" in (built / "guide/getting-started.html").read_text("utf-8")  # the search below can find
    found = []
    for path in sorted(built.rglob("*")):
        rel = path.relative_to(built)
        if not path.is_file() or rel.parts[0] in ("guide", "search") or path.suffix not in (".html", ".js", ".json", ".xml"):
            continue
        text = path.read_text("utf-8")
        found += [f"{rel}: {word}" for word in XFEL_WORDS if word in text]
    assert found == []


@pytest.mark.slow
def test_a_second_facility_starts_from_the_wheel(venv: Venv, tmp_path: Path) -> None:
    from extra.calibration import CalibrationData, ConditionsBase, setup_client

    root, reply, data = _build_catalog(venv, tmp_path)
    _check_site(venv, root)

    @dataclass
    class HexaConditions(ConditionsBase):  # type: ignore[misc]
        sensor_bias_voltage: float
        integration_time: float
        calibration_types: ClassVar[dict[str, list[str]]] = {
            "Offset": ["Sensor Bias Voltage", "Integration Time"], "Gain": ["Sensor Bias Voltage"]}

    def modules(cls: type, event_at: str, strategy: str) -> set[str]:
        found = CalibrationData.from_condition(cls(sensor_bias_voltage=200, integration_time=10), "CAR_DET_HEXA1",
                                               calibrations=["Offset"], event_at=event_at, begin_at_strategy=strategy)
        return {aggregator for calibration in found for aggregator in found[calibration].constants}

    proc, base = _serve(venv, root)
    try:
        setup_client(base, None, None, None)
        found = CalibrationData.from_condition(HexaConditions(sensor_bias_voltage=200, integration_time=10),
                                               "CAR_DET_HEXA1", calibrations=["Offset"],
                                               event_at="2026-03-01T12:00:00-03:00")
        offset = found["Offset"]
        assert list(offset.constants) == ["HEXA00"]
        ccv = offset.constants["HEXA00"]
        assert (ccv.path, ccv.dataset, ccv.pdu_name) == (Path(reply["store_files"][0]), "/HEXA_M001/Offset/0",  # type: ignore[index]
                                                          "HEXA_M001")
        assert np.array_equal(ccv.ndarray(caldb_root=root / ".store"), data)
        # a naive time from a CALCAT client is the facility's: begin_at is 10:00 in São Paulo
        assert modules(HexaConditions, "2026-02-01 10:01:00", "prior") == {"HEXA00"}
        assert modules(HexaConditions, "2026-02-01 09:59:00", "prior") == set()
    finally:
        stop_process(proc)
