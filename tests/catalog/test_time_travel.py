"""Snapshots (transaction time) against validity time, in real git repositories."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from calcat_git import Catalog, RepositoryError
from calcat_git.errors import BrokenCatalogError, InvalidInputError, NotFoundError
from calcat_git.model.batch import ConstantBatch

from ..helpers import MID, commit_all, git, run_cli


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_snapshot_resolution(mini: Path, repo: dict[str, str]) -> None:
    catalog = Catalog.open(mini)
    assert catalog.commit == repo["late"] and catalog.committed_at == t("2024-03-01T00:00:00Z")
    assert catalog.at("2023-05-10T07:00:00Z").commit == repo["swap"]  # committer time == T is included
    assert catalog.at("2023-05-10T06:59:59Z").commit == repo["initial"]
    assert catalog.at(t("2030-01-01T00:00:00Z")).commit == repo["late"]
    assert catalog.at(repo["swap"][:10]).commit == repo["swap"]  # a sha pins a commit
    with pytest.raises(RepositoryError, match="first commit is at 2019-03-02T00:00:00Z"):
        catalog.at("2019-03-01T00:00:00Z")


def test_late_backdated_fix_snapshot_vs_default(mini: Path, repo: dict[str, str]) -> None:
    catalog = Catalog.open(mini)
    event = t("2024-02-15T00:00:00Z")  # RAW data taken after the move, before it was recorded
    as_then = catalog.at(event)
    assert as_then.mapping("SPB_DET_AGIPD1M-1", at=event)["AGIPD00"] == "AGIPD_M4"  # classic CALCAT answer
    assert catalog.mapping("SPB_DET_AGIPD1M-1", at=event)["AGIPD00"] == "AGIPD_M1"  # best current knowledge
    assert catalog.mapping("MID_DET_AGIPD1M-1", at=event) == {"AGIPD00": None, "AGIPD01": "AGIPD_M3"}
    assert as_then.mapping("MID_DET_AGIPD1M-1", at=event) == {"AGIPD00": "AGIPD_M1", "AGIPD01": "AGIPD_M3"}


def test_naive_times_are_refused(mini: Path, repo: dict[str, str]) -> None:
    from calcat_git import InvalidInputError

    catalog = Catalog.open(mini)
    with pytest.raises(InvalidInputError, match="naive"):
        catalog.mapping("MID_DET_AGIPD1M-1", at=datetime(2024, 1, 1))
    with pytest.raises(InvalidInputError, match="naive"):
        catalog.at(datetime(2024, 1, 1))


def test_history_of_detector_and_pdu(mini: Path, repo: dict[str, str]) -> None:
    catalog = Catalog.open(mini)
    spb = catalog.history("SPB_DET_AGIPD1M-1")
    assert [(e.valid_from, e.commit, e.backdated) for e in spb] == [
        (t("2019-01-01T00:00:00Z"), repo["initial"], False),  # the first record of a detector is not late
        (t("2024-02-01T00:00:00Z"), repo["late"], True),
    ]
    assert spb[1].author == "Cy Expert" and spb[1].message == "record the M1 move to SPB, late"
    assert spb[1].backdated_by == timedelta(days=29)
    m1 = catalog.history("AGIPD_M1")
    assert [(e.detector, e.valid_from) for e in m1] == [
        ("MID_DET_AGIPD1M-1", t("2019-03-01T00:00:00Z")),
        ("MID_DET_AGIPD1M-1", t("2024-01-01T00:00:00Z")),  # its slot emptied
        ("SPB_DET_AGIPD1M-1", t("2024-02-01T00:00:00Z")),
    ]
    swap = catalog.history("AGIPD_M3")
    assert len(swap) == 1 and swap[0].commit == repo["swap"] and not swap[0].backdated
    assert catalog.at(repo["swap"]).history("SPB_DET_AGIPD1M-1")[-1].commit == repo["initial"]


def test_first_parent_merge(mini: Path, repo: dict[str, str]) -> None:
    git(mini, "checkout", "-q", "-b", "feature", repo["late"])
    (mini / "registry/calibrations/SlopesPC.yaml").write_text("identifier: SlopesPC\n")
    feature = commit_all(mini, "add SlopesPC", "2024-04-01T00:00:00Z")
    git(mini, "checkout", "-q", "main")
    (mini / "registry/calibrations/BadPixelsFF.yaml").write_text("identifier: BadPixelsFF\n")
    main_side = commit_all(mini, "add BadPixelsFF", "2024-04-05T00:00:00Z")
    git(mini, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature", date="2024-04-10T00:00:00Z")
    merge = git(mini, "rev-parse", "HEAD")
    catalog = Catalog.open(mini)
    # the feature commit is older than main's, but only reaches main with the merge
    before_merge = catalog.at("2024-04-09T00:00:00Z")
    assert before_merge.commit == main_side and "SlopesPC" not in before_merge.registry.calibrations
    after = catalog.at("2024-04-10T00:00:00Z")
    assert after.commit == merge and "SlopesPC" in after.registry.calibrations
    assert catalog.at("2024-04-02T00:00:00Z").commit == repo["late"]
    assert catalog.snapshot("2024-04-01T00:00:00Z").sha == repo["late"]  # the feature commit is never a snapshot
    pinned = catalog.at(feature)  # but a sha off the first-parent line can still be pinned
    assert pinned.commit == feature and "SlopesPC" in pinned.registry.calibrations
    assert pinned.mapping("SPB_DET_AGIPD1M-1", at="2024-03-01T00:00:00Z")["AGIPD00"] == "AGIPD_M1"


@pytest.mark.slow
def test_verify_history(mini: Path, repo: dict[str, str]) -> None:
    ok = run_cli("verify-history", "--repo", str(mini))
    assert ok.returncode == 0, ok.stderr
    (mini / "registry/calibrations/SlopesPC.yaml").write_text("identifier: SlopesPC\n")
    commit_all(mini, "clock went back", "2024-02-01T00:00:00Z")
    back = run_cli("verify-history", "--repo", str(mini))
    assert back.returncode == 1 and "committer time goes back" in back.stderr
    git(mini, "reset", "-q", "--hard", repo["swap"])  # rewrite: drop 'late'
    rewritten = run_cli("verify-history", "--repo", str(mini))
    assert rewritten.returncode == 1
    assert f"the last seen head {repo['late'][:12]} of main is not an ancestor" in rewritten.stderr
    assert run_cli("verify-history", "--repo", str(mini), "--since", repo["swap"]).returncode == 1  # still rewritten


def test_verify_history_names_a_commit_from_the_future(mini: Path, repo: dict[str, str]) -> None:
    (mini / "registry/calibrations/SlopesPC.yaml").write_text("identifier: SlopesPC\n")
    future = commit_all(mini, "clock in 2099", "2099-01-01T00:00:00Z")
    (mini / "registry/calibrations/SlopesCS.yaml").write_text("identifier: SlopesCS\n")
    honest = commit_all(mini, "honest", (datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    run = run_cli("verify-history", "--repo", str(mini))
    assert (run.returncode, run.stdout, run.stderr.splitlines()) == (1, "", [
        f"error: committer time in the future: {future[:12]} (2099-01-01T00:00:00Z) is later than now plus 10 "
        "minutes; snapshots taken before then would not see it: fix the committer's clock and recommit"])
    assert honest[:12] not in run.stderr  # the next honest commit is not blamed
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()  # within the grace: a skewed clock
    git(mini, "reset", "-q", "--hard", repo["late"])
    (mini / "registry/calibrations/SlopesPC.yaml").write_text("identifier: SlopesPC\n")
    commit_all(mini, "clock a little ahead", soon)
    assert run_cli("verify-history", "--repo", str(mini)).returncode == 0


@pytest.mark.slow
def test_cli_snapshot_mapping_history(mini: Path, repo: dict[str, str]) -> None:
    import json

    snap = json.loads(run_cli("snapshot", "2024-02-15T00:00:00Z", "--repo", str(mini), "--json").stdout)
    assert snap == {"at": "2024-02-15T00:00:00Z", "commit": repo["swap"], "committed_at": "2023-05-10T07:00:00Z"}
    args = ["mapping", "SPB_DET_AGIPD1M-1", "--event-at", "2024-02-15T00:00:00Z", "--repo", str(mini), "--json"]
    now = json.loads(run_cli(*args).stdout)
    then = json.loads(run_cli(*args, "--snapshot-at", "2024-02-15T00:00:00Z").stdout)
    assert (now["modules"]["AGIPD00"], now["commit"]) == ("AGIPD_M1", repo["late"])
    assert (then["modules"]["AGIPD00"], then["commit"]) == ("AGIPD_M4", repo["swap"])
    hist = run_cli("history", "SPB_DET_AGIPD1M-1", "--repo", str(mini))
    assert "BACKDATED by 29 days" in hist.stdout and repo["late"][:12] in hist.stdout
    missing = run_cli("history", "AGIPD_M9", "--repo", str(mini))
    assert missing.returncode == 1 and "'AGIPD_M9' is neither a detector nor a PDU (did you mean" in missing.stderr
    early = run_cli("snapshot", "2010-01-01T00:00:00Z", "--repo", str(mini))
    assert early.returncode == 1 and early.stderr.startswith("error: no snapshot at 2010-01-01T00:00:00Z")


@pytest.mark.slow
def test_demo_replay_shows_the_late_swap(tmp_path: Path) -> None:
    from ..helpers import REPO_ROOT

    out = subprocess.run([sys.executable, "-m", "calcat_git.demo.replay", "--source", str(REPO_ROOT), "--out",
                          str(tmp_path / "replay")], capture_output=True, text=True, check=True).stdout
    assert out.count("<- late fix applies") == 2
    assert "BACKDATED by 10 days" in out
    replayed = Catalog.open(tmp_path / "replay")
    assert replayed.validate() == []  # every replayed state is a valid catalog


def test_rebased_commit_counts_from_its_committer_time(mini: Path, repo: dict[str, str]) -> None:
    """A rebase or squash keeps the old author date; only the committer time counts."""
    import os

    (mini / "registry/calibrations/SlopesPC.yaml").write_text("identifier: SlopesPC\n")
    git(mini, "add", "-A")
    env = {**os.environ, "GIT_AUTHOR_NAME": "R", "GIT_AUTHOR_EMAIL": "r@example.org", "GIT_COMMITTER_NAME": "R",
           "GIT_COMMITTER_EMAIL": "r@example.org", "GIT_AUTHOR_DATE": "2024-03-02T00:00:00Z",
           "GIT_COMMITTER_DATE": "2024-05-01T00:00:00Z"}
    subprocess.run(["git", "-C", str(mini), "commit", "-q", "-m", "rebased"], env=env, check=True)
    catalog = Catalog.open(mini)
    assert catalog.at("2024-04-01T00:00:00Z").commit == repo["late"]
    assert "SlopesPC" in catalog.at("2024-05-01T00:00:00Z").registry.calibrations


def test_read_one_file_as_committed(mini: Path, repo: dict[str, str]) -> None:
    """Catalog.read: one catalog file at the catalog's commit, through the one parser;
    a path that is no catalog file is refused, a file that does not load says why."""
    batch = str(next((mini / "constants_index").rglob("*.yaml")).relative_to(mini))
    initial, late = Catalog.open(mini).at(repo["initial"]), Catalog.open(mini)
    assert isinstance(initial.read(batch), ConstantBatch)
    assert len(late.read(MID).changes) == len(initial.read(MID).changes) + 2  # the swap and the late move
    for outside in ("../outside.yaml", "/etc/passwd", "registry/pdus/../detectors.yaml", "constants_index/../../x.yaml",
                    "constants_index/./x/y.yaml", "README.md", "calcat-git.yaml", ""):
        with pytest.raises(InvalidInputError, match="is not a catalog file here: the layout is registry/"):
            late.read(outside)
    with pytest.raises(NotFoundError, match=f"registry/detectors/NOPE.yaml is not in the catalog at {repo['late'][:12]}"):
        late.read("registry/detectors/NOPE.yaml")
    with pytest.raises(RepositoryError, match="working tree"):
        Catalog.open(mini, worktree=True).read(MID)
    (mini / "registry/detectors/BROKEN.yaml").write_text("identifier: [unclosed\n")
    (mini / "registry/detectors/LINK.yaml").symlink_to("MID_DET_AGIPD1M-1.yaml")
    (mini / "calcat-git.yaml").write_text("site_url: https://calibration.example/catalog\n")
    commit_all(mini, "a broken file, a link and settings", "2024-04-01T00:00:00Z")
    broken = Catalog.open(mini)
    with pytest.raises(BrokenCatalogError, match=r"registry/detectors/BROKEN.yaml at \w{12} does not load: "
                                                 r"registry/detectors/BROKEN.yaml:\d+: .*\[yaml\]") as caught:
        broken.read("registry/detectors/BROKEN.yaml")
    assert caught.value.problems and caught.value.problems[0].check == "yaml"
    with pytest.raises(BrokenCatalogError, match="symbolic link"):
        broken.read("registry/detectors/LINK.yaml")
    assert broken.config() == {"site_url": "https://calibration.example/catalog"} and late.config() == {}


def test_a_constants_file_is_read_alone(git_mini: Path) -> None:
    """``Catalog.read`` (what a CCV's metadata reads) parses the one file, as the whole registry has it."""
    (path, whole), = Catalog.open(git_mini, index=False).registry.batches.items()  # the mini catalog's one batch
    assert Catalog.open(git_mini).read(path) == whole
