"""Build a realistic synthetic calcat-git catalog repository, fast.

    python -m tests.benchmarks.generate --ccvs 1000000 --commits 50000 --out /tmp/bench [--seed 0] [--checkout]

The whole history is written as one stream into ``git fast-import`` (one git process,
never one per commit), while Python produces the next commits: the two run side by side.
The result is deterministic for a seed (same seed, same commit SHAs).

History on branch ``main`` (linear; author and committer times strictly increasing, +0000):

* commit 1 (2018-01-01): the registry: 4 detector types (AGIPD, LPD, DSSC: 16 modules;
  jungfrau: 8 modules JNGFR01..08), calibrations, parameters with their CALCAT spellings,
  instruments, 40 detectors, a PDU for every slot plus spares, and the initial mappings;
* then, up to 2026-01-01: mostly constants batch files (dark runs: modules x Offset,
  Noise, BadPixelsDark, sometimes with ThresholdsDark; now and then flat-field ones),
  and a few percent mapping changes: module swaps (a spare replaces a module, the old
  one goes to repair or is broken), PDUs moved between two detectors of one type, and
  backdated fixes (``from`` days before the commit). When a type runs out of spares an
  admin commit adds new PDUs and retires broken ones.

Invariants kept while generating (so that ``calcat-git validate`` says ``valid``):
mapping changes of a file are strictly increasing in ``from``; a PDU is never in two
slots at once; every new change is later than the newest batch of its detector, so
each CCV's PDU is the one the final mapping puts in a slot at its ``begin_at``.
The CCV count equals ``--ccvs`` exactly: each batch commit gets a share of the budget,
and a batch is cut to it (a partial injection covers a window of modules).

By default the repository is bare (read it with git, or ``git clone`` /
``git worktree add`` it); ``--checkout`` makes a normal repository with HEAD checked out.
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import contextlib
import hashlib
import json
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

START = calendar.timegm((2018, 1, 1, 0, 0, 0))
END = calendar.timegm((2026, 1, 1, 0, 0, 0))
HOUR = 3600
DAY = 24 * HOUR

DARK = ("Offset", "Noise", "BadPixelsDark")
DARK_THRESHOLDS = (*DARK, "ThresholdsDark")
FLAT = ("SlopesFF", "BadPixelsFF")
CALIBRATIONS = (*DARK, "ThresholdsDark", *FLAT)

MAPPING_SHARE = 0.035  # share of commits (after the first) that change a mapping
SPARES_PER_TYPE = 6
NEW_PDUS_PER_ADMIN_COMMIT = 3

COMMITTER = "Catalog Merge Bot <merge-bot@calcat-git.example> "
BOTS = (
    "Calibration Pipeline <calibration-pipeline@xfel.example>",
    "Dark Run Bot <darks-bot@xfel.example>",
    "Calibration Pipeline <calibration-pipeline@xfel.example>",
    "Flat-field Bot <ff-bot@xfel.example>",
)
ADMIN = "Catalog Admin <calcat-admin@xfel.example>"

Value = int | float | str

# parameter file -> (unit, lower, upper deviation, spellings)
PARAMETERS: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    "sensor_bias_voltage": ("V", 5.0, 5.0, ("Sensor Bias Voltage",)),
    "memory_cells": ("", 0.0, 0.0, ("Memory cells", "Memory Cells")),
    "acquisition_rate": ("MHz", 0.1, 0.1, ("Acquisition rate",)),
    "gain_setting": ("", 0.0, 0.0, ("Gain setting", "Gain Setting")),
    "gain_mode": ("", 0.0, 0.0, ("Gain mode",)),
    "pixels_x": ("", 0.0, 0.0, ("Pixels X",)),
    "pixels_y": ("", 0.0, 0.0, ("Pixels Y",)),
    "integration_time": ("us", 0.0, 0.0, ("Integration time", "Integration Time")),
    "sensor_temperature": ("K", 5.0, 5.0, ("Sensor temperature", "Sensor Temperature")),
    "feedback_capacitor": ("pF", 0.0, 0.0, ("Feedback capacitor",)),
    "memory_cell_order": ("", 0.0, 0.0, ("Memory cell order",)),
    "category": ("", 0.0, 0.0, ("category",)),
    "pulse_id_checksum": ("", 0.0, 0.0, ("Pulse id checksum",)),
    "target_gain": ("", 0.0, 0.0, ("Target gain",)),
    "encoded_gain": ("", 0.0, 0.0, ("Encoded gain",)),
}

INSTRUMENTS = {
    "SPB": "Single Particles, Clusters, and Biomolecules",
    "MID": "Materials Imaging and Dynamics",
    "FXE": "Femtosecond X-ray Experiments",
    "HED": "High Energy Density Science",
    "SQS": "Small Quantum Systems",
    "SCS": "Spectroscopy and Coherent Scattering",
    "SXP": "Soft X-ray Port",
    "SA1": "SASE1 photon diagnostics",
}


@dataclass(frozen=True)
class TypeSpec:
    """A detector type: naming, modules, parameters and operating regimes."""

    name: str
    prefix: str
    modules: int
    first_module: int  # number of the first module (AGIPD00 vs JNGFR01)
    experts_team: str
    experts: tuple[str, ...]
    instruments: tuple[str, ...]
    named: tuple[tuple[str, str], ...]  # real-looking detectors: (karabo id, instrument)
    synthetic: str  # karabo id pattern of the synthetic ones, {n:02d}
    n_synthetic: int
    uuid_base: int
    regimes: tuple[dict[str, Value], ...]  # condition sets, CALCAT spellings

    def pdu_name(self, k: int) -> str:
        if self.prefix == "AGIPD":
            return f"AGIPD_SIV1_AGIPDV11_M{300 + k:03d}"
        if self.prefix == "LPD":
            return f"LPD_SIV1_LPDV2_SM{k + 1:03d}"
        if self.prefix == "DSSC":
            return f"DSSC_F{k // 16 + 1}_M{k % 16 + 1:02d}"
        return f"Jungfrau_M{k + 1:03d}"

    def aggregators(self) -> list[str]:
        return [f"{self.prefix}{i + self.first_module:02d}" for i in range(self.modules)]

    def virtual_names(self) -> list[str]:
        if self.modules == 16:
            return [f"Q{i // 4 + 1}M{i % 4 + 1}" for i in range(16)]
        return [f"M{i + 1}" for i in range(self.modules)]

    @property
    def parameters(self) -> list[str]:
        return list(self.regimes[0])


TYPES = (
    TypeSpec(
        name="AGIPD-Type", prefix="AGIPD", modules=16, first_module=0, experts_team="@xfel/agipd-experts",
        experts=("Mara Lindqvist <mara.lindqvist@xfel.example>", "Tomasz Nowak <tomasz.nowak@xfel.example>"),
        instruments=("SPB", "MID", "HED", "SXP"),
        named=(("SPB_DET_AGIPD1M-1", "SPB"), ("MID_DET_AGIPD1M-1", "MID")),
        synthetic="SYN_DET_AGIPD1M-{n:02d}", n_synthetic=10, uuid_base=101000200000,
        regimes=(
            {"Sensor Bias Voltage": 300, "Memory cells": 352, "Acquisition rate": 1.1, "Gain setting": 0,
             "Pixels X": 512, "Pixels Y": 128},
            {"Sensor Bias Voltage": 300, "Memory cells": 202, "Acquisition rate": 2.2, "Gain setting": 0,
             "Pixels X": 512, "Pixels Y": 128},
            {"Sensor Bias Voltage": 200, "Memory cells": 352, "Acquisition rate": 1.1, "Gain setting": 1,
             "Pixels X": 512, "Pixels Y": 128},
            {"Sensor Bias Voltage": 300, "Memory cells": 250, "Acquisition rate": 4.5, "Gain setting": 0,
             "Pixels X": 512, "Pixels Y": 128},
        ),
    ),
    TypeSpec(
        name="LPD-Type", prefix="LPD", modules=16, first_module=0, experts_team="@xfel/lpd-experts",
        experts=("Elena Petrova <elena.petrova@xfel.example>", "Jonas Becker <jonas.becker@xfel.example>"),
        instruments=("FXE", "HED"),
        named=(("FXE_DET_LPD1M-1", "FXE"),),
        synthetic="SYN_DET_LPD1M-{n:02d}", n_synthetic=7, uuid_base=102000100000,
        regimes=(
            {"Sensor Bias Voltage": 250, "Memory cells": 512, "Pixels X": 256, "Pixels Y": 256,
             "Feedback capacitor": 5.0, "Memory cell order": "sequential-512", "category": 1},
            {"Sensor Bias Voltage": 250, "Memory cells": 300, "Pixels X": 256, "Pixels Y": 256,
             "Feedback capacitor": 5.0, "Memory cell order": "interleaved-300", "category": 1},
            {"Sensor Bias Voltage": 200, "Memory cells": 512, "Pixels X": 256, "Pixels Y": 256,
             "Feedback capacitor": 50.0, "Memory cell order": "sequential-512", "category": 2},
        ),
    ),
    TypeSpec(
        name="DSSC-Type", prefix="DSSC", modules=16, first_module=0, experts_team="@xfel/dssc-experts",
        experts=("Ines Moreau <ines.moreau@xfel.example>", "Kai Hoffmann <kai.hoffmann@xfel.example>"),
        instruments=("SCS", "SQS"),
        named=(("SCS_DET_DSSC1M-1", "SCS"), ("SQS_DET_DSSC1M-1", "SQS")),
        synthetic="SYN_DET_DSSC1M-{n:02d}", n_synthetic=6, uuid_base=107000100000,
        regimes=(
            {"Sensor Bias Voltage": 100, "Memory cells": 400, "Pixels X": 512, "Pixels Y": 128,
             "Pulse id checksum": 2.5, "Acquisition rate": 4.5, "Target gain": 2, "Encoded gain": 67000000},
            {"Sensor Bias Voltage": 100, "Memory cells": 800, "Pixels X": 512, "Pixels Y": 128,
             "Pulse id checksum": 5.1, "Acquisition rate": 4.5, "Target gain": 0, "Encoded gain": 67000000},
        ),
    ),
    TypeSpec(
        name="jungfrau-Type", prefix="JNGFR", modules=8, first_module=1, experts_team="@xfel/jungfrau-experts",
        experts=("Sofia Rinaldi <sofia.rinaldi@xfel.example>", "Anders Holm <anders.holm@xfel.example>"),
        instruments=("SPB", "FXE", "HED", "MID", "SA1"),
        named=(("SPB_IRDA_JF4M", "SPB"), ("FXE_XAD_JF1M", "FXE"), ("HED_IA1_JF500K1", "HED")),
        synthetic="SYN_DET_JF4M-{n:02d}", n_synthetic=9, uuid_base=104000100000,
        regimes=(
            {"Sensor Bias Voltage": 180, "Memory Cells": 1, "Pixels X": 1024, "Pixels Y": 512,
             "Integration Time": 10.0, "Gain Setting": 0, "Gain mode": 0, "Sensor temperature": 291.2},
            {"Sensor Bias Voltage": 180, "Memory Cells": 16, "Pixels X": 1024, "Pixels Y": 512,
             "Integration Time": 350.0, "Gain Setting": 0, "Gain mode": 0, "Sensor temperature": 291.2},
            {"Sensor Bias Voltage": 120, "Memory Cells": 1, "Pixels X": 1024, "Pixels Y": 512,
             "Integration Time": 10.0, "Gain Setting": 1, "Gain mode": 1, "Sensor temperature": 291.2},
        ),
    ),
)

SWAP_CAUSES = (
    "a damaged ASIC", "a failing power board", "high leakage current", "a broken flex cable",
    "noisy pixels in one half", "a dead readout chip", "unstable bias current", "water damage in the cooling block",
)


def stamp(t: int) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def flags(sha: str, calibration: str, begin: int) -> str:
    """Quality, deployed and end_at lines: a few CCVs are bad, withdrawn or expire (decided by a
    hash, not the generator's random stream, so the rest of the catalog does not change)."""
    roll = int(hashlib.sha256(f"{sha}/{calibration}".encode()).hexdigest()[:4], 16) % 100
    out = f"    good_quality: {'false' if roll < 3 else 'true'}\n"
    if 3 <= roll < 5:
        out += "    deployed: false\n"
    if 5 <= roll < 8:
        out += f'    end_at: "{iso(begin + 20 * 24 * HOUR)}"\n'
    return out


def iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def day(t: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))


