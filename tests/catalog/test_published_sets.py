"""Published sets: `calcat-git tag`/`tags`, any revision wherever a snapshot goes, sets marked
invalid, and `serve` pinning a client session to a set by URL (EXtra's own client). Real
git repositories, a real server process."""

from __future__ import annotations

import json
import urllib.request
import warnings
from pathlib import Path

import pytest

from calcat_git import Catalog
from calcat_git.errors import CatalogProblemWarning, InvalidInputError

from ..helpers import commit_all, git, run_cli, stop_process

NEW_BATCH = "constants_index/MID_DET_AGIPD1M-1/2024/20240601T000000Z-dark.yaml"
LOOKUP = ("lookup", "MID_DET_AGIPD1M-1", "--event-at", "2024-06-02T00:00:00Z", "--condition", "Memory cells=352",
          "--condition", "Sensor Bias Voltage=300", "--calibration", "Offset", "--json")  # the mini's parameters


@pytest.fixture
def sets(git_mini: Path) -> dict[str, str]:
    """The mini catalog published as v1, then a newer Offset for AGIPD_M3 (report 3758) committed."""
    shas = {"v1": git(git_mini, "rev-parse", "HEAD")}
    published = run_cli("tag", "v1", "-m", "the first set", repo=git_mini)
    assert published.returncode == 0, published.stderr
    batch = (git_mini / "constants_index/MID_DET_AGIPD1M-1/2024/20240501T100000Z-dark.yaml").read_text()
    batch = batch.replace("id: 3757", "id: 3758").replace("dark_r0012", "dark_r0013").replace(
        "2024-05-01T10:00:00Z", "2024-06-01T00:00:00Z").replace("2024-05-01T12:00:00Z", "2024-06-01T02:00:00Z")
    (git_mini / NEW_BATCH).write_text(batch)
    shas["head"] = commit_all(git_mini, "June darks", "2024-06-02T00:00:00Z")
    return shas


@pytest.mark.slow
def test_tag_publishes_a_validated_commit_and_never_moves_it(git_mini: Path, sets: dict[str, str]) -> None:
    again = run_cli("tag", "v1", "-m", "moved", repo=git_mini)
    assert (again.returncode, again.stderr) == (
        1, "error: tag 'v1' exists already: a published set is never moved; choose a new name\n")
    bad_name = run_cli("tag", "a..b", "-m", "x", repo=git_mini)
    assert bad_name.returncode == 1 and "'a..b' is not a valid tag name" in bad_name.stderr
    git(git_mini, "switch", "-q", "-c", "side")
    (git_mini / "notes.txt").write_text("side work\n")
    side = commit_all(git_mini, "a commit main never had", "2024-06-03T00:00:00Z")
    git(git_mini, "switch", "-q", "main")
    off_line = run_cli("tag", "v2", "--snapshot-at", "side", "-m", "x", repo=git_mini)
    assert (off_line.returncode, off_line.stderr) == (
        1, f"error: commit {side[:12]} is not on the first-parent history of main: a published set is a state the "
           "catalog had there (pass --snapshot-at a time, or a commit of that history)\n")
    listed = json.loads(run_cli("tags", "--json", repo=git_mini).stdout)
    assert [(t["name"], t["commit"], t["state"], t["message"]) for t in listed] == [
        ("v1", sets["v1"], "published", "the first set")]
    assert git(git_mini, "rev-parse", "v1^{commit}") == sets["v1"]


def test_tag_refuses_a_commit_that_does_not_validate(git_mini: Path) -> None:
    (git_mini / "registry/calibrations/Broken.yaml").write_text("identifier: [\n")
    bad = commit_all(git_mini, "broken", "2024-06-02T00:00:00Z")
    refused = run_cli("tag", "v2", "-m", "no", repo=git_mini)
    assert refused.returncode == 1 and refused.stderr.startswith(
        f"error: commit {bad[:12]} does not validate (1 problem(s)), not published: "
        "registry/calibrations/Broken.yaml:"), refused.stderr
    assert git(git_mini, "tag", "--list") == ""


