"""Each check: a real catalog file broken in one place, and the exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import edit, problems

MAP = "registry/mappings/MID_DET_AGIPD1M-1.yaml"
SPB_MAP = "registry/mappings/SPB_DET_AGIPD1M-1.yaml"
DET = "registry/detectors/MID_DET_AGIPD1M-1.yaml"
PDU = "registry/pdus/AGIPD-Type/AGIPD_M2.yaml"
BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"
TYPE = "registry/detector_types/AGIPD-Type.yaml"

CASES = [
    # (id, file, old, new, exact problem)
    ("duplicate-key", PDU, "status: active\n", "status: active\nuuid: 3\n",
     f"{PDU}:5: uuid: duplicate key 'uuid' (first defined on line 3) [yaml]"),
    ("alias", PDU, "uuid: 100002\n", "uuid: &u 100002\n",
     f"{PDU}:3: anchors and aliases (&, *) are not allowed: write values out [yaml]"),
    ("python-tag", PDU, "status: active", "status: !!python/object/apply:os.system [ls]",
     f"{PDU}:4: explicit tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed [yaml]"),
    ("bool-key", PDU, "status: active", "on: active",
     f"{PDU}:4: key True is a bool, not a string: quote it [yaml]"),
    ("tab", MAP, "      AGIPD01: AGIPD_M3", "\tAGIPD01: AGIPD_M3",
     f"{MAP}:11: tab character: indent and separate with spaces only [yaml]"),
    ("syntax", DET, "instruments: [MID]", "instruments: [MID",
     f"{DET}:4: YAML syntax error: did not find expected ',' or ']' [yaml]"),
    ("unknown-key", PDU, "detector_type:", "detecor_type: AGIPD-Type\ndetector_type:",
     f"{PDU}:2: detecor_type: unknown key 'detecor_type' (allowed: physical_name, detector_type, uuid, status, "
     "calcat_id, description, source) [schema]"),
    ("missing-key", PDU, "uuid: 100002\n", "",
     f"{PDU}:1: 'uuid' is missing (required) [schema]"),
    ("wrong-type", PDU, "uuid: 100002", "uuid: '100002'",
     f"{PDU}:3: uuid: expected integer, got str [schema]"),
    ("naive-time", MAP, '"2024-01-01T00:00:00Z"', '"2024-01-01T00:00:00"',
     f"{MAP}:12: changes.2.from: naive timestamp '2024-01-01T00:00:00' has no time zone: add Z for UTC or an "
     "offset such as +02:00 [schema]"),
    ("impossible-time", MAP, '"2024-01-01T00:00:00Z"', '"2023-02-29T00:00:00Z"',
     f"{MAP}:12: changes.2.from: impossible timestamp '2023-02-29T00:00:00Z': day is out of range for month [schema]"),
    ("number-as-name", MAP, "AGIPD01: AGIPD_M3", "AGIPD01: 3",
     f"{MAP}:11: changes.1.modules.AGIPD01: 3 must be a PDU name or null (empty slot) [schema]"),
    ("file-name", PDU, "physical_name: AGIPD_M2", "physical_name: AGIPD_M9",
     f"{PDU}:1: physical_name: file name must be AGIPD_M9.yaml to match physical_name [file-name]",
     f"{MAP}:7: changes.0.modules.AGIPD01: unknown PDU 'AGIPD_M2' (did you mean AGIPD_M9, AGIPD_M5, AGIPD_M4?) "
     "[references]"),
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
    ("store-dotdot", BATCH, "file: xfel/cal/agipd-type/agipd_m3/cal.1714557600.h5\n    dataset: /AGIPD_M3/Offset/0",
     "file: xfel/../../etc/passwd\n    dataset: /AGIPD_M3/Offset/0",
     f"{BATCH}:11: constants.0.file: 'xfel/../../etc/passwd' has an empty, '.' or '..' segment: paths must stay "
     "inside the store [store-paths]"),
    ("store-absolute", BATCH, "path: xfel/reports/MID/AGIPD/dark_r0012.pdf", "path: /gpfs/reports/dark.pdf",
     f"{BATCH}:2: report.path: '/gpfs/reports/dark.pdf' is absolute: store paths are relative to the store root "
     "[store-paths]"),
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


def test_list_where_a_map_is_expected(mini: Path) -> None:
    (mini / PDU).write_text("- AGIPD_M2\n- AGIPD-Type\n")
    assert problems(mini) == [f"{PDU}:1: expected object, got list [schema]"]


def test_binary_and_encoding_problems(mini: Path) -> None:
    (mini / PDU).write_bytes(b"\xef\xbb\xbf" + (mini / PDU).read_bytes())
    (mini / DET).write_bytes((mini / DET).read_bytes().replace(b"Q1M2", b"Q1M\xe92"))
    (mini / TYPE).write_bytes(b"")
    assert problems(mini, skip=("references", "mapping-modules", "pdu-type", "detector-modules",
                                "ccv-calibration", "ccv-parameters")) == [
        f"{TYPE}:1: empty file: expected a YAML map [yaml]",
        f"{DET}:9: not UTF-8 (byte 0xe9): save the file as UTF-8 [yaml]",
        f"{PDU}:1: file starts with a byte order mark (BOM): save it as UTF-8 without BOM [yaml]",
    ]


def test_billion_laughs_is_refused_quickly(mini: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]" for i in range(9)]
    (mini / PDU).write_text("\n".join(lines) + "\n")
    assert problems(mini, skip=("references",)) == [
        f"{PDU}:1: anchors and aliases (&, *) are not allowed: write values out [yaml]"
    ]


def test_layout_symlink_and_case(mini: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("identifier: Secret\n")
    (mini / "registry/calibrations/Secret.yaml").symlink_to(outside)
    (mini / "registry/calibrations/offset.yaml").write_text("identifier: offset\n")
    (mini / "registry/calibrations/notes.txt").write_text("hello\n")
    assert problems(mini) == [
        "registry/calibrations/Secret.yaml:1: symbolic link: catalog files must be regular files inside the "
        "repository [layout]",
        "registry/calibrations/notes.txt:1: not a catalog file here: see the layout in ARCHITECTURE.md "
        "(registry/<kind>/<identifier>.yaml, constants_index/<detector>/<YYYY>/<stamp>-<slug>.yaml) [layout]",
        "registry/calibrations/offset.yaml:1: differs from registry/calibrations/Offset.yaml only in case "
        "[case-collision]",
    ]


def test_all_problems_reported_at_once(mini: Path) -> None:
    edit(mini, PDU, "uuid: 100002", "uuid: x")
    edit(mini, MAP, "AGIPD01: AGIPD_M3", "AGIPD01: AGIPD_M33")
    edit(mini, BATCH, "calibration: Noise", "calibration: SlopesFF")
    found = problems(mini)
    assert [p.split(":")[0] for p in found] == [BATCH, MAP, PDU]


def test_skip_unknown_check_is_an_error(mini: Path) -> None:
    from calcat_git import NotFoundError

    with pytest.raises(NotFoundError, match=r"no check named 'one-slt' \(did you mean one-slot\?\)"):
        problems(mini, skip=("one-slt",))