def yaml_value(value: Value) -> str:
    """A YAML scalar that loads back to ``value`` (floats always with a dot)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text or "." not in text:
            raise ValueError(f"float {value!r} would not load back as a YAML float")
        return text
    return str(value)


@dataclass
class DetectorState:
    """One detector and its mapping history, kept in memory while generating."""

    name: str
    spec: TypeSpec
    instrument: str
    weight: int
    aggregators: list[str]
    froms: list[list[int]]  # per slot: increasing validity starts
    pdus: list[list[str | None]]  # per slot: the PDU (or None) from each start on
    changes: list[str] = field(default_factory=list)  # rendered change blocks of the mapping file
    last_from: int = 0  # newest change of the mapping file
    last_begin: int = 0  # newest begin_at of any batch of this detector
    regime: int = 0

    def pdu_at(self, slot: int, t: int) -> str | None:
        i = bisect.bisect_right(self.froms[slot], t) - 1
        return self.pdus[slot][i] if i >= 0 else None

    def current(self, slot: int) -> str | None:
        return self.pdus[slot][-1]

    def lower_bound(self) -> int:
        """Earliest validity time a new mapping change of this detector may have."""
        return max(self.last_from, self.last_begin) + 1

    def mapping_path(self) -> str:
        return f"registry/mappings/{self.name}.yaml"

    def add_change(self, t: int, reason: str, modules: dict[int, str | None]) -> None:
        assert t > self.last_from, (self.name, t, self.last_from)
        lines = [f'  - from: "{iso(t)}"\n    reason: {reason}\n    modules:\n']
        for slot in sorted(modules):
            pdu = modules[slot]
            lines.append(f"      {self.aggregators[slot]}: {pdu if pdu is not None else 'null'}\n")
            self.froms[slot].append(t)
            self.pdus[slot].append(pdu)
        self.changes.append("".join(lines))
        self.last_from = t

    def mapping_text(self) -> str:
        return f"detector: {self.name}\nchanges:\n" + "".join(self.changes)


@dataclass
class Spare:
    pdu: str
    available: int  # validity time from which it may be put into a slot


class Generator:
    """Holds the catalog state and writes the fast-import stream."""

    def __init__(self, stream: IO[bytes], ccvs: int, commits: int, seed: int) -> None:
        self.stream = stream
        self.rng = random.Random(seed)
        self.seed = seed
        self.ccvs = ccvs
        self.commits = commits
        self.n_commits = 0
        self.last_time = 0
        self.detectors: list[DetectorState] = []
        self.by_type: dict[str, list[DetectorState]] = {}
        self.spares: dict[str, list[Spare]] = {}
        self.broken: dict[str, list[str]] = {}
        self.pdu_count: dict[str, int] = {}
        self.type_batches: dict[str, int] = {}
        self.batch_paths: set[str] = set()
        self.report_id = 1000
        self.conditions_cache: dict[tuple[str, int], str] = {}
        self.counts = {"ccvs": 0, "batches": 0, "swaps": 0, "moves": 0, "backdated": 0, "admin": 0, "mapping_changes": 0}

    # -- the stream --------------------------------------------------------------------

    def commit(self, t: int, author: str, message: str, files: list[tuple[str, str]]) -> None:
        if t <= self.last_time:
            raise AssertionError(f"commit time {t} is not after {self.last_time}")
        self.last_time = t
        self.n_commits += 1
        msg = message.encode()
        parts = [
            f"commit refs/heads/main\nmark :{self.n_commits}\nauthor {author} {t} +0000\n"
            f"committer {COMMITTER}{t} +0000\ndata {len(msg)}\n".encode(),
            msg, b"\n",
        ]
        for path, text in files:
            data = text.encode()
            parts.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode())
            parts.append(data)
            parts.append(b"\n")
        parts.append(b"\n")
        self.stream.write(b"".join(parts))

    # -- commit 1: the registry -------------------------------------------------------------

    def new_pdu(self, spec: TypeSpec) -> tuple[str, str]:
        k = self.pdu_count[spec.name]
        self.pdu_count[spec.name] = k + 1
        return spec.pdu_name(k), self.pdu_text(spec, k, "active")

    def pdu_text(self, spec: TypeSpec, k: int, status: str) -> str:
        name = spec.pdu_name(k)
        return f"physical_name: {name}\ndetector_type: {spec.name}\nuuid: {spec.uuid_base + k}\nstatus: {status}\n"

    def registry_commit(self, t: int) -> None:
        files: list[tuple[str, str]] = [("README.md", README)]
        for name in CALIBRATIONS:
            files.append((f"registry/calibrations/{name}.yaml", f"identifier: {name}\n"))
        for ident, (unit, low, up, spellings) in PARAMETERS.items():
            files.append((f"registry/parameters/{ident}.yaml", (
                f"identifier: {ident}\nspellings: [{', '.join(spellings)}]\nunit: {json.dumps(unit)}\n"
                f"lower_deviation: {low}\nupper_deviation: {up}\n")))
        for ident, title in INSTRUMENTS.items():
            files.append((f"registry/instruments/{ident}.yaml", f"identifier: {ident}\nname: {title}\n"))
        for spec in TYPES:
            files.append((f"registry/detector_types/{spec.name}.yaml", (
                f"identifier: {spec.name}\naggregator_prefix: {spec.prefix}\n"
                f"calibrations: [{', '.join(CALIBRATIONS)}]\nparameters: [{', '.join(spec.parameters)}]\n"
                "description: synthetic benchmark catalog\n")))
            self.pdu_count[spec.name] = 0
            self.spares[spec.name] = []
            self.broken[spec.name] = []
            self.type_batches[spec.name] = 0
            self.by_type[spec.name] = []
            names = [(n, i, 3) for n, i in spec.named]
            names += [(spec.synthetic.format(n=n + 1), spec.instruments[n % len(spec.instruments)], 1)
                      for n in range(spec.n_synthetic)]
            for det_name, instrument, weight in names:
                det = self.make_detector(spec, det_name, instrument, weight, files)
                self.detectors.append(det)
                self.by_type[spec.name].append(det)
            for _ in range(SPARES_PER_TYPE):
                pdu, text = self.new_pdu(spec)
                files.append((f"registry/pdus/{spec.name}/{pdu}.yaml", text))
                self.spares[spec.name].append(Spare(pdu, START - 30 * DAY))
        self.commit(t, ADMIN, "Registry: detector types, parameters, detectors, PDUs and initial mappings\n", files)

    def make_detector(self, spec: TypeSpec, name: str, instrument: str, weight: int,
                      files: list[tuple[str, str]]) -> DetectorState:
        aggs = spec.aggregators()
        modules = "".join(
            f"  - {{aggregator: {agg}, virtual_device_name: {vdn}, module_number: {i + spec.first_module}}}\n"
            for i, (agg, vdn) in enumerate(zip(aggs, spec.virtual_names(), strict=True)))
        jungfrau = spec.prefix == "JNGFR"
        pattern = f"{name}/DET/JNGFR{{modno:02d}}:daqOutput" if jungfrau else f"{name}/DET/{{modno}}CH0:xtdf"
        control = name.replace("_DET_", "_EXP_").replace("-", "")
        files.append((f"registry/detectors/{name}.yaml", (
            f"identifier: {name}\ndetector_type: {spec.name}\ninstruments: [{instrument}]\n"
            f"karabo_id_control: {control}\nsource_name_pattern: {json.dumps(pattern)}\n"
            f'experts: ["{spec.experts_team}"]\n'
            f"description: {'synthetic detector for benchmarks' if name.startswith('SYN_') else 'synthetic history'}\n"
            f"modules:\n{modules}")))
        installed = START - self.rng.randint(30, 300) * DAY
        det = DetectorState(name=name, spec=spec, instrument=instrument, weight=weight, aggregators=aggs,
                            froms=[[] for _ in aggs], pdus=[[] for _ in aggs],
                            regime=self.rng.randrange(len(spec.regimes)))
        initial: dict[int, str | None] = {}
        for slot in range(len(aggs)):
            pdu, text = self.new_pdu(spec)
            files.append((f"registry/pdus/{spec.name}/{pdu}.yaml", text))
            initial[slot] = pdu
        det.add_change(installed, "initial installation", initial)
        files.append((det.mapping_path(), det.mapping_text()))
        return det

    # -- constants batches ------------------------------------------------------------------

    def conditions(self, det: DetectorState) -> str:
        key = (det.name, det.regime)
        text = self.conditions_cache.get(key)
        if text is None:
            regime = det.spec.regimes[det.regime]
            text = "".join(f"  {k}: {yaml_value(v)}\n" for k, v in regime.items())
            self.conditions_cache[key] = text
        return text

    def batch(self, det: DetectorState, t: int, budget: int) -> tuple[str, str, int, str] | None:
        """A batch file of ``det`` just before ``t`` with at most ``budget`` CCVs."""
        rng = self.rng
        spec = det.spec
        n = self.type_batches[spec.name]
        cals: tuple[str, ...]
        if n % 9 == 2:
            cals, slug = FLAT, "flatfield"
        elif n % 4 == 1:
            cals, slug = DARK_THRESHOLDS, "dark"
        else:
            cals, slug = DARK, "dark"
        begin = t - rng.randint(2 * HOUR, 30 * HOUR)
        path = ""
        while not path or path in self.batch_paths:  # one batch per detector and second
            begin -= 1 if path else 0
            path = f"constants_index/{det.name}/{time.gmtime(begin).tm_year}/{stamp(begin)}-{slug}.yaml"
        mapped = [(slot, pdu) for slot in range(len(det.aggregators)) if (pdu := det.pdu_at(slot, begin)) is not None]
        if not mapped:
            return None
        self.batch_paths.add(path)
        self.type_batches[spec.name] = n + 1
        if rng.random() < 0.02:
            det.regime = rng.randrange(len(spec.regimes))
        det.last_begin = max(det.last_begin, begin)
        injected = begin + rng.randint(min(30 * 60, t - begin - 60), min(6 * HOUR, t - begin - 60))
        start = rng.randrange(len(mapped))
        window = mapped[start:] + mapped[:start]
        take = min(budget, len(window) * len(cals))
        begin_iso = iso(begin)
        type_lower = spec.name.lower()
        out = [
            f"detector: {det.name}\n",
            f"report: {{id: {self.report_id}, path: xfel/reports/{det.instrument}/{det.name}/{slug}_{stamp(begin)}.pdf}}\n",
            f'injected_at: "{iso(injected)}"\nconditions:\n',
            self.conditions(det),
            "constants:\n",
        ]
        self.report_id += 1
        count = 0
        for _slot, pdu in window:
            file = f"xfel/cal/{type_lower}/{pdu.lower()}/cal.{begin}.h5"
            sha = hashlib.sha256(f"{self.seed}:{file}".encode()).hexdigest()
            head = f"    pdu: {pdu}\n    begin_at: \"{begin_iso}\"\n    file: {file}\n"
            tail = f"/0\n    sha256: {sha}\n"
            for cal in cals:
                out.append(f"  - calibration: {cal}\n{head}    dataset: /{pdu}/{cal}{tail}{flags(sha, cal, begin)}")
                count += 1
                if count == take:
                    break
            if count == take:
                break
        self.counts["batches"] += 1
        return path, "".join(out), count, slug

    def batch_commit(self, t: int, budget: int) -> None:
        files: list[tuple[str, str]] = []
        kinds: list[str] = []
        names: list[str] = []
        weights = [d.weight for d in self.detectors]
        tries = 0
        while budget > 0:
            det = self.rng.choices(self.detectors, weights)[0]
            made = self.batch(det, t, budget)
            tries += 1
            if made is None:
                if tries > 1000:
                    raise RuntimeError("no detector has a mapped module")
                continue
            path, text, count, slug = made
            files.append((path, text))
            kinds.append(slug)
            names.append(det.name)
            budget -= count
            self.counts["ccvs"] += count
        if len(files) == 1:
            message = f"Add {kinds[0]} constants of {names[0]} ({files[0][1].count('- calibration:')} CCVs)\n"
        else:
            message = f"Add constants of {len(files)} injections ({', '.join(sorted(set(names)))})\n"
        bot = BOTS[3] if kinds[0] == "flatfield" else BOTS[self.rng.randrange(3)]
        self.commit(t, bot, message, files)

    # -- mapping changes --------------------------------------------------------------------

    def expert(self, spec: TypeSpec) -> str:
        return spec.experts[self.rng.randrange(len(spec.experts))]

    def pick_spare(self, spec: TypeSpec, latest: int) -> Spare | None:
        ready = [s for s in self.spares[spec.name] if s.available <= latest]
        return ready[self.rng.randrange(len(ready))] if ready else None

    def swap_commit(self, t: int, backdated: bool) -> bool:
        """A spare replaces a module (or fills an empty slot); False if nothing fits."""
        rng = self.rng
        order = rng.sample(self.detectors, len(self.detectors))
        for det in order:
            spec = det.spec
            hi = t - DAY if backdated else t - 60
            lo = det.lower_bound()
            if backdated and hi - lo < DAY // 2:
                continue
            spare = self.pick_spare(spec, hi)
            if spare is None:
                continue
            lo = max(lo, spare.available)
            if lo > hi:
                continue
            # a backdated fix: 1 to 13 days before the commit; else hours before it
            ago = rng.randint(0, 12 * DAY) if backdated else rng.randint(600, 6 * HOUR) - (t - hi)
            valid_from = max(lo, hi - ago)
            empty = [s for s in range(len(det.aggregators)) if det.current(s) is None]
            slot = empty[rng.randrange(len(empty))] if empty else rng.randrange(len(det.aggregators))
            old = det.current(slot)
            vdn = spec.virtual_names()[slot]
            self.spares[spec.name].remove(spare)
            if old is None:
                reason = f"empty slot {vdn} filled with spare {spare.pdu}"
            else:
                cause = SWAP_CAUSES[rng.randrange(len(SWAP_CAUSES))]
                reason = f"{vdn} ({old}) replaced by {spare.pdu} after {cause}"
                if rng.random() < 0.5:
                    self.spares[spec.name].append(Spare(old, valid_from + rng.randint(30, 180) * DAY))
                else:
                    self.broken[spec.name].append(old)
            if backdated:
                reason += f"; swapped on {day(valid_from)}, recorded late"
            det.add_change(valid_from, reason, {slot: spare.pdu})
            title = "Backdated fix" if backdated else "Mapping"
            message = f"{title}: {det.name} {det.aggregators[slot]} is {spare.pdu} from {iso(valid_from)}\n\n{reason}\n"
            self.commit(t, self.expert(spec), message, [(det.mapping_path(), det.mapping_text())])
            self.counts["backdated" if backdated else "swaps"] += 1
            self.counts["mapping_changes"] += 1
            return True
        return False

    def move_commit(self, t: int) -> bool:
        """A PDU moves from one detector to another of the same type."""
        rng = self.rng
        for spec in rng.sample(TYPES, len(TYPES)):
            dets = self.by_type[spec.name]
            for src in rng.sample(dets, len(dets)):
                full = [s for s in range(len(src.aggregators)) if src.current(s) is not None]
                if not full:
                    continue
                dst = rng.choice([d for d in dets if d is not src])
                lo = max(src.lower_bound(), dst.lower_bound())
                hi = t - 60
                if lo > hi:
                    continue
                to_at = max(lo, t - rng.randint(600, 8 * HOUR))
                from_at = max(src.lower_bound(), to_at - rng.randint(0, 3 * HOUR))
                slot_a = full[rng.randrange(len(full))]
                slot_b = rng.randrange(len(dst.aggregators))
                pdu = src.current(slot_a)
                assert pdu is not None
                old = dst.current(slot_b)
                vdn_a, vdn_b = spec.virtual_names()[slot_a], spec.virtual_names()[slot_b]
                src.add_change(from_at, f"{vdn_a} ({pdu}) moved to {dst.name}", {slot_a: None})
                if old is None:
                    reason = f"{pdu} from {src.name} fills empty slot {vdn_b}"
                else:
                    reason = f"{pdu} from {src.name} replaces {old} in {vdn_b}"
                    self.spares[spec.name].append(Spare(old, to_at))
                dst.add_change(to_at, reason, {slot_b: pdu})
                message = f"Move {pdu} from {src.name} to {dst.name}\n\n{reason}\n"
                files = sorted([(src.mapping_path(), src.mapping_text()), (dst.mapping_path(), dst.mapping_text())])
                self.commit(t, self.expert(spec), message, files)
                self.counts["moves"] += 1
                self.counts["mapping_changes"] += 1
                return True
        return False

    def admin_commit(self, t: int) -> None:
        """New PDUs for the type with the fewest spares; broken ones of it retired."""
        spec = min(TYPES, key=lambda s: (len(self.spares[s.name]), s.name))
        files: list[tuple[str, str]] = []
        added = []
        for _ in range(NEW_PDUS_PER_ADMIN_COMMIT):
            pdu, text = self.new_pdu(spec)
            files.append((f"registry/pdus/{spec.name}/{pdu}.yaml", text))
            self.spares[spec.name].append(Spare(pdu, t))
            added.append(pdu)
        retired = self.broken[spec.name]
        for pdu in retired:
            k = next(k for k in range(self.pdu_count[spec.name]) if spec.pdu_name(k) == pdu)
            files.append((f"registry/pdus/{spec.name}/{pdu}.yaml", self.pdu_text(spec, k, "retired")))
        message = f"Add PDUs {', '.join(added)}"
        if retired:
            message += f"; retire {', '.join(retired)}"
        self.broken[spec.name] = []
        self.commit(t, ADMIN, message + "\n", sorted(files))
        self.counts["admin"] += 1

    # -- the whole history ----------------------------------------------------------------------

    def run(self) -> None:
        rng = self.rng
        self.registry_commit(START)
        kinds: list[str] = []
        for _ in range(self.commits - 1):
            x = rng.random()
            if x < MAPPING_SHARE * 0.45:
                kinds.append("swap")
            elif x < MAPPING_SHARE * 0.75:
                kinds.append("move")
            elif x < MAPPING_SHARE:
                kinds.append("backdated")
            else:
                kinds.append("batch")
        if self.ccvs and "batch" not in kinds:
            kinds[-1] = "batch"
        remaining_batches = kinds.count("batch")
        if self.ccvs < remaining_batches:
            raise ValueError(f"{self.ccvs} CCVs cannot fill {remaining_batches} batch commits: ask for more CCVs")
        if remaining_batches == 0 and self.ccvs:
            raise ValueError("need at least 2 commits to hold CCVs")
        remaining = self.ccvs
        span = END - START
        steps = len(kinds)
        t_prev = START
        for i, kind in enumerate(kinds, start=1):
            base = START + span * i // steps
            gap = span // steps
            jitter = rng.randint(-(gap * 2) // 5, 0 if i == steps else (gap * 2) // 5)
            t = max(t_prev + 1, base + jitter)
            t_prev = t
            if kind == "batch":
                if remaining_batches == 1:
                    budget = remaining
                else:
                    mean = remaining / remaining_batches
                    budget = int(mean * rng.uniform(0.4, 1.6))
                    budget = max(1, min(budget, remaining - (remaining_batches - 1)))
                remaining_batches -= 1
                remaining -= budget
                self.batch_commit(t, budget)
            elif kind == "move":
                if not self.move_commit(t) and not self.swap_commit(t, False):
                    self.admin_commit(t)
            else:
                done = self.swap_commit(t, kind == "backdated")
                if not done and kind == "backdated":
                    done = self.swap_commit(t, False)
                if not done:
                    self.admin_commit(t)


README = """# Synthetic calcat-git catalog

