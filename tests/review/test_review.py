"""Pull-request checks and the reviewer's summary, on real repos with branches and merges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from calcat_git.edit.change import inject
from calcat_git.git.repo import GitRepo
from calcat_git.review.rules import prepare, review
from calcat_git.store.hdf5 import write_constant

from ..helpers import commit_all, edit, fast_sample, git, run_cli

MID = "registry/mappings/MID_DET_AGIPD1M-1.yaml"
SPB = "registry/mappings/SPB_DET_AGIPD1M-1.yaml"
BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml"


@pytest.fixture
def pr(mini: Path) -> Path:
    """The mini catalog on main (with CODEOWNERS), and a branch 'pr' checked out."""
    (mini / "calcat-git.yaml").write_text('admins: ["@xfel/calcat-admins"]\n')
    git(mini, "init", "-q", "-b", "main")
    assert run_cli("codeowners", repo=mini).returncode == 0
    commit_all(mini, "catalog", "2024-05-02T00:00:00Z")
    git(mini, "checkout", "-q", "-b", "pr")
    return mini


def found(root: Path, date: str = "2024-05-13T08:00:00Z") -> list[str]:
    commit_all(root, "the change", date)
    return [str(p) for p in review(prepare(GitRepo(root), "main", "HEAD"))]


def test_clean_change_passes(pr: Path) -> None:
    edit(pr, BATCH, "good_quality: true", "good_quality: false")  # a flag flip is allowed
    assert found(pr) == []
    out = run_cli("check", "--base", "main", repo=pr)
    assert out.returncode == 0 and out.stdout == "0 error(s), 0 warning(s)\n"


@pytest.mark.parametrize(("file", "old", "new", "expected"), fast_sample([
    (BATCH, "dataset: /AGIPD_M3/Offset/0", "dataset: /AGIPD_M3/Offset/1",
     f"{BATCH}:8: constants.0: CCV {{id}} (Offset, AGIPD_M3) edited or removed: only good_quality and deployed may "
     "change [append-only]"),
    (BATCH, "injected_at: \"2024-05-01T12:00:00Z\"", "injected_at: \"2024-05-01T13:00:00Z\"",
     f"{BATCH}:1: batch header rewritten: only good_quality and deployed of its CCVs may change [append-only]"),
    ("registry/pdus/AGIPD-Type/AGIPD_M2.yaml", "uuid: 100002", "uuid: 100099",
     "registry/pdus/AGIPD-Type/AGIPD_M2.yaml:3: uuid: identity field uuid changed from 100002 to 100099: PDU identity "
     "never changes [pdu-kept]"),
    (MID, "reason: Q1M2 replaced after a damaged ASIC", "reason: Q1M2 swapped",
     f"{MID}:8: changes.1: past change edited without a reason: add `correction: <why>` to it, or add a new change "
     "instead [mapping-history]"),
    (MID, "reason: Q1M2 replaced after a damaged ASIC", "reason: Q1M2 swapped\n    correction: typo in the reason",
     f"{MID}:10: changes.1.correction: warning: past change corrected (typo in the reason): re-maps RAW data taken "
     "from 2023-05-10T06:00:00Z until 2024-01-01T00:00:00Z [mapping-history]"),
    (MID, "AGIPD00: null", "AGIPD00: null\n  - from: \"2024-05-10T08:00:00Z\"\n    reason: M3 back to M2\n"
     "    modules:\n      AGIPD01: AGIPD_M2",
     f"{MID}:16: changes.3.from: warning: backdated by 2 days: re-maps RAW data taken from "
     "2024-05-10T08:00:00Z until 2024-05-12T08:00:00Z [backdated]"),
    ("registry/detectors/MID_DET_AGIPD1M-1.yaml", '"@xfel/agipd-experts"', '"@xfel/mid-experts"',
     "CODEOWNERS:1: CODEOWNERS is out of date: run `calcat-git codeowners` and commit it [codeowners]"),
], keep=2))
def test_change_rules(pr: Path, file: str, old: str, new: str, expected: str) -> None:
    edit(pr, file, old, new)
    problems = found(pr, "2024-05-12T08:00:00Z")
    if "{id}" in expected:
        from calcat_git import Catalog

        batch = Catalog.open(pr, branch="main").registry.batches[BATCH]
        expected = expected.replace("{id}", batch.constants[0].identity(batch)[:12])
    assert problems == [expected]


def test_removals(pr: Path) -> None:
    (pr / BATCH).unlink()
    (pr / "registry/pdus/AGIPD-Type/AGIPD_M2.yaml").unlink()
    edit(pr, MID, '''  - from: "2024-01-01T00:00:00Z"
    reason: Q1M1 sent to SPB
    modules:
      AGIPD00: null
''', "")
    edit(pr, SPB, "AGIPD00: AGIPD_M1\n", "AGIPD00: AGIPD_M1\n      AGIPD01: null\n")  # keep M5 unique
    problems = found(pr)
    assert f"{BATCH}:1: constants batch removed: batches are never removed; flag a bad constant with good_quality: " \
           "false instead [append-only]" in problems
    assert "registry/pdus/AGIPD-Type/AGIPD_M2.yaml:1: PDU AGIPD_M2 was mapped (MID_DET_AGIPD1M-1/AGIPD01 from " \
           "2019-03-01T00:00:00Z): set status: retired instead of deleting it [pdu-kept]" in problems
    assert f"{MID}:2: changes: past change from 2024-01-01T00:00:00Z (base changes.2) removed or its `from` moved: add " \
           "a new change instead; to fix a wrong `from`, edit it and add `correction: <why>` to it [mapping-history]" in problems


@pytest.mark.slow
def test_move_that_forgets_the_old_slot_names_both_places(pr: Path) -> None:
    edit(pr, SPB, "AGIPD00: AGIPD_M1\n", "AGIPD00: AGIPD_M1\n  - from: \"2024-05-01T00:00:00Z\"\n"
         "    reason: M3 moves to SPB\n    modules:\n      AGIPD01: AGIPD_M3\n")
    problems = found(pr, "2024-05-01T02:00:00Z")
    assert problems == [
        f"{SPB}:15: changes.2.modules.AGIPD01: PDU AGIPD_M3 would sit in SPB_DET_AGIPD1M-1/AGIPD01 and in "
        "MID_DET_AGIPD1M-1/AGIPD01 during [2024-05-01T00:00:00Z, …): empty the other slot first [one-slot]",
    ]
    assert run_cli("check", "--base", "main", repo=pr).returncode == 1


def test_not_catalog_data_is_flagged(pr: Path) -> None:
    (pr / "notes.txt").write_text("hello\n")
    assert found(pr) == ["notes.txt:1: warning: not catalog data: review it as code or configuration, not as a "
                         "catalog change [not-catalog-data]"]


def test_diff_summary_for_reviewers(pr: Path) -> None:
    edit(pr, MID, "AGIPD00: null", "AGIPD00: null\n  - from: \"2024-05-10T08:00:00Z\"\n    reason: M3 back to M2\n"
         "    modules:\n      AGIPD01: AGIPD_M2")
    edit(pr, BATCH, "good_quality: true", "good_quality: false")
    edit(pr, "registry/pdus/AGIPD-Type/AGIPD_M3.yaml", "status: active", "status: retired")
    commit_all(pr, "M2 back", "2024-05-13T08:00:00Z")
    out = run_cli("diff", "main", repo=pr)
    assert out.returncode == 0, out.stderr
    assert ("AGIPD01: AGIPD\\_M3 → AGIPD\\_M2 from 2024-05-10 08:00 UTC, backdated 3 days: RAW data taken since then "
            "will now use AGIPD\\_M2's constants") in out.stdout
    assert "- retired: AGIPD\\_M3" in out.stdout
    assert "good\\_quality True → False" in out.stdout
    data = json.loads(run_cli("diff", "main", "--format", "json", repo=pr).stdout)
    assert data["pdus"] == {"added": [], "retired": ["AGIPD_M3"], "moved": []}
    assert data["mappings"]["MID_DET_AGIPD1M-1"][0].startswith("AGIPD01: AGIPD_M3 → AGIPD_M2 from")


@pytest.mark.slow
def test_diff_comment_keeps_free_text_on_its_line(pr: Path) -> None:
    """A correction with line breaks and markdown starts no paragraph, heading, table or code block."""
    hostile = "typo\\n\\n# Heading\\n| a | b |\\n|---|---|\\n```\\ncode\\n![x](http://evil.example/x.png)"
    edit(pr, MID, "AGIPD00: null", "AGIPD00: null\n  - from: \"2024-05-10T08:00:00Z\"\n    reason: M3 back to M2\n"
         f"    correction: \"{hostile}\"\n    modules:\n      AGIPD01: AGIPD_M2")
    commit_all(pr, "M2 back", "2024-05-13T08:00:00Z")
    out = run_cli("diff", "main", repo=pr)
    assert out.returncode == 0, out.stderr
    sentence = [line for line in out.stdout.splitlines() if "correction" in line]
    assert sentence == ["- ⚠️ `registry/mappings/MID_DET_AGIPD1M-1.yaml:18` changes.3.correction past change corrected "
                        "(typo  \\# Heading \\| a \\| b \\| \\|---\\|---\\| \\`\\`\\` code "
                        "\\!\\[x\\](http://evil.example/x.png)): re-maps RAW data taken from 2024-05-10T08:00:00Z until "
                        "2024-05-13T08:00:00Z",
                        "  - AGIPD01: AGIPD\\_M3 → AGIPD\\_M2 from 2024-05-10 08:00 UTC, backdated 3 days: RAW data taken "
                        "since then will now use AGIPD\\_M2's constants (correction: typo  \\# Heading \\| a \\| b \\| "
                        "\\|---\\|---\\| \\`\\`\\` code \\!\\[x\\](http://evil.example/x.png))"]
    assert not any(line.startswith(("# ", "|", "```")) for line in out.stdout.splitlines())


def test_concurrent_prs_merge_cleanly(pr: Path) -> None:
    edit(pr, MID, "AGIPD00: null", "AGIPD00: null\n  - from: \"2024-06-01T00:00:00Z\"\n    reason: r\n"
         "    modules:\n      AGIPD01: AGIPD_M2")
    commit_all(pr, "MID expert", "2024-06-01T01:00:00Z")
    git(pr, "checkout", "-q", "-b", "other", "main")
    edit(pr, SPB, "AGIPD00: AGIPD_M1\n", "AGIPD00: AGIPD_M1\n  - from: \"2024-06-02T00:00:00Z\"\n    reason: r\n"
         "    modules:\n      AGIPD01: null\n")
    commit_all(pr, "SPB expert", "2024-06-02T01:00:00Z")
    git(pr, "checkout", "-q", "main")
    git(pr, "merge", "-q", "--no-ff", "-m", "merge MID", "pr", date="2024-06-03T00:00:00Z")
    git(pr, "merge", "-q", "--no-ff", "-m", "merge SPB", "other", date="2024-06-04T00:00:00Z")
    merged = review(prepare(GitRepo(pr), "main~2", "main"))
    assert [p for p in merged if p.severity == "error"] == []
    assert {p.check for p in merged} == {"backdated"}  # recorded days before the merge made them official


def test_concurrent_injections_lose_nothing(pr: Path, tmp_path: Path) -> None:
    (pr.parent / "store").mkdir()
    for n, (pdu, uuid) in enumerate([("AGIPD_M3", 100003), ("AGIPD_M1", 100001)]):
        write_constant(tmp_path / f"{n}.h5", pdu=pdu, uuid=uuid, detector_type="AGIPD-Type", calibration="Offset",
                       data=np.zeros((2, 2)) + n, conditions={"Memory cells": 352, "Sensor Bias Voltage": 300},
                       begin_at="2024-06-01T00:00:00Z" if pdu == "AGIPD_M3" else "2024-03-01T00:00:00Z")
        inject(pr, [tmp_path / f"{n}.h5"], report_path=f"r/{n}.pdf", store=pr.parent / "store", branch=f"inject-{n}")
    git(pr, "checkout", "-q", "main")
    git(pr, "merge", "-q", "--no-ff", "-m", "one", "inject-0", date="2026-01-01T00:00:00Z")
    git(pr, "merge", "-q", "--no-ff", "-m", "two", "inject-1", date="2026-01-02T00:00:00Z")
    from calcat_git import Catalog

    batches = Catalog.open(pr).registry.batches
    assert sum(len(b.constants) for b in batches.values()) == 2 + 1 + 1
    assert {b.detector for b in batches.values()} == {"MID_DET_AGIPD1M-1", "SPB_DET_AGIPD1M-1"}


@pytest.mark.slow
def test_summaries_of_consecutive_commits_share_parsing_and_say_the_same(synthetic: Path) -> None:
    """The site summarises one commit after another through one parse cache: each summary
    must be the one a fresh `calcat-git diff` of that commit prints."""
    from calcat_git.cli.site import change_summary
    from calcat_git.review.summary import markdown, summary

    repo = GitRepo(synthetic)
    newest = [commit.sha for commit, _ in repo.changed_files("main", ["registry/mappings"])][-1]
    shas = [c.sha for c in reversed(repo.first_parent_log(newest))][:4]  # a mapping edit, then older ones
    cached = change_summary(synthetic)
    for sha in shas:
        fresh = prepare(repo, f"{sha}^", sha)
        assert cached(f"{sha}^", sha) == markdown(summary(fresh, review(fresh)))


def test_diff_keeps_its_own_code_spans_as_code() -> None:
    """A message's `code` (ours) stays a code span; markup around it is escaped; unbalanced backticks are all escaped."""
    from calcat_git.review.summary import markdown

    problem = {"severity": "error", "file": "registry/mappings/X.yaml", "line": 3, "field": "changes.1",
               "message": "past change edited without a reason: add `correction: <why>` to it"}
    data = {"head": "0" * 40, "problems": [problem], "mappings": {}, "pdus": {}, "constants_added": [], "flag_flips": []}
    assert "add `correction: <why>` to it" in markdown(data)
    problem["message"] = "a `b"
    assert "a \\`b" in markdown(data)


