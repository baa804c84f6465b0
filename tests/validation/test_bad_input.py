"""Each check: a real catalog file broken in one place, and the exact message.

Whole bad files (encodings, YAML tricks, timestamps, paths, links) are the corpus in
tests/data/bad/, run by test_bad_corpus.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from calcat_git import Catalog, NotFoundError, RepositoryError, setup_catalog
from calcat_git.store.paths import store_root

from ..helpers import commit_all, edit, git, problems

MAP = "registry/mappings/MID_DET_AGIPD1M-1.yaml"
SPB_MAP = "registry/mappings/SPB_DET_AGIPD1M-1.yaml"
DET = "registry/detectors/MID_DET_AGIPD1M-1.yaml"
PDU = "registry/pdus/AGIPD-Type/AGIPD_M2.yaml"
BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"
TYPE = "registry/detector_types/AGIPD-Type.yaml"

CASES = [
    # (id, file, old, new, exact problem)
    ("unknown-key", PDU, "detector_type:", "detecor_type: AGIPD-Type\ndetector_type:",
     f"{PDU}:2: detecor_type: unknown key 'detecor_type' (allowed: physical_name, detector_type, uuid, status, "
     "calcat_id, calcat, description, source) [schema]"),
    ("missing-key", PDU, "uuid: 100002\n", "",
     f"{PDU}:1: 'uuid' is missing (required) [schema]"),
    ("wrong-type", PDU, "uuid: 100002", "uuid: '100002'",
     f"{PDU}:3: uuid: expected integer, got str [schema]"),
    ("unknown-pdu", MAP, "AGIPD01: AGIPD_M3", "AGIPD01: AGIPD_M33",
     f"{MAP}:11: changes.1.modules.AGIPD01: unknown PDU 'AGIPD_M33' (did you mean AGIPD_M3, AGIPD_M5, AGIPD_M4?) [references]"),
    ("unknown-instrument", DET, "instruments: [MID]", "instruments: [MIDD]",
     f"{DET}:3: instruments.0: unknown instrument 'MIDD' (did you mean MID?) [references]"),
    ("unknown-calibration", BATCH, "calibration: Noise", "calibration: Noize",
     f"{BATCH}:15: constants.1.calibration: unknown calibration 'Noize' (did you mean Noise?) [references]"),
    ("no-such-module", MAP, "AGIPD01: AGIPD_M3", "AGIPD16: AGIPD_M3",
     f"{MAP}:11: changes.1.modules.AGIPD16: MID_DET_AGIPD1M-1 has no module AGIPD16 (modules: AGIPD00…AGIPD01) "
     "[mapping-modules]"),
    ("time-order", MAP, '"2024-01-01T00:00:00Z"', '"2023-05-10T06:00:00Z"',
     f"{MAP}:12: changes.2.from: 2023-05-10T06:00:00Z is not after changes.1.from (2023-05-10T06:00:00Z): "
     "keep changes in strictly increasing time order [mapping-order]"),
    ("two-slots", SPB_MAP, '"2024-02-01T00:00:00Z"', '"2023-12-01T00:00:00Z"',
     f"{SPB_MAP}:11: changes.1.modules.AGIPD00: PDU AGIPD_M1 would sit in SPB_DET_AGIPD1M-1/AGIPD00 and in "
     "MID_DET_AGIPD1M-1/AGIPD00 during [2023-12-01T00:00:00Z, 2024-01-01T00:00:00Z): empty the other slot first "
     "[one-slot]"),
    ("pdu-type", MAP, "AGIPD01: AGIPD_M3", "AGIPD01: Jungfrau_M001",
     f"{MAP}:11: changes.1.modules.AGIPD01: PDU Jungfrau_M001 is jungfrau-Type but MID_DET_AGIPD1M-1 is AGIPD-Type "
     "[pdu-type]"),
    ("retired", "registry/pdus/AGIPD-Type/AGIPD_M3.yaml", "status: active", "status: retired",
     f"{MAP}:11: changes.1.modules.AGIPD01: PDU AGIPD_M3 is retired but still sits in AGIPD01: map its successor "
     "or null [pdu-status]"),
    ("aggregator-prefix", DET, "module_number: 1}\n", "module_number: 1}\n  - {aggregator: AGIPD2, "
     "virtual_device_name: Q1M3, module_number: 2}\n",
     f"{DET}:10: modules.2.aggregator: aggregator 'AGIPD2' must be AGIPD and two digits for AGIPD-Type "
     "[detector-modules]"),
    ("ccv-calibration", BATCH, "calibration: Noise", "calibration: SlopesFF",
     f"{BATCH}:15: constants.1.calibration: calibration SlopesFF is not one of AGIPD-Type's [ccv-calibration]"),
    ("ccv-parameter-spelling", BATCH, "  Memory cells: 352", "  Memory Cells: 352",
     f"{BATCH}:6: conditions.Memory Cells: 'Memory Cells' is not a parameter of AGIPD-Type: AGIPD-Type spells it "
     "'Memory cells' [ccv-parameters]"),
    ("duplicate-uuid", "registry/pdus/AGIPD-Type/AGIPD_M3.yaml", "uuid: 100003", "uuid: 100002",
     "registry/pdus/AGIPD-Type/AGIPD_M3.yaml:3: uuid: uuid 100002 is already the uuid of PDU AGIPD_M2 "
     f"({PDU}): give each PDU its own [pdu-uuid]"),
    ("parameter-spelling-twice", "registry/parameters/sensor_bias_voltage.yaml", "[Sensor Bias Voltage]",
     "[Sensor Bias Voltage, Memory cells]",
     "registry/parameters/sensor_bias_voltage.yaml:2: spellings.1: spelling 'Memory cells' is already a spelling of "
     "memory_cells [parameter-spellings]"),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), [(*c[1:4], c[4:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_broken_file_gives_exact_message(mini: Path, file: str, old: str, new: str, expected: tuple[str, ...]) -> None:
    assert problems(mini) == [], "the unbroken catalog must be valid"
    edit(mini, file, old, new)
    assert sorted(problems(mini)) == sorted(expected)


def test_all_problems_reported_at_once(mini: Path) -> None:
    edit(mini, PDU, "uuid: 100002", "uuid: x")
    edit(mini, MAP, "AGIPD01: AGIPD_M3", "AGIPD01: AGIPD_M33")
    edit(mini, BATCH, "calibration: Noise", "calibration: SlopesFF")
    found = problems(mini)
    assert [p.split(":")[0] for p in found] == [BATCH, MAP, PDU]


def test_skip_unknown_check_is_an_error(mini: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no check named 'one-slt' \(did you mean one-slot\?\)"):
        problems(mini, skip=("one-slt",))


def test_opening_errors_name_the_python_argument_and_the_option(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Catalog.open and store_root are called from Python as well as by the command line."""
    with pytest.raises(RepositoryError, match=r"open the folder holding registry/ \(Catalog.open\(PATH\), --repo PATH "
                                              r"on the command line, or run inside it\)$"):
        Catalog.open(tmp_path)
    monkeypatch.delenv("CALCAT_GIT_STORE", raising=False)
    with pytest.raises(NotFoundError, match=r"^no constant store given: pass store=DIR \(--store DIR on the command "
                                            r"line\), set CALCAT_GIT_STORE, or write `store: DIR`"):
        store_root(None, tmp_path)


def test_setup_catalog_passes_a_missing_branch_on_as_it_is(mini: Path) -> None:
    git(mini, "init", "-q", "-b", "main")
    commit_all(mini, "catalog", "2024-05-02T00:00:00Z")
    with pytest.raises(RepositoryError) as wrong:
        setup_catalog(mini, branch="mian")
    assert str(wrong.value) == f"no branch 'mian' in {mini} (did you mean main?): pass an existing branch"
