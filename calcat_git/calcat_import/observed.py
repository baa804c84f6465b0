"""Mapping changes from CALCAT observations, without inventing times.

CALCAT answers "which PDU sat in which slot at time T" (a snapshot lists every slot; a
CCV tells one slot at its begin_at). A change between two observations of a slot is
only known to lie in ``(last seen, first seen different]``: it is recorded at the later
observation with ``observed_between: [last seen, first seen different]``. A slot seen
for the first time starts at that observation; nothing before it is claimed. A PDU seen
in a new slot leaves its old slot (a PDU sits in one slot at a time).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from calcat_git.calcat_import.facts import Observation
from calcat_git.model.mapping import Mapping, MappingChange
from calcat_git.timeutil import format_timestamp

Slot = tuple[int, str]  # (detector id, aggregator)


@dataclass
class _Pending:
    modules: dict[str, str | None] = field(default_factory=dict)
    since: datetime | None = None        # earliest 'last seen' among the changed slots
    first_seen: list[str] = field(default_factory=list)
    no_pdu: list[str] = field(default_factory=list)   # recordings of CALCAT's "no PDU" that ended slots


@dataclass
class _Fold:
    state: dict[Slot, str | None] = field(default_factory=dict)
    home: dict[str, Slot] = field(default_factory=dict)           # pdu -> slot
    seen: dict[Slot, datetime] = field(default_factory=dict)      # last observation of a slot
    changes: dict[int, dict[datetime, _Pending]] = field(default_factory=lambda: defaultdict(dict))

    def set(self, slot: Slot, pdu: str | None, at: datetime) -> None:
        if slot in self.state and self.state[slot] == pdu:
            self.seen[slot] = at
            return
        pending = self.changes[slot[0]].setdefault(at, _Pending())
        pending.modules[slot[1]] = pdu
        if slot in self.seen:
            last = self.seen[slot]
            pending.since = last if pending.since is None else min(pending.since, last)
        else:
            pending.first_seen.append(slot[1])
        old = self.state.get(slot)
        if old is not None and self.home.get(old) == slot:
            del self.home[old]
        self.state[slot] = pdu
        self.seen[slot] = at
        if pdu is not None:
            moved_from = self.home.get(pdu)
            self.home[pdu] = slot
            if moved_from is not None and moved_from != slot:
                self.set(moved_from, None, at)

    def observe(self, obs: Observation) -> None:
        listed = {aggregator for aggregator, _, _ in obs.slots}
        for aggregator, _, name in obs.slots:
            if aggregator:
                self.set((obs.detector_id, aggregator), name, obs.at)
        if obs.full:
            for slot, pdu in list(self.state.items()):
                if slot[0] == obs.detector_id and pdu is not None and slot[1] not in listed:
                    self.set(slot, None, obs.at)
        pending = self.changes.get(obs.detector_id, {}).get(obs.at)
        if obs.no_pdu and pending is not None and obs.recording not in pending.no_pdu:
            pending.no_pdu.append(obs.recording or obs.origin)


def _change(at: datetime, pending: _Pending) -> MappingChange:
    if pending.since is None:
        reason = f"first observed in CALCAT at {format_timestamp(at)}"
    else:
        reason = (f"seen in CALCAT at {format_timestamp(at)}, different from what was known at "
                  f"{format_timestamp(pending.since)}: the change happened in between")
    if pending.first_seen and pending.since is not None:
        reason += f"; {', '.join(pending.first_seen)} first observed then"
    if pending.no_pdu:
        reason = (f"CALCAT answered 'no PDU' for this detector at {format_timestamp(at)} "
                  f"({'; '.join(pending.no_pdu)}): the slots seen at {format_timestamp(pending.since or at)} "
                  "end by then")
    return MappingChange(valid_from=at, reason=reason, modules=tuple(sorted(pending.modules.items())),
                         observed_between=None if pending.since is None else (pending.since, at))


def fold_observations(observations: Iterable[Observation], names: dict[int, str]) -> dict[str, Mapping]:
    """One mapping per detector (by identifier) from time-ordered observations."""
    fold = _Fold()
    for obs in sorted(observations, key=lambda o: (o.at, not o.full)):
        if obs.detector_id in names:
            fold.observe(obs)
    mappings = {}
    for det_id, by_time in fold.changes.items():
        changes = tuple(_change(at, pending) for at, pending in sorted(by_time.items()))
        mappings[names[det_id]] = Mapping(
            detector=names[det_id], changes=changes,
            description="imported from CALCAT observations (snapshots and CCV begin_at); "
                        "times are when CALCAT showed each state, never guessed")
    return mappings


def disagreements(mapping: Mapping, observations: Iterable[Observation], detector_id: int) -> list[str]:
    """Observations of one detector that an existing mapping does not reproduce."""
    out = []
    for obs in observations:
        if obs.detector_id != detector_id:
            continue
        state = mapping.state_at(obs.at)
        seen = {aggregator: pdu for aggregator, _, pdu in obs.slots if aggregator}
        expected: dict[str, str | None] = dict(seen)
        if obs.full:
            expected.update({a: None for a, p in state.items() if p is not None and a not in seen})
        wrong = {a: (p, state.get(a)) for a, p in expected.items() if state.get(a) != p}
        if wrong:
            detail = ", ".join(f"{a}: CALCAT {p} / catalog {c}" for a, (p, c) in sorted(wrong.items()))
            out.append(f"{mapping.detector} at {format_timestamp(obs.at)} ({obs.origin}): {detail}")
    return out


def extend_mapping(mapping: Mapping, observations: Iterable[Observation], detector_id: int) -> tuple[Mapping, list[str]]:
    """An existing mapping with changes for observations after its last change; earlier
    observations are only compared (disagreements are returned, never applied)."""
    mine = [o for o in observations if o.detector_id == detector_id]
    last = mapping.changes[-1].valid_from
    conflicts = disagreements(mapping, [o for o in mine if o.at <= last], detector_id)
    fold = _Fold()
    for aggregator, pdu in mapping.state_at(last).items():
        fold.state[(detector_id, aggregator)] = pdu
        fold.seen[(detector_id, aggregator)] = last
        if pdu is not None:
            fold.home[pdu] = (detector_id, aggregator)
    for obs in sorted((o for o in mine if o.at > last), key=lambda o: (o.at, not o.full)):
        fold.observe(obs)
    added = tuple(_change(at, pending) for at, pending in sorted(fold.changes[detector_id].items()))
    if not added:
        return mapping, conflicts
    return Mapping(detector=mapping.detector, changes=mapping.changes + added, description=mapping.description,
                   source=mapping.source), conflicts