@pytest.mark.slow
def test_any_revision_goes_where_a_snapshot_goes(git_mini: Path, sets: dict[str, str]) -> None:
    at_tag = json.loads(run_cli(*LOOKUP, "--snapshot-at", "v1", repo=git_mini).stdout)
    assert (at_tag["commit"], at_tag["tag"]) == (sets["v1"], "v1")
    at_branch = json.loads(run_cli(*LOOKUP, "--snapshot-at", "main", repo=git_mini).stdout)
    assert at_branch["commit"] == sets["head"] and "tag" not in at_branch
    from calcat_git import CalibrationData
    from calcat_git.errors import NotFoundError

    assert sorted(CalibrationData.from_report(3758, Catalog.open(git_mini), snapshot_at="main")) == ["Noise", "Offset"]
    with pytest.raises(NotFoundError, match="no constants of report 3758 in this catalog"):
        CalibrationData.from_report(3758, Catalog.open(git_mini), snapshot_at="v1")  # injected after v1
    for bad in ("--output=/tmp/x", "nope", "v1..main"):
        refused = run_cli(*LOOKUP, "--snapshot-at", bad, repo=git_mini)
        assert (refused.returncode, refused.stderr) == (1, f"error: {bad!r} is not a commit, tag or branch of {git_mini}, "
                                                           "nor a time (ISO-8601 with Z or an offset, e.g. "
                                                           "2024-05-01T10:00:00Z)\n"), bad
    catalog = Catalog.open(git_mini)
    assert (catalog.at("v1").commit, catalog.at("v1").tag, catalog.at(sets["v1"][:10]).tag) == (sets["v1"], "v1", None)
    assert catalog.at("HEAD~1").commit == sets["v1"]
    with pytest.raises(InvalidInputError, match="'nope' is not a commit, tag or branch of"):
        catalog.at("nope")
    snapshot = run_cli("snapshot", "v1", "--json", repo=git_mini)
    assert json.loads(snapshot.stdout) == {"at": "v1", "commit": sets["v1"], "committed_at": "2024-05-02T00:00:00Z",
                                           "tag": "v1"}


@pytest.mark.slow
def test_a_set_marked_invalid_still_answers_and_warns(git_mini: Path, sets: dict[str, str]) -> None:
    marked = run_cli("tag", "v1", "--invalidate", "--reason", "darks taken with the wrong gain", "--commit", repo=git_mini)
    assert marked.returncode == 0, marked.stderr
    assert marked.stdout.startswith("published set v1 marked invalid in published-sets.yaml; committed ")
    review = run_cli("diff", "HEAD~1", "HEAD", repo=git_mini)  # reviewers read it as a sentence
    assert "#### Published sets\n- published set v1 marked invalid: darks taken with the wrong gain" in review.stdout
    again = run_cli("tag", "v1", "--invalidate", "--reason", "again", "--commit", repo=git_mini)
    assert (again.returncode, again.stderr) == (
        1, "error: published set 'v1' is marked invalid already: darks taken with the wrong gain\n")
    listed = json.loads(run_cli("tags", "--json", repo=git_mini).stdout)
    assert listed[0]["state"] == "invalid" and listed[0]["invalid"]["reason"] == "darks taken with the wrong gain"
    lookup = run_cli(*LOOKUP, "--snapshot-at", "v1", repo=git_mini)
    assert json.loads(lookup.stdout)["commit"] == sets["v1"]  # still answers, from the set
    when = listed[0]["invalid"]["invalidated_at"]
    note = f"published set v1 was marked invalid on {when}: darks taken with the wrong gain"
    assert lookup.stderr == f"warning: {note}\n"
    assert json.loads(lookup.stdout)["problems"] == [{"message": note, "severity": "warning"}]
    from calcat_git import CalibrationData

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CalibrationData.from_report(3757, Catalog.open(git_mini), snapshot_at="v1")
    assert [str(w.message) for w in caught if w.category is CatalogProblemWarning] == [note]
    unknown = run_cli("tag", "v9", "--invalidate", "--reason", "x", repo=git_mini)
    assert (unknown.returncode, unknown.stderr) == (
        1, "error: no published set 'v9': `calcat-git tags` lists them\n")


