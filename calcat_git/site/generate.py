"""Generate the site's pages (markdown with inline SVG) and the static JSON API from a
catalog snapshot, into the folder the site engine reads. Engine-independent: mkdocs
(through a thin hook) or zensical build whatever is in that folder."""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta
from html import escape
from pathlib import Path
from typing import Any

from calcat_git.catalog.catalog import Catalog
from calcat_git.catalog.history import HistoryEntry
from calcat_git.errors import RepositoryError
from calcat_git.files.schema import schema_text
from calcat_git.lookup.rules import LookupRules
from calcat_git.model.selection import CCVRow
from calcat_git.site.changes import Summarize, changes_pages
from calcat_git.site.forge import forge_of
from calcat_git.site.forms import FlagIndex, Sources, mapping_source, propose_page
from calcat_git.site.markdown import md
from calcat_git.site.output import Output, reset
from calcat_git.site.pages import calibration_pages, parameter_pages, report_page, report_slug, sets_page
from calcat_git.site.pictures import Injections, constants_timeline
from calcat_git.site.shards import detector_shards
from calcat_git.site.svg import timeline
from calcat_git.site.table import ccv_table
from calcat_git.timeutil import format_timestamp, from_micros, now_utc

GUIDE = Path(__file__).parent / "guide"  # the guide pages every catalog's site gets (shipped in the wheel)
PAGE_ROWS = 50  # rows of a detector page's table of the newest constant per calibration and PDU
# The parts of detector and PDU pages the theme's search leaves out (mkdocs-material, with
# attr_list): found by name and first paragraph, not by their tables (the index is loaded
# by every page, and those tables grow with the history: they were 1.9 of its 2 MB).
UNSEARCHED = " { data-search-exclude }"
SWAP_FORM = """<div id="swap" data-detector="{detector}" markdown="0">
<p><label>Slot <select id="swap-slot">{slots}</select></label>
<label>New PDU <select id="swap-pdu">{pdus}</select></label></p>
<p><label>From (with zone) <input id="swap-from" size="28" placeholder="2025-01-10T08:00:00+01:00"></label>
<label>Reason <input id="swap-reason" size="40" placeholder="e.g. module replaced after a damaged sensor"></label>
<button id="swap-check" type="button">Check and show the change</button></p>
<ul id="swap-problems"></ul>
<div id="swap-result" hidden>
<p>Append this to <code>{file}</code>:</p>
<pre id="swap-yaml"></pre>
<div id="swap-files" hidden></div>
<p>{edit}</p>
<p>Or from a clone:</p>
<pre id="swap-command"></pre>
</div>
</div>
<script src="../../assets/propose.js"></script>
<script src="../../assets/swap-form.js"></script>"""
LOOKUP_PAGE = """# Look up constants

Choose a detector, the creation time of the RAW data and the conditions: the page resolves
the mapping and picks a constant per module and calibration with the same rules as the Python
API (`calcat-git lookup --help` states them), from the static JSON API of catalog
commit `{commit}`. The address of the page is a permalink to the answer.

<div id="lookup" data-commit="{commit_sha}" markdown="0">
<p><label>Detector <select id="lk-detector">{detectors}</select></label>
<label>RAW data taken at (UTC) <input id="lk-event" size="24" placeholder="2024-05-01T10:00:00Z"></label>
<label>Strategy <select id="lk-strategy"><option>closest</option><option>prior</option></select></label></p>
<p><label>Calibrations, comma-separated (empty: all of the type's) <input id="lk-calibrations" size="50"></label></p>
<p><label>Conditions, one per line, CALCAT spelling (the type's look-up rules fill in defaults and leave out
legacy values, as <code>calcat-git lookup</code> does)<br>
<textarea id="lk-conditions" rows="6" cols="50" placeholder="{condition_hint}"></textarea></label></p>
<p><button id="lk-go" type="button">Look up</button> <span id="lk-status"></span></p>
<table id="lk-result"><thead><tr><th>calibration</th><th>module</th><th>PDU</th><th>constant</th>
<th>begin_at</th><th>why</th></tr></thead><tbody></tbody></table>
</div>"""


