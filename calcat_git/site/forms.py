"""The site's edit forms (a PDU, a calibration, a parameter; the module swap lives on each
detector page): the data they build new files from, published as ``api/v1/edit.json``,
and the page that holds them. The forms themselves (``assets/propose*.js``) write the
complete new file content with the CLI's rules and open the forge's web editor."""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any, Protocol

from calcat_git.catalog.catalog import Catalog
from calcat_git.files.loading import Registry
from calcat_git.git.repo import GitRepo
from calcat_git.model.calcat_ids import ccv_int_id
from calcat_git.model.selection import CCVRow
from calcat_git.site.forge import Forge


class Site(Protocol):
    reg: Registry
    forge: Forge | None

    def write(self, rel: str, text: str, stamped: bool = False) -> None: ...

    def api(self, rel: str, data: Any) -> None: ...

    @property
    def source(self) -> Sources: ...

    def put(self, rel: str, text: str) -> None: ...


class Sources:
    """A catalog's files' text at the snapshot the site is built from (None: no such file,
    or not UTF-8 text): one at a time, or many through one git process per 500."""

    def __init__(self, catalog: Catalog) -> None:
        self.root, self.commit = catalog.root, catalog.commit

    @staticmethod
    def _text(data: bytes | None) -> str | None:
        try:
            return data.decode("utf-8") if data is not None else None
        except UnicodeDecodeError:
            return None

    def __call__(self, rel: str) -> str | None:
        return next(self.many([rel]))[1]

    def many(self, rels: list[str]) -> Iterator[tuple[str, str | None]]:
        if not self.commit:
            for rel in rels:
                try:
                    yield rel, self._text((self.root / rel).read_bytes())
                except OSError:
                    yield rel, None
            return
        repo = GitRepo(self.root)
        for start in range(0, len(rels), 500):
            chunk = rels[start:start + 500]
            found = dict(repo.tree_files(self.commit, chunk))
            for rel in chunk:
                yield rel, self._text(found.get(rel))


def edit_data(site: Site) -> dict[str, Any]:
    """What the forms need: the forge, the types (with their files' text, which the forms
    edit), the calibrations, the parameters by spelling, the PDUs and the mapping files."""
    reg = site.reg
    types = {}
    for name, dtype in sorted(reg.detector_types.items()):
        path = reg.files[("detector_type", name)]
        types[name] = {"file": path, "text": site.source(path), "calibrations": list(dtype.calibrations),
                       "parameters": list(dtype.parameters),
                       "ruled": [p.name for p in dtype.conditions.parameters] if dtype.conditions else None}
    parameters = {s: {"identifier": p.identifier, "unit": p.unit, "lower_deviation": p.lower_deviation,
                      "upper_deviation": p.upper_deviation} for p in reg.parameters.values() for s in p.spellings}
    return {"forge": site.forge.to_json() if site.forge else None, "types": types,
            "calibrations": sorted(reg.calibrations), "parameters": parameters,
            "parameter_files": sorted(reg.parameters),
            "pdus": {n: {"detector_type": p.detector_type, "uuid": p.uuid} for n, p in sorted(reg.pdus.items())}}


def mapping_source(site: Site, detector: str) -> dict[str, Any]:
    """A detector's mapping file and its text (None: the detector has none yet)."""
    path = site.reg.files.get(("mapping", detector), f"registry/mappings/{detector}.yaml")
    return {"file": path, "text": site.source(path) if ("mapping", detector) in site.reg.files else None}


FIELD = '<label>{label} <input id="{id}" size="{size}" placeholder="{hint}"></label>'


def _options(names: list[str]) -> str:
    return "".join(f'<option value="{escape(n)}">{escape(n)}</option>' for n in names)


def _form(kind: str, title: str, what: str, fields: list[str]) -> str:
    return "\n".join([f"## {title}", "", what, "", f'<form id="{kind}-form" class="propose" data-kind="{kind}" '
                      'markdown="0" onsubmit="return false">', *[f"<p>{f}</p>" for f in fields],
                      f'<p><button type="button" data-check="{kind}">Check and show the change</button></p>',
                      f'<ul class="propose-problems" id="{kind}-problems"></ul>',
                      f'<div class="propose-result" id="{kind}-result" hidden></div>', "</form>", ""])