Generated by `tests/benchmarks/generate.py` for benchmarks and tests. Detectors, PDUs,
conditions and constants are made up; the history (2018-2026) is synthetic.
"""


def generate(out: Path, ccvs: int, commits: int, seed: int = 0, *, checkout: bool = False) -> dict[str, Any]:
    """Create the catalog repository at ``out`` (must not exist or be empty); return counts.

    ``commits`` counts every commit (the registry commit included); ``ccvs`` is the
    exact number of CCVs over all batch files.
    """
    if commits < 1:
        raise ValueError("commits must be at least 1")
    started = time.perf_counter()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    init = ["git", "init", "--quiet", "--initial-branch=main"]
    subprocess.run([*init, str(out)] if checkout else [*init, "--bare", str(out)], check=True)
    proc = subprocess.Popen(
        ["git", "-C", str(out), "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE, bufsize=1 << 20,
    )
    assert proc.stdin is not None
    gen = Generator(proc.stdin, ccvs, commits, seed)
    try:
        gen.run()
        proc.stdin.write(b"done\n")
        proc.stdin.close()
    except BaseException:
        proc.kill()  # the repository is half made: leave nothing behind
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.wait()
        shutil.rmtree(out, ignore_errors=True)
        raise
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed with exit code {proc.returncode}")
    if checkout:
        subprocess.run(["git", "-C", str(out), "reset", "--quiet", "--hard", "main"], check=True)
    pdus = sum(gen.pdu_count.values())
    return {
        "commits": gen.n_commits,
        "ccvs": gen.counts["ccvs"],
        "detectors": len(gen.detectors),
        "pdus": pdus,
        "batches": gen.counts["batches"],
        "mapping_changes": gen.counts["mapping_changes"],
        "swaps": gen.counts["swaps"],
        "moves": gen.counts["moves"],
        "backdated": gen.counts["backdated"],
        "admin_commits": gen.counts["admin"],
        "seconds": round(time.perf_counter() - started, 2),
        "out": str(out),
        "bare": not checkout,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ccvs", type=int, required=True, help="number of CCVs over all batch files")
    parser.add_argument("--commits", type=int, required=True, help="number of commits, the registry commit included")
    parser.add_argument("--out", type=Path, required=True, help="new directory for the repository")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkout", action="store_true", help="non-bare repository with HEAD checked out")
    parser.add_argument("--force", action="store_true", help="delete --out first if it exists")
    args = parser.parse_args(argv)
    if args.force and args.out.exists():
        shutil.rmtree(args.out)
    try:
        summary = generate(args.out, args.ccvs, args.commits, args.seed, checkout=args.checkout)
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
