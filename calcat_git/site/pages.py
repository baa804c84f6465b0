"""Site pages of calibrations, parameters and reports (called by ``generate.Site``)."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import Any, Protocol

from calcat_git.files.loading import Registry
from calcat_git.model.selection import CCVRow
from calcat_git.site.markdown import md
from calcat_git.timeutil import format_timestamp, from_micros


class Site(Protocol):
    """What the pages need of the generator: the records and a writer."""

    reg: Registry

    def write(self, rel: str, text: str, stamped: bool = False) -> None: ...

    def edit_link(self, path: str) -> str: ...


def report_slug(path: str) -> str:
    """A report's page name: stable, file-system safe, whatever its store path looks like."""
    return "r-" + hashlib.sha256(path.encode()).hexdigest()[:12]


def calibration_pages(site: Site, per: Counter[tuple[str, str]]) -> None:
    """One page per calibration; ``per`` counts constants by (calibration, detector)."""
    for name, cal in sorted(site.reg.calibrations.items()):
        types = [t for t, dt in sorted(site.reg.detector_types.items()) if name in dt.calibrations]
        lines = [f"# {md(name)}", "", md(cal.description or "") + site.edit_link(f"registry/calibrations/{name}.yaml"),
                 "", "Detector types: "
                 + ", ".join(f"[{md(t)}](../types/{t}.md)" for t in types), "", "| detector | constants |", "|---|---:|"]
        lines += [f"| [{md(d)}](../detectors/{d}.md) | {n} |" for (c, d), n in sorted(per.items()) if c == name]
        site.write(f"catalog/calibrations/{name}.md", "\n".join(lines))


def parameter_pages(site: Site) -> None:
    for name, par in sorted(site.reg.parameters.items()):
        types = [t for t, dt in sorted(site.reg.detector_types.items()) if set(par.spellings) & set(dt.parameters)]
        lines = [f"# {md(name)}", "", "| spellings | unit | lower deviation | upper deviation |", "|---|---|---:|---:|",
                 f"| {', '.join(md(s) for s in par.spellings)} | {md(par.unit)} | {par.lower_deviation} | "
                 f"{par.upper_deviation} |", "", "Used by: " + ", ".join(f"[{md(t)}](../types/{t}.md)" for t in types)
                 + site.edit_link(f"registry/parameters/{name}.yaml")]
        site.write(f"catalog/parameters/{name}.md", "\n".join(lines))


def report_page(site: Site, detector: str, rows: list[CCVRow]) -> None:
    """The page listing a detector's reports, newest first, each an anchor (reports grow with
    injections: one page each would not scale)."""
    by_report: dict[str, list[CCVRow]] = defaultdict(list)
    for row in rows:
        by_report[row.report_path].append(row)
    lines = []
    for path, group in sorted(by_report.items(), key=lambda kv: -kv[1][0].begin_at):  # rows are by begin_at
        groups = Counter(r.calibration for r in group)
        ids = sorted({r.report_id for r in group if r.report_id is not None})
        lines.append(f'| <span id="{report_slug(path)}"></span>{md(path)} | {", ".join(map(str, ids)) or "—"} | '
                     f"{format_timestamp(from_micros(group[0].begin_at))} | "
                     + ", ".join(f"[{md(c)}](../calibrations/{c}.md) × {n}" for c, n in sorted(groups.items())) + " |")
    if not lines:
        return
    head = ["---", "search:", "  exclude: true  # thousands of rows: most of the theme's search index, loaded on every "
            "page", "---", "", f"# Reports of {md(detector)}", "", f"[{md(detector)}](../detectors/{detector}.md) · {len(lines)} "
            "reports, newest first", "", "| report | id | first begin_at | constants |", "|---|---|---|---|"]
    site.write(f"catalog/reports/{detector}.md", "\n".join(head + lines))


def sets_page(site: Site, sets: list[dict[str, Any]]) -> None:
    """The published sets (git tags): name, commit, its time, state and message."""
    lines = ["# Published sets", "", "Each set is the catalog at one commit, published with `calcat-git tag`; look up "
             "against one with `--snapshot-at NAME`, `Catalog.at(\"NAME\")` or a server URL `/at/NAME/` "
             "(see the guide's *Published sets*).", ""]
    if not sets:
        lines.append("No set is published yet.")
    else:
        lines += ["| set | commit | committed | state | message |", "|---|---|---|---|---|"]
        for s in sets:
            state = f"invalid since {s['invalid']['invalidated_at']}: {md(s['invalid']['reason'])}" if "invalid" in s \
                else s["state"]
            lines.append(f"| {md(s['name'])} | `{s['commit'][:12]}` | {s['committed_at']} | {state} | "
                         f"{md(s['message'])} |")
    site.write("sets.md", "\n".join(lines))  # not stamped: it changes only when the sets do