@pytest.mark.slow
def test_diff_summarises_every_kind_of_record(pr: Path) -> None:
    """New and changed calibrations, parameters, detector types and PDUs read as sentences, each
    saying the admins approve it (CODEOWNERS gives them those files)."""
    (pr / "registry/calibrations/Probe.yaml").write_text("identifier: Probe\n")
    edit(pr, "registry/detector_types/AGIPD-Type.yaml", "calibrations: [Offset, Noise]", "calibrations: [Offset, Noise, Probe]")
    edit(pr, "registry/pdus/AGIPD-Type/AGIPD_M3.yaml", "status: active", "status: retired")
    commit_all(pr, "a probe calibration", "2024-05-13T08:00:00Z")
    data = json.loads(run_cli("diff", "main", "--format", "json", repo=pr).stdout)
    sentences = {r["sentence"]: r["admins"] for r in data["records"]}
    assert sentences == {"calibration Probe added": True,
                         'detector type AGIPD-Type: calibrations ["Offset", "Noise"] → ["Offset", "Noise", "Probe"]': True,
                         "PDU AGIPD_M3: status active → retired": True}
    out = run_cli("diff", "main", repo=pr).stdout
    assert "#### Registry records\n" in out and "\n- calibration Probe added (admins approve)\n" in out