@pytest.mark.slow
def test_serve_pins_a_client_session_to_a_set_by_url(git_mini: Path, sets: dict[str, str]) -> None:
    import extra.calibration as extra  # euxfel-extra is in the test extra: a missing one must fail, not skip

    from ..server.test_serve_hostile import _start

    run_cli("tag", "v1", "--invalidate", "--reason", "wrong gain", "--commit", repo=git_mini)
    head = git(git_mini, "rev-parse", "HEAD")
    proc, port = _start(git_mini)
    try:
        base = f"http://127.0.0.1:{port}"
        extra.setup_client(f"{base}/at/v1", None, None, None)
        pinned = extra.CalibrationData.from_report(3757)
        assert {cal: sorted(g.constants) for cal, g in pinned.items()} == {"Offset": ["AGIPD01"],
                                                                           "Noise": ["AGIPD01"]}
        with pytest.raises(KeyError, match="pop from an empty set"):  # EXtra, given no CCVs of the report
            extra.CalibrationData.from_report(3758)  # injected after the set was published
        extra.setup_client(base, None, None, None)
        assert sorted(extra.CalibrationData.from_report(3758)) == ["Noise", "Offset"]

        def headers(path: str) -> dict[str, str]:
            with urllib.request.urlopen(f"{base}{path}") as reply:
                return {k.lower(): v for k, v in reply.headers.items()}

        at_set = headers("/at/v1/api/calibration_constant_versions?report_id=3757")
        assert (at_set["x-calcat-git-commit"], at_set["x-calcat-git-tag"]) == (sets["v1"], "v1")
        assert at_set["x-calcat-git-warning"].startswith("published set v1 was marked invalid on ")
        newest = headers("/api/calibration_constant_versions?report_id=3757")
        assert newest["x-calcat-git-commit"] == head and "x-calcat-git-tag" not in newest
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/at/nope/api/detectors")
        assert missing.value.code == 404 and "'nope' is not a commit, tag or branch" in json.loads(
            missing.value.read())["info"]
    finally:
        stop_process(proc)


@pytest.mark.slow
def test_the_site_lists_the_published_sets(git_mini: Path, sets: dict[str, str], tmp_path: Path) -> None:
    import jsonschema

    from calcat_git.site.generate import generate

    run_cli("tag", "v1", "--invalidate", "--reason", "wrong gain", "--commit", repo=git_mini)
    generate(Catalog.open(git_mini), tmp_path / "out")
    page = (tmp_path / "out/sets.md").read_text()
    row = next(line for line in page.splitlines() if line.startswith("| v1 |"))
    assert row.startswith(f"| v1 | `{sets['v1'][:12]}` | 2024-05-02T00:00:00Z | invalid since ")
    assert row.endswith(": wrong gain | the first set |")
    data = json.loads((tmp_path / "out/api/v1/sets.json").read_text())
    schema = json.loads((tmp_path / "out/api/v1/schemas/sets.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert [(s["name"], s["commit"], s["state"]) for s in data] == [("v1", sets["v1"], "invalid")]
    assert "[Published sets](sets.md)" in (tmp_path / "out/index.md").read_text()


def test_pinned_paths_through_the_application(git_mini: Path, sets: dict[str, str]) -> None:
    """/at/<revision>/api/… in-process (the middleware and routes uvicorn runs)."""
    from calcat_git.server.app import create_app
    from calcat_git.server.following import ServeConfig

    from ..git.test_git_states import _get

    app = create_app(ServeConfig(repo=str(git_mini)))
    query = "identifier=MID_DET_AGIPD1M-1"
    for path, commit, tag in (("/at/v1/api/detectors", sets["v1"], "v1"), ("/api/detectors", sets["head"], None),
                              (f"/at/{sets['v1'][:12]}/api/detectors", sets["v1"], None),
                              ("/at/main/api/detectors", sets["head"], None),
                              ("/at/2024-05-03T00:00:00Z/api/detectors", sets["v1"], None)):
        status, headers = _get(app, path, query)
        assert (status, headers["x-calcat-git-commit"], headers.get("x-calcat-git-tag")) == (200, commit, tag), path
    for path in ("/at/v1/detectors", "/at//api/detectors", "/at/nope/api/detectors", "/at/v1..main/api/detectors"):
        assert _get(app, path, query)[0] == 404, path
