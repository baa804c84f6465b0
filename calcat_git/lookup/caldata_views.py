"""What ``CalibrationData`` offers beyond its look-ups, as EXtra does: choosing modules and
calibrations, merging results, and tables of what was found (for notebooks: markdown and
LaTeX, with links to each constant's page)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from warnings import warn

from calcat_git.lookup.results import SingleConstant, module_labels, prepare_selection


def summarise_module_names(names: list[str]) -> Iterator[list[str]]:
    """Module names like ``LPD03`` grouped into runs: ``[LPD00, LPD01, LPD03]`` →
    ``[LPD00, LPD01]``, ``[LPD03]``."""
    group: list[list[str]] = []
    numbers = re.compile(r"(\d+)")

    def extends(parts: list[str]) -> bool:
        if len(parts) != len(group[0]):
            return False
        differ = [i for i, (a, b) in enumerate(zip(group[-1], parts, strict=True)) if a != b]
        if len(differ) != 1 or differ[0] % 2 == 0:
            return False  # more than one part changed, or a part that is not a number
        at = differ[0]
        if len(group) > 2 and group[-1][at] == group[0][at]:
            return False
        return int(group[-1][at]) + 1 == int(parts[at])

    for name in names:
        parts = numbers.split(name)
        if group and not extends(parts):
            yield ["".join(p) for p in group]
            group = [parts]
        else:
            group.append(parts)
    if group:
        yield ["".join(p) for p in group]


class CalibrationDataViews:
    """Selections, merges and tables of a ``CalibrationData`` (its mix-in)."""

    constant_groups: dict[str, dict[str, SingleConstant]]
    detector: Any

    if TYPE_CHECKING:  # provided by CalibrationData
        @property
        def module_details(self) -> list[dict[str, Any]]: ...

        @property
        def aggregator_names(self) -> list[str]: ...

        @property
        def detector_name(self) -> str: ...

    def _extras(self) -> dict[str, Any]:
        return {}

    def _new(self, groups: dict[str, dict[str, SingleConstant]], detector: Any) -> Any:
        return type(self)(groups, detector, **self._extras())  # type: ignore[call-arg]

    def require_calibrations(self, calibrations: Iterable[str]) -> Any:
        """Only the modules that have every one of ``calibrations``."""
        modules = set(self.aggregator_names)
        for calibration in calibrations:
            modules &= set(self.constant_groups.get(calibration, {}))
        return self.select_modules(aggregator_names=modules)

    def select_modules(self, module_nums: Any = None, *, aggregator_names: Any = None, qm_names: Any = None) -> Any:
        """Only the modules chosen by one of ``module_nums``, ``aggregator_names``, ``qm_names``."""
        chosen = prepare_selection(self.module_details, module_nums, aggregator_names, qm_names)
        groups: dict[str, dict[str, SingleConstant]] = {}
        matched: set[str] = set()
        for calibration, group in self.constant_groups.items():
            groups[calibration] = kept = {a: c for a, c in group.items() if a in chosen}
            matched.update(kept)
        modules = [m for m in self.module_details if m["karabo_da"] in matched]
        return self._new(groups, self.detector._replace_modules(modules))

    def select_calibrations(self, calibrations: Iterable[str]) -> Any:
        """Only ``calibrations``."""
        return self._new({c: self.constant_groups[c] for c in calibrations}, self.detector)

    def merge(self, *others: Any) -> Any:
        """This and ``others`` (of the same detector) together; where they overlap, later
        ones win (a warning when they name different PDUs for one module)."""
        names = {cd.detector_name for cd in (self, *others)}
        if len(names) > 1:
            raise ValueError("Cannot merge calibration data for different detectors: " + ", ".join(sorted(names)))
        modules = {m["karabo_da"]: m for m in self.module_details}
        calibrations = set(self.constant_groups)
        for other in others:
            calibrations.update(other.constant_groups)
            for module in other.module_details:
                known = modules.setdefault(module["karabo_da"], module)
                if known["physical_name"] != module["physical_name"]:
                    warn(f"Merging constants with different modules for {module['karabo_da']}: "
                         f"{known['physical_name']!r} != {module['physical_name']!r}", stacklevel=2)
        groups: dict[str, dict[str, SingleConstant]] = {}
        for calibration in calibrations:
            merged = groups[calibration] = {}
            for source in (self, *others):
                merged.update(source.constant_groups.get(calibration, {}))
        ordered = sorted(modules.values(), key=lambda m: m["karabo_da"])
        return self._new(groups, self.detector._replace_modules(ordered))

    def summary_table(self, module_naming: str = "modnum") -> DisplayTables:
        """Calibrations (columns, at most 4 per table) by module (rows): each constant's
        begin of validity, linked to its page. Renders in Jupyter (markdown, LaTeX)."""
        modules = module_labels(self, module_naming)
        names = sorted(self.constant_groups)
        tables = []
        for group in (names[x:x + 4] for x in range(0, len(names), 4)):
            table: list[list[Any]] = [["Modules", *group]]
            for module in modules:
                row: list[Any] = [str(module)]
                for calibration in group:
                    try:
                        constant = self[calibration, module]  # type: ignore[index]
                    except KeyError:
                        row.append("—")
                        continue
                    when = datetime.fromisoformat(constant.metadata("begin_validity_at")).strftime("%Y-%m-%d %H:%M")
                    url = constant.metadata_dict().get("view_url")
                    row.append((when, url) if url else f"{when} ({constant.ccv_id})")
                table.append(row)
            tables.append(table)
        return DisplayTables(tables)

    def markdown_table(self, module_naming: str = "modnum") -> str:
        """:meth:`summary_table` as markdown."""
        return self.summary_table(module_naming)._repr_markdown_()

    def display_markdown_table(self, module_naming: str = "modnum") -> None:
        """Show :meth:`summary_table` in a Jupyter notebook."""
        from IPython.display import Markdown, display  # a notebook's own package, not calcat-git's

        display(Markdown(self.markdown_table(module_naming=module_naming)))  # type: ignore[no-untyped-call]

    def reports_info(self) -> DisplayTables:
        """The reports of the constants found: calibrations, modules and count per report."""
        by_report: dict[Any, list[tuple[SingleConstant, str, str]]] = {}
        for calibration, group in self.constant_groups.items():
            for module, constant in group.items():
                by_report.setdefault(constant.metadata("report_id"), []).append((constant, calibration, module))
        table: list[list[Any]] = [["Report ID", "Calibration types", "Modules", "# constants"]]
        for report_id, constants in by_report.items():
            details: Any = "(No report)"
            if report_id is not None:
                details = (str(report_id), _report_url(constants[0][0], report_id))
            modules = sorted({m for _, _, m in constants})
            runs = [f"{g[0]}–{g[-1]}" if len(g) > 1 else g[0] for g in summarise_module_names(modules)]
            table.append([details, ", ".join(sorted({c for _, c, _ in constants})), ", ".join(runs),
                          str(len(constants))])
        return DisplayTables([table])


def _report_url(constant: SingleConstant, report_id: Any) -> str | None:
    """A report's page: CALCAT's next to its CCV pages, else the catalog's (``report_view_url``)."""
    meta = constant.metadata_dict()
    view = str(meta.get("view_url") or "")
    if "/calibration_constant_versions/" in view:
        return f"{view.split('/calibration_constant_versions/')[0]}/reports/{report_id}"
    return meta.get("report_view_url") or None