@pytest.mark.parametrize(("config", "why"), fast_sample([
    ('admins: ["@xfel/calcat-admins\\n* @evil"]',
     "admins.0: '@xfel/calcat-admins\\n* @evil' must be a GitHub/GitLab handle or team such as @xfel/agipd-experts"),
    ('admins: ["@xfel/calcat-admins", "evil@example.org /registry/"]',
     "admins.1: 'evil@example.org /registry/' must be a GitHub/GitLab handle or team such as @xfel/agipd-experts"),
    ('site_url: "javascript:alert(1)"',
     "site_url 'javascript:alert(1)' must be an http:// or https:// address, such as "
     "https://calibration.example/catalog"),
], keep=1))
def test_settings_are_checked_before_codeowners_uses_them(pr: Path, config: str, why: str) -> None:
    """A newline in an `admins` entry added a final `* @evil` rule to CODEOWNERS (evil owned every
    path) and `check` said nothing; a `javascript:` site_url became view_url."""
    before = (pr / "CODEOWNERS").read_text()
    (pr / "calcat-git.yaml").write_text(config + "\n")
    written = run_cli("codeowners", repo=pr)
    assert written.returncode == 1 and written.stderr.splitlines() == [f"error: {pr / 'calcat-git.yaml'}: {why}"]
    assert (pr / "CODEOWNERS").read_text() == before
    assert found(pr) == [f"calcat-git.yaml:1: calcat-git.yaml: {why} [codeowners]",
                         "calcat-git.yaml:1: warning: not catalog data: review it as code or configuration, not as a "
                         "catalog change [not-catalog-data]"]