def _detector_rows(catalog: Catalog) -> Iterator[tuple[str, list[CCVRow]]]:
    """Each detector's CCVs (by begin_at), one detector at a time (streamed from the index
    when the snapshot has one)."""
    yield from catalog.backend.ccvs_by_detector()


class Site:
    """Writes one snapshot's pages into ``out``, streaming the constants one detector at a time."""

    def __init__(self, catalog: Catalog, out: Output, summarize: Summarize | None = None) -> None:
        self.catalog, self.out = catalog, out
        self.summarize = summarize if catalog.commit else None  # a working tree has no history to summarise
        self.forge = forge_of(catalog.root)
        self.source = Sources(catalog)
        self.flags = FlagIndex()
        self.reg = catalog.entities()
        self.per_pdu: Counter[str] = Counter()
        self.per_calibration: Counter[tuple[str, str]] = Counter()
        self.newest_batches: list[tuple[int, str, str, str]] = []  # (begin_at, batch, detector, report)
        self.total = 0
        self._history_all: list[HistoryEntry] | None = None
        self._condition_keys: dict[int, str] = {}
        self._homes: dict[str, set[str]] | None = None
        self.now = now_utc()
        self.stamp = (f"catalog commit `{catalog.commit[:12]}` of {format_timestamp(catalog.committed_at)}"
                      if catalog.commit and catalog.committed_at else "the working tree")

    def write(self, rel: str, text: str, stamped: bool = False) -> None:
        """A page; ``stamped`` ones name the commit they were built from (the others do not,
        so that they stay unchanged while their content does)."""
        self.out.put(rel, text + (f"\n\n---\n<small>Built from {self.stamp}.</small>\n" if stamped else "\n"))

    def put(self, rel: str, text: str) -> None:
        self.out.put(rel, text)

    def api(self, rel: str, data: Any) -> None:
        self.out.json(f"api/v1/{rel}", data)

    def build(self) -> dict[str, int]:
        done = set()
        for name, rows in _detector_rows(self.catalog):
            self.constants(name, rows)
            done.add(name)
        for name in sorted(set(self.reg.detectors) - done):
            self.constants(name, [])
        for name in sorted(self.reg.pdus):
            self.pdu(name)
        self.home()
        self.registry_pages()
        calibration_pages(self, self.per_calibration)
        parameter_pages(self)
        self.api("detectors.json", {n: d.to_dict() for n, d in sorted(self.reg.detectors.items())})
        self.api("pdus.json", {n: p.to_dict() for n, p in sorted(self.reg.pdus.items())})
        self.lookup_page()
        propose_page(self)
        self.flags.write(self)
        if self.catalog.commit:
            sets = self.catalog.published_sets()
            sets_page(self, sets)
            self.api("sets.json", sets)
        if self.summarize is not None and self.catalog.commit:
            changes_pages(self, self.catalog.root, self.catalog.commit, sorted(self.reg.detectors), self.summarize)
        return {"detector_pages": len(self.reg.detectors), "pdu_pages": len(self.reg.pdus),
                "pages": len(self.reg.detectors) + len(self.reg.pdus) + 3}

    def constants(self, name: str, rows: list[CCVRow]) -> None:
        """Everything made of one detector's constants: its shards, report page and page."""
        self.total += len(rows)
        self.per_pdu.update(r.pdu for r in rows)
        self.flags.add(rows)
        self.per_calibration.update((r.calibration, name) for r in rows)
        batches = {r.batch: (r.begin_at, r.batch, name, r.report_path) for r in reversed(rows)}
        self.newest_batches = heapq.nlargest(10, [*self.newest_batches, *batches.values()])
        for path, doc in detector_shards(name, rows, self._condition_key).items():
            self.api(f"ccvs/{path}", doc)
        report_page(self, name, rows)
        if name in self.reg.detectors:
            self.detector(name, rows)

    def home(self) -> None:
        reg = self.reg
        changes = sorted(((c.valid_from, name, c) for name, m in reg.mappings.items() for c in m.changes),
                         key=lambda t: t[0], reverse=True)[:10]
        lines = ["# Calibration catalog", "",
                 f"{len(reg.detectors)} detectors · {len(reg.pdus)} PDUs · {len(reg.detector_types)} detector types · "
                 f"{self.total} constants · built from {self.stamp}."
                 + (" [Recent changes](changes.md) ([Atom feed](feeds/all.atom))." if self.summarize else "")
                 + (" [Published sets](sets.md)." if self.catalog.commit else ""), "",
                 "## Newest mapping changes", ""]
        lines += [f"- {format_timestamp(t)} [{md(n)}](catalog/detectors/{n}.md): {md(c.reason)}" for t, n, c in changes]
        lines += ["", "## Newest constant injections", ""]
        lines += [f"- {format_timestamp(from_micros(b))} {md(d)}: [{md(r)}](catalog/reports/{d}.md#{report_slug(r)})"
                  for b, _, d, r in self.newest_batches]
        self.write("index.md", "\n".join(lines), stamped=True)

    def detector(self, name: str, rows: list[CCVRow]) -> None:
        det, reg = self.reg.detectors[name], self.reg
        mapping = reg.mappings.get(name)
        now_state = mapping.state_at(self.now) if mapping else {}
        kind = (f"Type [{md(det.detector_type)}](../types/{det.detector_type}.md)" if det.detector_type else
                "Type not known yet (CALCAT lists no PDU of it)")
        lines = [f"# {md(name)}", "", f"{kind} · "
                 f"instruments {', '.join(md(i) for i in det.instruments)} · experts "
                 f"{', '.join(md(e) for e in det.experts)}"
                 + (f" · [changes feed](../../feeds/{name}.atom) (Atom)" if self.summarize else "")
                 + self.edit_link(f"registry/detectors/{name}.yaml") + self.edit_link(f"registry/mappings/{name}.yaml"),
                 "", "## Modules now" + UNSEARCHED, "",
                 "| slot | aggregator | module | PDU |", "|---|---|---:|---|"]
        for m in det.modules:
            pdu = now_state.get(m.aggregator)
            link = f"[{md(pdu)}](../pdus/{pdu}.md)" if pdu else "(empty)"
            lines.append(f"| {md(m.virtual_device_name)} | {md(m.aggregator)} | {m.module_number} | {link} |")
        # the constants first (their table's newest rows show before the pictures are parsed), then the history
        lines += ["", "## Constants" + UNSEARCHED, "", self._constants(name, rows)]
        lines += ["", "## Mapping timeline" + UNSEARCHED, "", self._timeline(name), "", self._history(name)]
        lines += ["", "## Record a module swap" + UNSEARCHED, "",
                  "Propose a mapping change without a clone: the form checks it like the validator where it can, "
                  "then shows the change to make in the forge.", "", self._swap_form(name)]
        self.write(f"catalog/detectors/{name}.md", "\n".join(lines))
        dtype = reg.detector_types.get(det.detector_type or "")
        self.api(f"detectors/{name}.json", {"detector": det.to_dict(), "mapping": mapping.to_dict() if mapping else None,
                                            "calibrations": list(dtype.calibrations) if dtype else [],
                                            "rules": LookupRules.of(dtype).to_json() if dtype else None,
                                            "ccv_shards": self._shards_for(name), "source": mapping_source(self, name),
                                            "ccv_shards_by_pdu": self._shards_by_pdu(name)})

    def _swap_form(self, name: str) -> str:
        det = self.reg.detectors[name]
        file = f"registry/mappings/{name}.yaml"
        pdus = [p for p, rec in sorted(self.reg.pdus.items()) if rec.detector_type == det.detector_type
                and rec.status != "retired"]
        edit = (f'<a id="swap-edit" href="{escape(self.forge.edit_url(file))}">Open {escape(file)} in the forge\'s '
                "web editor</a>, append it at the end and propose the change (a merge request)."
                if self.forge else "(No forge is configured: set repo_url in the catalog's mkdocs.yml to get a link "
                "to its web editor.)")
        return SWAP_FORM.format(detector=escape(name), file=escape(file), edit=edit,
                                slots="".join(f'<option value="{escape(m.aggregator)}">{escape(m.aggregator)} '
                                              f"({escape(m.virtual_device_name)})</option>" for m in det.modules),
                                pdus="".join(f'<option value="{escape(p)}">{escape(p)}</option>' for p in pdus))

    def edit_link(self, path: str) -> str:
        """' · edit in the forge' for a catalog file, when a forge is configured."""
        return f" · [edit {md(path)} in the forge]({self.forge.edit_url(path)})" if self.forge else ""

    def _constants(self, name: str, rows: list[CCVRow]) -> str:
        if not rows:
            return "No constants."
        det = self.reg.detectors[name]
        mapping = self.reg.mappings.get(name)
        injections = Injections(mapping.periods() if mapping else [])
        injections.add(rows)
        calibrations = (list(self.reg.detector_types[det.detector_type].calibrations)
                        if det.detector_type in self.reg.detector_types else [])
        calibrations += sorted({r.calibration for r in rows} - set(calibrations))
        picture = constants_timeline(injections, calibrations, [m.aggregator for m in det.modules], self.now)
        groups: dict[tuple[str, str], list[CCVRow]] = defaultdict(list)
        for row in rows:
            groups[(row.calibration, row.pdu)].append(row)
        lines = [f"{len(rows)} constants ([reports](../reports/{name}.md); all rows: [JSON shards]"
                 f"(../../api/v1/ccvs/{name}/index.json)).", "", "### All constants" + UNSEARCHED, "",
                 ccv_table(name, rows, mapping), "", "### Constants timeline" + UNSEARCHED, "",
                 "Months with constants injected per module (by begin_at); red: a bad-quality constant that month.",
                 "", picture, "", "### Newest per calibration and PDU" + UNSEARCHED, "",
                 "| calibration | PDU | newest begin_at | count | condition sets |", "|---|---|---|---:|---:|"]
        for (cal, pdu), group in sorted(groups.items())[:PAGE_ROWS]:
            sets = len({self._condition_key(r.conditions) for r in group})
            lines.append(f"| {md(cal)} | [{md(pdu)}](../pdus/{pdu}.md) | "
                         f"{format_timestamp(from_micros(group[-1].begin_at))} | {len(group)} | {sets} |")
        return "\n".join(lines)

    def _timeline(self, name: str) -> str:
        mapping = self.reg.mappings.get(name)
        if mapping is None or not mapping.changes:
            return "No mapping recorded."
        periods = defaultdict(list)
        for period in mapping.periods():
            periods[period.aggregator].append(period)
        rows = [(m.aggregator, periods.get(m.aggregator, [])) for m in self.reg.detectors[name].modules]
        marks = [(e.valid_from, f"backdated by {e.backdated_by}: {e.message}") for e in self._entries(name)
                 if e.backdated]
        return timeline(rows, mapping.changes[0].valid_from - timedelta(days=30), self.now, marks)

    def _entries(self, name: str) -> list[HistoryEntry]:
        if self._history_all is None:
            try:  # one walk of the history for all detectors
                self._history_all = self.catalog.mapping_history()
            except RepositoryError:  # a working tree has no history
                self._history_all = []
        return [e for e in self._history_all if e.detector == name]

    def _history(self, name: str) -> str:
        entries = self._entries(name)
        if not entries:
            return ""
        lines = ["## Change history" + UNSEARCHED, "", "| valid from | slots | commit | committed | author | message |",
                 "|---|---|---|---|---|---|"]
        for e in reversed(entries):
            slots = ", ".join(f"{md(a)}={md(p or '(empty)')}" for a, p in e.modules)
            flag = f" **backdated {md(e.backdated_by)}**" if e.backdated else ""
            lines.append(f"| {format_timestamp(e.valid_from)}{flag} | {slots} | `{e.commit[:10]}` | "
                         f"{format_timestamp(e.committed_at)} | {md(e.author)} | {md(e.message)} |")
        return "\n".join(lines)

    def _shards_for(self, name: str) -> list[str]:
        """Detectors whose CCV shards may hold constants of this detector's PDUs (they moved)."""
        return sorted({d for folders in self._shards_by_pdu(name).values() for d in folders} | {name})

    def _shards_by_pdu(self, name: str) -> dict[str, list[str]]:
        """For each PDU this detector ever held, the detectors whose shards may hold its
        constants (those it was mapped to, and this one): a look-up reads only those of the
        PDUs mapped at its event time."""
        if self._homes is None:
            self._homes = defaultdict(set)
            for det, m in self.reg.mappings.items():
                for change in m.changes:
                    for _, pdu in change.modules:
                        if pdu:
                            self._homes[pdu].add(det)
        mapping = self.reg.mappings.get(name)
        pdus = {p for c in mapping.changes for _, p in c.modules if p} if mapping else set()
        return {pdu: sorted(self._homes[pdu] | {name}) for pdu in sorted(pdus)}

    def lookup_page(self) -> None:
        """The look-up page: the selection rules run in the browser on the static JSON API."""
        deviations = {s: [p.lower_deviation, p.upper_deviation] for p in self.reg.parameters.values()
                      for s in p.spellings}
        self.api("parameters.json", deviations)
        self.write("lookup.md", stamped=True, text=LOOKUP_PAGE.format(commit=md(self.catalog.commit or "working tree"),
                                                   commit_sha=escape(self.catalog.commit or ""),
                                                   condition_hint=escape(self._condition_hint()),
                                                   detectors="".join(f'<option value="{escape(d)}">{escape(d)}</option>'
                                                                     for d in sorted(self.reg.detectors))))

    def _condition_hint(self) -> str:
        """A placeholder for the conditions box: a parameter of this catalog, one per line."""
        spellings = sorted(s for p in self.reg.parameters.values() for s in p.spellings)
        return f"{spellings[0]}=..." if spellings else "parameter=value"

    def _condition_key(self, conditions: dict[str, Any]) -> str:
        """A condition set's JSON text, computed once per (shared) dict."""
        key = self._condition_keys.get(id(conditions))
        if key is None:
            key = self._condition_keys[id(conditions)] = json.dumps(conditions, sort_keys=True)
        return key

    def pdu(self, name: str) -> None:
        pdu = self.reg.pdus[name]
        held = [(det, p) for det, m in sorted(self.reg.mappings.items()) for p in m.periods() if p.pdu == name]
        lines = [f"# {md(name)}", "", f"Type {md(pdu.detector_type)} · uuid {pdu.uuid} · status {md(pdu.status)}"
                 + self.edit_link(f"registry/pdus/{pdu.detector_type}/{name}.yaml"), "",
                 "## Where it has been" + UNSEARCHED, ""]
        if held:
            start = min(p.interval.since for _, p in held) - timedelta(days=30)
            lines.append(timeline([(f"{d[:14]}/{p.aggregator}", [p]) for d, p in held], start, self.now))
            lines += ["", "| detector | slot | from | until |", "|---|---|---|---|"]
            lines += [f"| [{md(d)}](../detectors/{d}.md) | {md(p.aggregator)} | {format_timestamp(p.interval.since)} | "
                      f"{format_timestamp(p.interval.until) if p.interval.until else 'now'} |" for d, p in held]
        else:
            lines.append("Never mapped.")
        lines += ["", "## Constants" + UNSEARCHED, "", f"{self.per_pdu[name]} constants."]
        self.write(f"catalog/pdus/{name}.md", "\n".join(lines))

    def registry_pages(self) -> None:
        reg = self.reg
        spelling = reg.parameter_by_spelling()
        for name, dtype in sorted(reg.detector_types.items()):
            lines = [f"# {md(name)}", "", self.edit_link(f"registry/detector_types/{name}.yaml").lstrip(" ·"), "",
                     "## Calibrations", "", *[f"- {md(c)}" for c in dtype.calibrations], "",
                     "## Parameters", "", "| parameter | unit | lower deviation | upper deviation |", "|---|---|---:|---:|"]
            for par in dtype.parameters:
                rec = spelling.get(par)
                lines.append(f"| {md(par)} | {md(rec.unit) if rec else ''} | {rec.lower_deviation if rec else ''} | "
                             f"{rec.upper_deviation if rec else ''} |")
            dets = [d for d, det in sorted(reg.detectors.items()) if det.detector_type == name]
            lines += ["", "## Detectors", "", *[f"- [{md(d)}](../detectors/{d}.md)" for d in dets]]
            self.write(f"catalog/types/{name}.md", "\n".join(lines))
        lines = ["# Detectors", "", "| detector | type | instruments | modules |", "|---|---|---|---:|"]
        lines += [f"| [{md(n)}](detectors/{n}.md) | {md(d.detector_type) if d.detector_type else 'not known yet'} | "
                  f"{', '.join(md(i) for i in d.instruments)} | {len(d.modules)} |" for n, d in sorted(reg.detectors.items())]
        lines += ["", "# Instruments", "", *[f"- **{md(i)}** {md(r.name)}" for i, r in sorted(reg.instruments.items())]]
        lines += ["", "# Calibrations", "", *[f"- [{md(c)}](calibrations/{c}.md)" + (f": {md(r.description)}"
                                                                                     if r.description else "")
                                               for c, r in sorted(reg.calibrations.items())]]
        lines += ["", "# Parameters", "", *[f"- [{md(p)}](parameters/{p}.md): {', '.join(md(s) for s in r.spellings)}"
                                             for p, r in sorted(reg.parameters.items())]]
        self.write("catalog/index.md", "\n".join(lines))


