"""The static site: a real mkdocs build, escaping of catalog text, the static JSON API."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import build_site, commit_all, commit_with_late_move, edit, git

pytestmark = pytest.mark.slow  # every test here takes seconds (a site build, a browser, a benchmark)

EVIL = "<script>alert('x')</script> [click](javascript:alert(1)) **bold** <img src=x onerror=alert(2)>"


@pytest.fixture
def built(mini: Path, tmp_path: Path) -> Path:
    edit(mini, "registry/calibrations/Offset.yaml", "identifier: Offset", f"identifier: Offset\ndescription: \"{EVIL}\"")
    edit(mini, "registry/mappings/MID_DET_AGIPD1M-1.yaml", "reason: initial installation",
         "reason: \"initial <b>installation</b> | pipe\"")
    commit_with_late_move(mini, "catalog", "2024-05-02T00:00:00Z")
    return build_site(mini, tmp_path / "html")


def test_pages_exist_and_link(built: Path) -> None:
    detector = (built / "catalog/detectors/MID_DET_AGIPD1M-1.html").read_text()
    assert detector.count('class="slot"') == 2  # one timeline row per module
    assert 'data-pdu="AGIPD_M3"' in detector and "../pdus/AGIPD_M3.html" in detector
    assert "Change history" in detector and "backdated" in detector  # the 2024-01-01 move was recorded in May
    assert (built / "catalog/pdus/AGIPD_M1.html").exists() and (built / "catalog/types/AGIPD-Type.html").exists()
    home = (built / "index.html").read_text()
    assert "2 detectors" in home and "Built from catalog commit" in home
    assert (built / "guide/cli.html").exists() and (built / "search/search_index.json").exists()
    from calcat_git.site.pages import report_slug

    report = (built / "catalog/reports/MID_DET_AGIPD1M-1.html").read_text()
    slug = report_slug("xfel/reports/MID/AGIPD/dark_r0012.pdf")
    assert f'id="{slug}"' in report and "3757" in report and "../detectors/MID_DET_AGIPD1M-1.html" in report
    assert f"catalog/reports/MID_DET_AGIPD1M-1.html#{slug}" in home
    offset = (built / "catalog/calibrations/Offset.html").read_text()
    assert "../types/AGIPD-Type.html" in offset and "&lt;script&gt;" in offset
    assert "Memory Cells" in (built / "catalog/parameters/memory_cells.html").read_text()


def test_search_index_holds_entities_by_name_not_their_tables(built: Path) -> None:
    """Detector and PDU pages are found by name and first paragraph; their tables (which grow
    with the history) stay out of the index every page loads."""
    docs = json.loads((built / "search/search_index.json").read_text())["docs"]
    locations = {d["location"]: d for d in docs}
    assert locations["catalog/detectors/MID_DET_AGIPD1M-1.html"]["title"] == "MID_DET_AGIPD1M-1"
    assert "AGIPD-Type" in locations["catalog/pdus/AGIPD_M5.html"]["text"]
    assert not [d for d in locations if d.startswith(("catalog/detectors/", "catalog/pdus/")) and "#" in d]
    assert "index.html" in locations


def test_catalog_text_is_escaped(built: Path) -> None:
    html = "".join(p.read_text() for p in built.rglob("*.html"))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert" in html
    assert "<b>installation</b>" not in html


def test_static_api(built: Path) -> None:
    detectors = json.loads((built / "api/v1/detectors.json").read_text())
    assert set(detectors) == {"MID_DET_AGIPD1M-1", "SPB_DET_AGIPD1M-1"}
    from calcat_git.catalog.published import unpack_shard

    index = json.loads((built / "api/v1/ccvs/MID_DET_AGIPD1M-1/index.json").read_text())
    assert index["count"] == 2 and [s["path"] for s in index["shards"]] == ["Noise/2024-Q2.json", "Offset/2024-Q2.json"]
    folder = built / "api/v1/ccvs/MID_DET_AGIPD1M-1"
    ccvs = [row for s in index["shards"] for row in unpack_shard(
        json.loads((folder / s["path"]).read_text()),
        json.loads((folder / s["path"].replace(".json", ".details.json")).read_text()))]
    assert len(ccvs) == 2 and {c["calibration"] for c in ccvs} == {"Offset", "Noise"}
    assert ccvs[0]["conditions"]["Memory cells"] == 352 and ccvs[0]["report"] == "xfel/reports/MID/AGIPD/dark_r0012.pdf"
    recent = unpack_shard(json.loads((built / "api/v1/ccvs/MID_DET_AGIPD1M-1/recent.json").read_text()))
    assert sorted(r["ccv_id"] for r in recent) == sorted(r["ccv_id"] for r in ccvs)
    one = json.loads((built / "api/v1/detectors/MID_DET_AGIPD1M-1.json").read_text())
    assert one["mapping"]["changes"][1]["modules"] == {"AGIPD01": "AGIPD_M3"}
    assert one["ccv_shards_by_pdu"]["AGIPD_M1"] == ["MID_DET_AGIPD1M-1", "SPB_DET_AGIPD1M-1"]  # M1 moved to SPB


def test_no_external_resources(built: Path) -> None:
    import re

    for page in built.rglob("*.html"):
        for url in re.findall(r'(?:src|href)="(https?://[^"]+)"', page.read_text()):
            assert "squidfunk.github.io" in url, f"{page.name} loads {url}"  # the 'Made with' link is no resource


def test_zensical_builds_the_same_pages(mini: Path, tmp_path: Path) -> None:
    git(mini, "init", "-q", "-b", "main")
    commit_all(mini, "catalog", "2024-05-02T00:00:00Z")
    out = build_site(mini, tmp_path / "zensical", "--engine", "zensical")
    detector = (out / "catalog/detectors/MID_DET_AGIPD1M-1.html").read_text()
    assert detector.count('class="slot"') == 2
    assert json.loads((out / "api/v1/detectors.json").read_text()).keys() == {"MID_DET_AGIPD1M-1", "SPB_DET_AGIPD1M-1"}


def test_api_files_match_their_published_schemas(built: Path) -> None:
    import jsonschema
    from referencing import Registry, Resource

    schemas = built / "api/v1/schemas"
    entity = {f"https://calcat-git.example/schemas/{k}.json": json.loads((schemas / f"{k}-entity.json").read_text())
              for k in ("detector", "pdu")}
    registry = Registry().with_resources((uri, Resource.from_contents(s)) for uri, s in entity.items())
    pairs = [("detectors.json", "detectors.json"), ("pdus.json", "pdus.json"), ("parameters.json", "parameters.json"),
             ("detectors/MID_DET_AGIPD1M-1.json", "detector.json"),
             ("ccvs/MID_DET_AGIPD1M-1/index.json", "ccv-index.json"),
             ("ccvs/MID_DET_AGIPD1M-1/Offset/2024-Q2.json", "ccv-shard.json"),
             ("ccvs/MID_DET_AGIPD1M-1/recent.json", "ccv-shard.json"),
             ("ccvs/MID_DET_AGIPD1M-1/Offset/2024-Q2.details.json", "ccv-shard-details.json")]
    for data_file, schema_file in pairs:
        schema = json.loads((schemas / schema_file).read_text())
        data = json.loads((built / "api/v1" / data_file).read_text())
        jsonschema.Draft202012Validator(schema, registry=registry).validate(data)


def test_two_builds_in_one_checkout_never_mix_snapshots(mini: Path) -> None:
    """Builds of two commits at once into the default output: each publishes a whole site of its
    own commit (built in its own folder, renamed into place); nothing is left behind."""
    import re

    git(mini, "init", "-q", "-b", "main")
    first = commit_all(mini, "catalog", "2024-05-02T00:00:00Z")
    (mini / "registry/calibrations/SlopesPC.yaml").write_text("identifier: SlopesPC\n")
    second = commit_all(mini, "SlopesPC", "2024-05-03T00:00:00Z")
    runs = [subprocess.Popen([sys.executable, "-m", "calcat_git", "site", "build", "--repo", str(mini), "--snapshot-at", sha],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for sha in (first, second)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    site = mini / ".site-build"
    shown = {sha for page in site.rglob("*.html") for sha in re.findall(r"catalog commit <code>([0-9a-f]{12})</code>",
                                                                        page.read_text())}
    assert len(shown) == 1 and shown <= {first[:12], second[:12]}
    assert (site / "catalog/calibrations/SlopesPC.html").exists() == (shown == {second[:12]})
    assert sorted(p.name for p in mini.iterdir() if p.name.startswith(".site")) == [".site-build"]
    assert sorted(p.name for p in (mini / ".git/calcat-git").iterdir() if p.name.startswith("site")) == [
        "site-src", "site-src.lock"]  # kept where no commit can put a file


def test_regeneration_rewrites_only_what_changed(git_mini: Path, tmp_path: Path) -> None:
    from calcat_git.site.build import prepare

    docs = tmp_path / "docs"
    first = prepare(git_mini, docs)
    assert first["files_written"] > 20 and first["files_unchanged"] == 0
    (docs / "stale.md").write_text("from an older build")
    again = prepare(git_mini, docs)
    assert again["files_written"] == 0 and again["files_removed"] == 1 and not (docs / "stale.md").exists()
    edit(git_mini, "registry/calibrations/Noise.yaml", "identifier: Noise", "identifier: Noise\ndescription: new words")
    commit_all(git_mini, "describe Noise", "2024-05-03T00:00:00Z")
    before = {p: p.read_bytes() for p in docs.rglob("*") if p.is_file()}
    later = prepare(git_mini, docs)
    changed = sorted(str(p.relative_to(docs)) for p in docs.rglob("*") if p.is_file() and before.get(p) != p.read_bytes())
    assert later["files_written"] == len(changed) and "catalog/calibrations/Noise.md" in changed
    # the calibration's page and the catalog index show the description; home and look-up name the commit
    assert set(changed) == {"catalog/calibrations/Noise.md", "catalog/index.md", "index.md", "lookup.md"}, changed
