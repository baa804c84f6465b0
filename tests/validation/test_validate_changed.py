"""`validate --changed-since REV` (the pre-commit hook): every registry file, and of the
constants files only those that differ from REV. Real repos, the real CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ..helpers import commit_all, edit, fast_sample, run_cli

BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"
MID = "registry/mappings/MID_DET_AGIPD1M-1.yaml"


def validate(root: Path, *args: str) -> list[str]:
    done = run_cli("validate", str(root), *args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.splitlines()


def test_changed_since_reads_what_changed_and_finds_the_same_problems(git_mini: Path) -> None:
    old_bad = git_mini / "constants_index/MID_DET_AGIPD1M-1/2024/20240502T000000Z-old.yaml"
    old_bad.write_text((git_mini / BATCH).read_text().replace("calibration: Offset", "calibration: Ofset"))
    commit_all(git_mini, "a bad batch that is already committed", "2024-05-03T00:00:00Z")
    edit(git_mini, BATCH, "dataset: /AGIPD_M3/Offset/0", "dataset: AGIPD_M3/Offset/0")  # changed, not staged
    new_bad = git_mini / "constants_index/MID_DET_AGIPD1M-1/2024/20240601T000000Z-new.yaml"
    new_bad.write_text((git_mini / BATCH).read_text().replace("pdu: AGIPD_M3", "pdu: AGIPD_M33", 1))  # untracked
    edit(git_mini, MID, "      AGIPD01: AGIPD_M3\n", "      AGIPD01: AGIPD_M5\n")  # M5 sits in SPB then too
    subprocess.run(["git", "-C", str(git_mini), "add", MID], check=True)  # staged
    full, fast = validate(git_mini), validate(git_mini, "--changed-since", "HEAD")
    old = old_bad.relative_to(git_mini).as_posix()
    assert [line for line in full if not line.startswith(old)] == fast
    assert any(line.startswith(old) for line in full)  # the committed one is for `check`/CI to see
    assert any(line.startswith(BATCH) and "[store-paths]" in line for line in fast)
    assert any("AGIPD_M33" in line for line in fast)
    assert any("[one-slot]" in line for line in fast)


def test_changed_since_names_a_case_collision_with_an_unread_file(git_mini: Path) -> None:
    twin = git_mini / BATCH.replace("dark", "DARK")
    twin.write_text((git_mini / BATCH).read_text())
    fast = validate(git_mini, "--changed-since", "HEAD")
    assert any("[case-collision]" in line for line in fast), fast


def test_changed_since_needs_a_commit(git_mini: Path) -> None:
    done = run_cli("validate", str(git_mini), "--changed-since", "nope")
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr


def validate_summary(root: Path) -> tuple[list[str], str]:
    """The problem lines and the summary line (stderr when there are problems)."""
    done = run_cli("validate", str(root))
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    return (lines, done.stderr.strip()) if done.stderr.strip() else (lines[:-1], lines[-1])


@pytest.mark.slow
def test_full_validate_takes_unchanged_files_from_its_cache_and_still_finds_everything(git_mini: Path) -> None:
    for n, change in enumerate([("calibration: Offset", "calibration: Ofset"), ("pdu: AGIPD_M3", "pdu: AGIPD_M33")]):
        bad = git_mini / f"constants_index/MID_DET_AGIPD1M-1/2024/2024050{n + 2}T000000Z-bad.yaml"
        bad.write_text((git_mini / BATCH).read_text().replace(*change))
    commit_all(git_mini, "two bad batches", "2024-05-03T00:00:00Z")
    (cold, cold_sum), (warm, warm_sum) = validate_summary(git_mini), validate_summary(git_mini)
    assert cold == warm and len(cold) >= 2  # the same problems, in the same order
    assert "not read again" not in cold_sum and "3 unchanged constants file(s) checked before" in warm_sum
    assert cold_sum.split(";")[0] == warm_sum.split(";")[0]  # the same counts
    edit(git_mini, BATCH, "dataset: /AGIPD_M3/Offset/0", "dataset: AGIPD_M3/Offset/0")  # not committed
    changed, changed_sum = validate_summary(git_mini)
    assert any(line.startswith(BATCH) and "[store-paths]" in line for line in changed)
    assert "2 unchanged constants file(s)" in changed_sum
    (git_mini / "registry/calibrations/Noise.yaml").unlink()  # the registry changed: nothing cached holds
    after, after_sum = validate_summary(git_mini)
    assert any("unknown calibration 'Noise'" in line for line in after), after
    assert "not read again" not in after_sum


def test_a_symbolic_link_among_constants_is_reported_once(git_mini: Path) -> None:
    link = git_mini / "constants_index/MID_DET_AGIPD1M-1/2024/20240601T000000Z-link.yaml"
    link.symlink_to("/etc/passwd")
    commit_all(git_mini, "a link", "2024-06-02T00:00:00Z")
    for _ in range(2):  # cold, then with the cache
        lines, _summary = validate_summary(git_mini)
        assert [line for line in lines if "symbolic link" in line] == [
            f"{link.relative_to(git_mini).as_posix()}:1: symbolic link: catalog files must be regular files inside "
            "the repository [layout]"]


def test_worker_processes_find_what_one_process_finds(git_mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cold, the constants files are checked two at a time on forked workers: the problems, their
    order and the counts are those of the whole catalog loaded and checked in one process."""
    from calcat_git import Catalog
    from calcat_git.validation import batches
    from calcat_git.validation.incremental import validate_worktree

    folder = git_mini / "constants_index/MID_DET_AGIPD1M-1/2024"
    text = (git_mini / BATCH).read_text()
    for n, change in enumerate([("calibration: Offset", "calibration: Ofset"), ("pdu: AGIPD_M3", "pdu: AGIPD_M33"),
                                ("dataset: /AGIPD_M3", "dataset: AGIPD_M3"), ("report:", "report: {}\nx:"),
                                ("calibration: Offset", "calibration: Offset\n\tpdu: x"), ("", "")]):
        (folder / f"2024050{n + 2}T000000Z-b{n}.yaml").write_text(text.replace(*change))
    (folder / "README.md").write_text("not a batch\n")
    (folder.parent / "2023").mkdir()
    (folder.parent / "2023/20240509T000000Z-year.yaml").write_text(text)
    monkeypatch.setattr(batches, "PARALLEL_FROM", 0)
    monkeypatch.setattr(batches, "CHUNK", 2)
    one = Catalog.open(git_mini, worktree=True)
    expected = [str(p) for p in one.validate()]
    done = validate_worktree(git_mini)
    assert [str(p) for p in done.problems] == expected and len(expected) >= 6
    assert done.batches == len(one.registry.batches) == 6 and done.cached_batches == 0
    assert done.ccvs == sum(len(b.constants) for b in one.registry.batches.values())
    assert not done.registry.batches  # no batch record kept


@pytest.mark.parametrize("rev", fast_sample(["--output={victim}", "--cached", "--diff-filter=X", "HEAD~5", "main..HEAD"], keep=2))
def test_changed_since_takes_a_commit_and_nothing_else(git_mini: Path, tmp_path: Path, rev: str) -> None:
    """REV went to `git diff` as it was: `--output=F` cut a file outside the repository to 0 bytes;
    `--cached` and `--diff-filter=X` made a broken batch pass. Now REV is resolved to a commit first."""
    victim = tmp_path / "victim.txt"
    victim.write_text("a file outside the catalog")
    edit(git_mini, BATCH, "calibration: Offset", "calibration: Ofset")  # broken, not staged
    rev = rev.format(victim=victim)
    done = run_cli("validate", str(git_mini), "--changed-since", rev)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [f"error: no commit {rev!r} in {git_mini}"]
    assert victim.read_text() == "a file outside the catalog"