def test_codeowners_refuses_an_owner_that_is_not_one(pr: Path) -> None:
    """An owner with a line break would start a rule of its own: refused whatever its source."""
    from calcat_git import Catalog
    from calcat_git.errors import InvalidInputError
    from calcat_git.files.codeowners import render

    with pytest.raises(InvalidInputError, match=r"^CODEOWNERS not written: admins: '@a\\n\* @evil' must be a "):
        render(Catalog.open(pr, worktree=True).registry, ["@a\n* @evil"])


@pytest.mark.slow
def test_a_change_dated_in_the_future_is_an_error(pr: Path) -> None:
    """`check` passed a head commit dated years ahead; `verify-history` refuses such a time."""
    edit(pr, BATCH, "good_quality: true", "good_quality: false")
    commit_all(pr, "from the future", "2099-01-01T00:00:00Z")
    sha = git(pr, "rev-parse", "HEAD")
    out = run_cli("check", "--base", "main", repo=pr)
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        f"commit {sha[:12]}:1: committer time in the future: {sha[:12]} (2099-01-01T00:00:00Z) is later than now "
        "plus 10 minutes; snapshots taken before then would not see it: fix the committer's clock and recommit "
        "[commit-time]"]


@pytest.mark.slow
def test_diff_gives_the_reason_of_a_flag_change(pr: Path) -> None:
    from calcat_git import Catalog

    row = next(iter(Catalog.open(pr, branch="pr").backend.all_ccvs()))
    flagged = run_cli("flag", row.ccv_id[:12], "--bad-quality", "--reason", "hot pixels in the dark run", "--commit", repo=pr)
    assert flagged.returncode == 0, flagged.stderr
    out = run_cli("diff", "main", repo=pr)
    assert "good\\_quality True → False (reason: hot pixels in the dark run)" in out.stdout, out.stdout
