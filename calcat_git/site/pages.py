"""Site pages of calibrations, parameters and reports (called by ``generate.Site``)."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import Protocol

from calcat_git.files.loading import Registry
from calcat_git.model.selection import CCVRow
from calcat_git.site.markdown import md
from calcat_git.timeutil import format_timestamp, from_micros


class Site(Protocol):
    """What the pages need of the generator: the records, the CCV rows per detector, a writer."""

    reg: Registry
    ccvs: dict[str, list[CCVRow]]

    def write(self, rel: str, text: str) -> None: ...


def report_slug(path: str) -> str:
    """A report's page name: stable, file-system safe, whatever its store path looks like."""
    return "r-" + hashlib.sha256(path.encode()).hexdigest()[:12]


def calibration_pages(site: Site) -> None:
    per = Counter((r.calibration, r.detector) for rows in site.ccvs.values() for r in rows)
    for name, cal in sorted(site.reg.calibrations.items()):
        types = [t for t, dt in sorted(site.reg.detector_types.items()) if name in dt.calibrations]
        lines = [f"# {md(name)}", "", md(cal.description or ""), "", "Detector types: "
                 + ", ".join(f"[{md(t)}](../types/{t}.md)" for t in types), "", "| detector | constants |", "|---|---:|"]
        lines += [f"| [{md(d)}](../detectors/{d}.md) | {n} |" for (c, d), n in sorted(per.items()) if c == name]
        site.write(f"catalog/calibrations/{name}.md", "\n".join(lines))


def parameter_pages(site: Site) -> None:
    for name, par in sorted(site.reg.parameters.items()):
        types = [t for t, dt in sorted(site.reg.detector_types.items()) if set(par.spellings) & set(dt.parameters)]
        lines = [f"# {md(name)}", "", "| spellings | unit | lower deviation | upper deviation |", "|---|---|---:|---:|",
                 f"| {', '.join(md(s) for s in par.spellings)} | {md(par.unit)} | {par.lower_deviation} | "
                 f"{par.upper_deviation} |", "", "Used by: " + ", ".join(f"[{md(t)}](../types/{t}.md)" for t in types)]
        site.write(f"catalog/parameters/{name}.md", "\n".join(lines))


def report_pages(site: Site) -> None:
    """One page per detector listing its reports (reports grow with injections: one page
    each would not scale), each report an anchor."""
    by_report: dict[tuple[str, str], list[CCVRow]] = defaultdict(list)
    for rows in site.ccvs.values():
        for row in rows:
            by_report[(row.detector, row.report_path)].append(row)
    pages: dict[str, list[str]] = defaultdict(list)
    for (detector, path), rows in sorted(by_report.items(), key=lambda kv: -min(r.begin_at for r in kv[1])):
        groups = Counter(r.calibration for r in rows)
        ids = sorted({r.report_id for r in rows if r.report_id is not None})
        pages[detector].append(
            f'| <span id="{report_slug(path)}"></span>{md(path)} | {", ".join(map(str, ids)) or "—"} | '
            f"{format_timestamp(from_micros(min(r.begin_at for r in rows)))} | "
            + ", ".join(f"[{md(c)}](../calibrations/{c}.md) × {n}" for c, n in sorted(groups.items())) + " |")
    for detector, lines in pages.items():
        head = [f"# Reports of {md(detector)}", "", f"[{md(detector)}](../detectors/{detector}.md) · {len(lines)} "
                "reports, newest first", "", "| report | id | first begin_at | constants |", "|---|---|---|---|"]
        site.write(f"catalog/reports/{detector}.md", "\n".join(head + lines))
