"""One valid, commented YAML example per catalog file kind (``calcat-git schema KIND
--example``, ``calcat-git init``): together they make a small coherent catalog."""

from __future__ import annotations

from importlib import resources

from calcat_git.errors import InvalidInputError

# kind → where its example lives in a catalog
EXAMPLE_PATHS = {
    "instrument": "registry/instruments/BL1.yaml",
    "detector_type": "registry/detector_types/Pixel-Type.yaml",
    "calibration": "registry/calibrations/Offset.yaml",
    "parameter": "registry/parameters/sensor_bias_voltage.yaml",
    "pdu": "registry/pdus/Pixel-Type/PIXEL_M001.yaml",
    "detector": "registry/detectors/BL1_DET_PIXEL-1.yaml",
    "mapping": "registry/mappings/BL1_DET_PIXEL-1.yaml",
    "constants": "constants_index/BL1_DET_PIXEL-1/2026/20260110T090000Z-dark.yaml",
}


def example_text(kind: str) -> str:
    """The commented example of a file of ``kind``."""
    if kind not in EXAMPLE_PATHS:
        raise InvalidInputError(f"unknown kind {kind!r}: one of {', '.join(EXAMPLE_PATHS)}")
    return resources.files("calcat_git").joinpath(f"files/examples/{kind}.yaml").read_text("utf-8")