def generate(catalog: Catalog, out: Path, sources: Path | None = None, summarize: Summarize | None = None,
             pages: dict[str, str] | None = None) -> dict[str, int]:
    """Fill ``out`` with the hand-written ``sources`` and the generated pages, writing only
    files whose content changed and removing the ones no longer generated. With
    ``summarize`` (a commit's change summary, see ``changes``) the recent changes page and
    the Atom feeds are made too; ``pages`` (path → markdown) are added where ``sources``
    has no page of that path (e.g. the CLI reference, for a catalog without its own), and so
    is the guide that ships with calcat-git (``guide/*.md``)."""
    reset(out)
    output = Output(out)
    own = sources if sources is not None and sources.is_dir() else None
    if own is not None:
        output.copy_tree(own)
    defaults = Path(__file__).parent / "defaults"
    output.copy_tree(defaults / "assets", "assets")
    output.copy_tree(defaults / "api-schemas", "api/v1/schemas")
    for kind in ("detector", "pdu", "mapping", "calibration", "parameter"):  # the API's and the edit forms' schemas
        output.put(f"api/v1/schemas/{kind}-entity.json", schema_text(kind))
    shipped = {f"guide/{path.name}": path.read_text("utf-8") for path in sorted(GUIDE.glob("*.md"))}
    for rel, text in {**shipped, **(pages or {})}.items():
        if own is None or not (own / rel).is_file():  # the catalog's own page of that path wins
            output.put(rel, text)
    counts = Site(catalog, output, summarize).build()
    removed = output.finish()
    return {**counts, "files_written": output.written, "files_unchanged": output.unchanged, "files_removed": removed}
