"""Which of CALCAT's fields a record must keep verbatim (its ``calcat`` block).

The CALCAT-compatible server derives each reply field from the catalog's own fields
(:mod:`calcat_git.model.calcat_fields`); a record keeps, in ``calcat``, exactly the fields
of CALCAT's record that this derivation would answer differently (a ``null`` number of
modules, an unknown unit id, a made-up description that CALCAT does not have, …). A
record the catalog already has gains the block once, computed against its own fields, so
a recorded fact wins over illustrative content in what is served.
"""

from __future__ import annotations

from typing import Any

from calcat_git.model.calcat_fields import detector_fields
from calcat_git.model.records import Detector, Verbatim


def differing(rec: dict[str, Any], served: dict[str, Any]) -> Verbatim | None:
    """CALCAT's fields of ``rec`` that ``served`` (what the server derives) would answer otherwise."""
    return Verbatim.of({k: v for k, v in rec.items() if k != "id" and k in served and served[k] != v})


def detector_with_instruments(det: Detector, did: int, instrument_ids: dict[str, int | None]) -> dict[str, Any]:
    return {
        **detector_fields(det),
        "detectors_instruments": [{"instrument_id": instrument_ids.get(i), "detector_id": did} for i in det.instruments],
    }
