"""The "recent changes" page and the Atom feeds (the whole catalog, and one per detector):
each commit's summary as ``calcat-git diff`` writes it, backdated changes marked.

The summary itself is the review app's (a sibling of the site): the entry layer passes it
in as ``summarize(base, head) -> markdown``. Summaries of a commit never change, so each
is kept in the output (``changes/<sha>.txt``) and reused by the next build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Protocol

from calcat_git.files.config import catalog_name
from calcat_git.git.history import Commit
from calcat_git.git.repo import GitRepo
from calcat_git.site.markdown import md
from calcat_git.site.output import Output
from calcat_git.timeutil import format_timestamp

Summarize = Callable[[str, str], str]
WINDOW = 40  # newest catalog commits summarised (the first parses the registry twice, later ones what changed)
PAGE = 20  # entries on the recent changes page and in the whole-catalog feed
BACKDATED = ", backdated "  # how a summary's mapping sentence says so


class Site(Protocol):
    out: Output
    stamp: str

    def write(self, rel: str, text: str, stamped: bool = False) -> None: ...


def detectors_touched(paths: Iterable[str]) -> set[str]:
    """The detectors whose files a change touched (mapping, detector, constants batches)."""
    out = set()
    for path in paths:
        parts = path.split("/")
        if parts[0] == "constants_index" and len(parts) > 2:
            out.add(parts[1])
        elif parts[:2] in (["registry", "mappings"], ["registry", "detectors"]) and len(parts) == 3:
            out.add(parts[2].removesuffix(".yaml"))
    return out


def _summary(site: Site, commit: Commit, summarize: Summarize) -> str:
    rel = f"changes/{commit.sha}.txt"
    kept = site.out.root / rel
    text = kept.read_text("utf-8") if kept.is_file() else summarize(f"{commit.sha}^", commit.sha)
    site.out.put(rel, text)
    return text


def changes_pages(site: Site, repo_path: Path, head: str, detectors: list[str], summarize: Summarize) -> None:
    """``changes.md``, ``feeds/all.atom`` and ``feeds/<detector>.atom``."""
    full = list(GitRepo(repo_path).changed_files(head, ["registry", "constants_index"]))
    entries = [(c, detectors_touched(f.path for f in files)) for c, files in full[1:][-WINDOW:]][::-1]  # newest
    # first; the first commit (the catalog's creation) has no parent to compare with
    texts = {c.sha: _summary(site, c, summarize) for c, _ in entries[:PAGE]}
    for name in detectors:
        for c, touched in entries:
            if name in touched and c.sha not in texts:
                texts[c.sha] = _summary(site, c, summarize)
    lines = ["# Recent changes", "", f"The newest {len(texts)} commits of the catalog, each summarised as "
             "`calcat-git diff` does; **backdated** marks a mapping change that is valid from before it was "
             "committed. Subscribe: [all changes](feeds/all.atom) (Atom), or a detector's feed from its page.", ""]
    for c, touched in entries[:PAGE]:
        flag = " **backdated**" if BACKDATED in texts[c.sha] else ""
        lines += [f"## {format_timestamp(c.committed_at)} `{c.sha[:12]}`{flag}", "",
                  f"{md(c.message)} — {md(c.author)} · " + ", ".join(f"[{md(d)}](catalog/detectors/{d}.md)"
                                                                  for d in sorted(touched) if d in detectors), "",
                  escape(texts[c.sha], quote=False), ""]
    site.write("changes.md", "\n".join(lines), stamped=True)
    title = catalog_name(repo_path)
    _feed(site, "feeds/all.atom", f"{title}: all changes", [c for c, _ in entries[:PAGE]], texts)
    for detector in detectors:
        mine = [c for c, touched in entries if detector in touched]
        _feed(site, f"feeds/{detector}.atom", f"{title}: changes of {detector}", mine, texts)


def _feed(site: Site, rel: str, title: str, commits: list[Commit], texts: dict[str, str]) -> None:
    updated = commits[0].committed_at if commits else datetime(1970, 1, 1, tzinfo=UTC)
    parts = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
             f"<title>{escape(title)}</title>", f"<id>urn:calcat-git:{escape(rel)}</id>",
             f"<updated>{format_timestamp(updated)}</updated>"]
    for c in commits:
        flag = "[backdated] " if BACKDATED in texts[c.sha] else ""
        parts += ["<entry>", f"<title>{escape(flag + c.message)}</title>", f"<id>urn:git:{c.sha}</id>",
                  f"<updated>{format_timestamp(c.committed_at)}</updated>",
                  f"<author><name>{escape(c.author)}</name></author>",
                  f'<link href="../changes/{c.sha}.txt"/>',
                  f'<content type="text">{escape(texts[c.sha])}</content>', "</entry>"]
    parts.append("</feed>")
    site.out.put(rel, "\n".join(parts) + "\n")