def tex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped."""
    conv = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
            "~": r"\textasciitilde{}", "^": r"\^{}", "\\": r"\textbackslash{}", "<": r"\textless{}",
            ">": r"\textgreater{}", "—": r"\textemdash"}
    pattern = re.compile("|".join(re.escape(k) for k in sorted(conv, key=lambda k: -len(k))))
    return pattern.sub(lambda m: conv[m.group()], text)


class DisplayTables:
    """Tables (lists of rows of cells; a cell is text or a (text, url) link) that render
    in Jupyter as markdown or LaTeX."""

    def __init__(self, tables: list[list[list[Any]]]) -> None:
        self.tables = tables

    @staticmethod
    def _build(table: list[list[Any]], link: Any, escape: Any = lambda s: s) -> list[list[str]]:
        out = []
        for row in table:
            cells = []
            for cell in row:
                text, url = cell if isinstance(cell, tuple) else (cell, None)
                cells.append(escape(text) if url is None else link(escape(text), url))
            out.append(cells)
        return out

    def _render(self, link: Any, tablefmt: str, escape: Any = lambda s: s) -> str:
        from tabulate import tabulate  # type: ignore[import-untyped]  # the xfel extra, an optional package

        return "\n\n".join(tabulate(self._build(t, link, escape), tablefmt=tablefmt, headers="firstrow")
                           for t in self.tables)

    def _repr_markdown_(self) -> str:
        return self._render(lambda text, url: f"[{text}]({url})", "pipe")

    def _repr_latex_(self) -> str:
        return self._render(lambda text, url: rf"\href{{{url}}}{{{text}}}", "latex_raw", tex_escape)