def propose_page(site: Site) -> None:
    reg = site.reg
    types = _options(sorted(reg.detector_types))
    # placeholders from this catalog (never another facility's names)
    pdu_hint = next(iter(sorted(reg.pdus)), "MODULE_M001")
    uuid_hint = str(max((p.uuid for p in reg.pdus.values()), default=1000) + 1)
    spellings = sorted(s for p in reg.parameters.values() for s in p.spellings)[:2]
    where = ("Each form builds the complete new content of the files it changes, with the rules of the "
             "`calcat-git` command named, shows the difference, and opens the forge's web editor." if site.forge else
             "No forge is configured (set `extra: {forge: {repo_url, edit_uri}}` in the catalog's mkdocs.yml): the "
             "forms show the new files to copy.")
    lines = ["# Propose a change", "", where + " Nothing is sent anywhere until you commit in the forge; the "
             "catalog's checks then run on the merge request. A module swap is proposed on its detector's page.", "",
             _form("pdu", "Add a PDU", "As `calcat-git add-pdu` (admins).", [
                 FIELD.format(label="Name", id="pdu-name", size=32, hint=escape(pdu_hint)),
                 f'<label>Type <select id="pdu-type">{types}</select></label>',
                 FIELD.format(label="uuid", id="pdu-uuid", size=16, hint=uuid_hint),
                 FIELD.format(label="Description", id="pdu-description", size=40, hint="(optional)")]),
             _form("calibration", "Add a calibration", "As `calcat-git add-calibration` (admins).", [
                 FIELD.format(label="Name", id="calibration-name", size=24, hint="DarkDrift"),
                 f'<label>Type <select id="calibration-type">{types}</select></label>',
                 FIELD.format(label="Parameters (comma-separated)", id="calibration-parameters", size=40,
                              hint=escape(", ".join(spellings) or "Sensor Bias Voltage")),
                 FIELD.format(label="Description", id="calibration-description", size=40, hint="(optional)")]),
             _form("parameter", "Add a parameter", "As `calcat-git add-parameter` (admins).", [
                 FIELD.format(label="Name (CALCAT spelling)", id="parameter-name", size=24, hint="Probe param"),
                 f'<label>Type <select id="parameter-type">{types}</select></label>',
                 FIELD.format(label="Unit", id="parameter-unit", size=6, hint="V"),
                 FIELD.format(label="Lower deviation", id="parameter-lower", size=6, hint="0"),
                 FIELD.format(label="Upper deviation", id="parameter-upper", size=6, hint="0"),
                 FIELD.format(label="Calibrations looked up with it (comma-separated)", id="parameter-calibrations",
                              size=30, hint="Offset, Noise"),
                 FIELD.format(label="Default", id="parameter-default", size=8, hint="(left out)"),
                 FIELD.format(label="Legacy value", id="parameter-legacy", size=8, hint="(none)"),
                 '<label><input id="parameter-text" type="checkbox"> text-valued</label>']),
             _form("flag", "Flag a constant", "As `calcat-git flag`: bad or good quality, deployed or not, with the "
                   "reason (kept in its batch file; look-ups at earlier snapshots answer as they did).", [
                 FIELD.format(label="CCV id (integer or content id)", id="flag-ccv", size=30, hint="4778024163930938"),
                 '<label>Flag <select id="flag-which">' + _options(["bad-quality", "good-quality", "not-deployed",
                                                                     "deployed"]) + "</select></label>",
                 FIELD.format(label="Reason", id="flag-reason", size=40, hint="stripes in the offset map")]),
             '<script src="assets/propose.js"></script>', '<script src="assets/schema-check.js"></script>',
             '<script src="assets/propose-forms.js"></script>',
             '<script src="assets/propose-flag.js"></script>']
    site.write("propose.md", "\n".join(lines))
    site.api("edit.json", edit_data(site))


class FlagIndex:
    """What the flag form finds a CCV by: its content id (shards by its first two hex
    digits) or integer id (shards by the id modulo 64), each naming its batch file, whose
    text is published under ``api/v1/sources/``."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_int: dict[str, dict[str, str]] = {}
        self.batches: set[str] = set()

    def add(self, rows: list[CCVRow]) -> None:
        for r in rows:
            int_id = ccv_int_id(r.ccv_id, r.calcat_id)
            self.by_id.setdefault(r.ccv_id[:2], {})[r.ccv_id] = {
                "batch": r.batch, "file": r.file, "dataset": r.dataset, "int_id": int_id, "calibration": r.calibration,
                "pdu": r.pdu, "good_quality": r.good_quality, "deployed": r.deployed}
            self.by_int.setdefault(str(int_id % 64), {})[str(int_id)] = r.ccv_id
            self.batches.add(r.batch)

    def write(self, site: Site) -> None:
        site.api("flag-index/index.json", {"ids": sorted(self.by_id), "ints": sorted(self.by_int, key=int)})
        for prefix, found in sorted(self.by_id.items()):
            site.api(f"flag-index/{prefix}.json", found)
        for part, ids in sorted(self.by_int.items()):
            site.api(f"flag-index/int-{part}.json", ids)
        for batch, text in site.source.many(sorted(self.batches)):
            if text is not None:
                site.put(f"api/v1/sources/{batch}", text)
