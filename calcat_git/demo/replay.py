"""``make demo``: replay the embedded catalog into a repository with historical committer
times (``.demo/catalog`` by default), then show a snapshot query and a validity query
disagreeing on a late, backdated module swap — the pain point of classic CALCAT, solved.

The replay is kept and reused while the source registry is unchanged (a fingerprint of
its files is kept beside it), so the guide's time-travel examples can point at it.

Run as ``python -m calcat_git.demo [--source DIR] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from calcat_git.catalog.catalog import Catalog
from calcat_git.files.loading import load_worktree
from calcat_git.git.repo import GitRepo
from calcat_git.model.mapping import Mapping
from calcat_git.timeutil import format_span, format_timestamp, parse_timestamp

LATE_DETECTOR = "HED_DET_AGIPD500K2G"
LATE_FROM = "2025-02-04T23:00:00Z"
LATE_BY = timedelta(days=10)
DEFAULT_OUT = Path(".demo") / "catalog"
FINGERPRINT = "replayed-from"  # file beside the replay's .git: the source registry's fingerprint
RECORDED_AFTER = timedelta(hours=2)  # an ordinary change is committed this long after it takes effect


def _commit(repo: GitRepo, message: str, when: datetime) -> None:
    repo.commit_all(message, when, "calcat-git demo", "demo@example.org")


def _write_mapping(repo: Path, mapping: Mapping, upto: list[int]) -> None:
    partial = Mapping(detector=mapping.detector, description=mapping.description, source=mapping.source,
                      changes=tuple(mapping.changes[i] for i in sorted(upto)))
    path = repo / "registry" / "mappings" / f"{mapping.detector}.yaml"
    path.write_text(yaml.safe_dump(partial.to_dict(), sort_keys=False, allow_unicode=True, width=120), "utf-8")


def fingerprint(source: Path) -> str:
    """sha256 over the source registry's file names and contents (and this module's rules)."""
    digest = hashlib.sha256(f"{LATE_DETECTOR} {LATE_FROM} {LATE_BY} {RECORDED_AFTER}".encode())
    for path in sorted((source / "registry").rglob("*.yaml")):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_replay(source: Path, out: Path) -> tuple[datetime, bool]:
    """The replay at ``out``: reused when built from the same registry, else (re)built.

    Returns the committer time of the late swap and whether the replay was reused."""
    wanted = fingerprint(source)
    marker = out / ".git" / FINGERPRINT
    if marker.is_file() and marker.read_text("utf-8").strip() == wanted:
        return parse_timestamp(LATE_FROM) + LATE_BY, True
    if out.exists():
        if not (out / ".git" / FINGERPRINT).is_file():
            raise SystemExit(f"{out} exists and is not a demo replay: remove it or give another --out")
        shutil.rmtree(out)
    recorded_at = replay(source, out)
    marker.write_text(wanted + "\n", "utf-8")
    return recorded_at, False


def replay(source: Path, out: Path) -> datetime:
    """Commit ``source``'s registry into a new repo at ``out``, change by change.

    Returns the committer time of the late, backdated swap."""
    reg = load_worktree(source)
    events: list[tuple[datetime, str, int]] = []  # (commit time, detector, change index)
    for name, mapping in reg.mappings.items():
        for i, change in enumerate(mapping.changes):
            late = name == LATE_DETECTOR and change.valid_from == parse_timestamp(LATE_FROM)
            events.append((change.valid_from + (LATE_BY if late else RECORDED_AFTER), name, i))
    events.sort()
    repo = GitRepo.init(out)
    shutil.copytree(source / "registry", out / "registry", ignore=shutil.ignore_patterns("mappings"))
    (out / "registry" / "mappings").mkdir()
    _commit(repo, "registry: types, instruments, detectors, PDUs", events[0][0] - timedelta(days=1))
    done: dict[str, list[int]] = {name: [] for name in reg.mappings}
    for when, name, index in events:
        done[name].append(index)
        _write_mapping(out, reg.mappings[name], done[name])
        change = reg.mappings[name].changes[index]
        _commit(repo, f"{name}: {change.reason[:60]}", when)
    return parse_timestamp(LATE_FROM) + LATE_BY


def show(repo: Path, recorded_at: datetime) -> None:
    catalog = Catalog.open(repo)
    event = parse_timestamp(LATE_FROM) + timedelta(days=3)  # RAW data taken after the swap, before it was recorded
    classic = catalog.at(event)
    old = classic.mapping(LATE_DETECTOR, at=event)
    new = catalog.mapping(LATE_DETECTOR, at=event)
    assert catalog.commit is not None and catalog.committed_at is not None
    print(f"\nReplayed the embedded catalog into {repo} (newest commit {catalog.commit[:12]}, "
          f"{format_timestamp(catalog.committed_at)}).")
    print(f"The module swap valid from {LATE_FROM} was committed late, at {format_timestamp(recorded_at)}.")
    print(f"\nRAW data of {LATE_DETECTOR} taken at {format_timestamp(event)}:")
    print(f"  {'slot':8} {'classic CALCAT (snapshot = data time)':40} {'calcat-git default (newest catalog)'}")
    for slot in new:
        mark = "   <- late fix applies" if old[slot] != new[slot] else ""
        print(f"  {slot:8} {old[slot] or '(empty)':40} {new[slot] or '(empty)'}{mark}")
    print(f"\n  classic answer read from commit {(classic.commit or '')[:12]}, best answer from "
          f"{catalog.commit[:12]}; both replayable with `calcat-git mapping --snapshot-at`.")
    for entry in catalog.history(LATE_DETECTOR):
        if entry.backdated:
            print(f"  history marks it: from {format_timestamp(entry.valid_from)} committed "
                  f"{format_timestamp(entry.committed_at)} (BACKDATED by {format_span(entry.backdated_by)})")
    stamp = format_timestamp(event)
    print(f"\nTry it (calcat_git/site/guide/time-travel.md): source .venv/bin/activate, then\n"
          f"  calcat-git mapping {LATE_DETECTOR} --repo {repo} --event-at {stamp}\n"
          f"  calcat-git mapping {LATE_DETECTOR} --repo {repo} --event-at {stamp} --snapshot-at {stamp}\n"
          f"  calcat-git history {LATE_DETECTOR} --repo {repo}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=Path("."), help="catalog whose registry/ is replayed")
    parser.add_argument("--out", type=Path, default=None,
                        help="replay repository, kept and reused (default: SOURCE/.demo/catalog)")
    args = parser.parse_args(argv)
    out = args.out or args.source / DEFAULT_OUT
    recorded_at, reused = ensure_replay(args.source, out)
    if reused:
        print(f"Reusing the replay in {out} (the registry is unchanged since it was made).")
    show(out, recorded_at)


if __name__ == "__main__":
    main()
