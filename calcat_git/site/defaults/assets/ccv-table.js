// CCV tables that scale: the page holds only the first screen's rows (the newest, those of
// recent.json, written when the page was generated, so they show before any script runs).
// The rest come from the static JSON API's shards (api/v1/ccvs/<detector>/index.json lists
// them by calibration and quarter, with their PDUs and condition sets): a filter fetches
// only the shards that can hold what it asks, newest first, until a page is full. This
// script is loaded right after its table and starts at once (not at DOMContentLoaded, which
// waits for the whole page and the theme). Once it has rendered the first screen itself
// (the same rows) the table gets data-ready. Text is set with textContent only.
(function () {
  "use strict";
  const PAGE = 50;

  async function getJSON(url) {
    const reply = await fetch(url);
    if (!reply.ok) throw new Error(`${url}: HTTP ${reply.status}`);
    return reply.json();
  }

  function cell(row, text, title) {
    const td = document.createElement("td");
    td.textContent = text;
    if (title !== undefined) { td.title = title; td.className = "cond"; }
    row.appendChild(td);
  }

  // The slot a PDU sat in at a time, from the detector's mapping changes.
  function slotOf(changes, pdu, when) {
    let slot = "";
    for (const change of changes) {
      if (Date.parse(change.from) > when) break;
      for (const [agg, held] of Object.entries(change.modules)) {
        if (held === pdu) slot = agg;
        else if (slot === agg) slot = "";
      }
    }
    return slot;
  }

  const valueOf = (v) => (v !== null && typeof v === "object" ? v.value : v);
  const conditionText = (c) => Object.entries(c).map(([k, v]) => `${k}=${valueOf(v)}`).join(", ");
  // A condition in a narrow cell: its values only (names on hover); "〃" when as the row above.
  const SAME = "\u3003";
  const conditionValues = (c) => Object.values(c).map((v) => `${valueOf(v)}`).join(" · ");

  // A shard's packed rows as objects (see calcat_git/catalog/published.py: unpack_shard).
  function unpack(doc, changes) {
    return doc.rows.map((packed) => {
      const r = {};
      doc.columns.forEach((name, i) => { r[name] = packed[i]; });
      r.pdu = doc.pdus[r.pdu];
      r.conditions = doc.conditions[r.condition];
      r.conditionText = conditionText(r.conditions);
      r.module = slotOf(changes, r.pdu, Date.parse(r.begin_at));
      return r;
    });
  }

  function filters(box) {
    const get = (name) => box.querySelector(`[data-filter="${name}"]`).value.trim();
    return { calibration: get("calibration"), pdu: get("pdu").toLowerCase(), module: get("module").toUpperCase(),
             condition: get("condition").toLowerCase(), since: get("since"), until: get("until") };
  }

  const accepts = (f, r) =>
    (!f.calibration || r.calibration === f.calibration) &&
    (!f.pdu || r.pdu.toLowerCase().includes(f.pdu)) &&
    (!f.module || r.module === f.module) &&
    (!f.condition || r.conditionText.toLowerCase().includes(f.condition)) &&
    (!f.since || r.begin_at.slice(0, 10) >= f.since) &&
    (!f.until || r.begin_at.slice(0, 10) <= f.until);

  // The shards that can hold rows the filters accept, newest first.
  function candidates(index, f, slotPdus) {
    const names = (s) => s.pdus.map((i) => index.pdus[i]);
    return index.shards.filter((s) =>
      (!f.calibration || s.calibration === f.calibration) &&
      (!f.since || s.last.slice(0, 10) >= f.since) &&
      (!f.until || s.first.slice(0, 10) <= f.until) &&
      (!f.pdu || names(s).some((p) => p.toLowerCase().includes(f.pdu))) &&
      (!f.module || names(s).some((p) => slotPdus(f.module).has(p))) &&
      (!f.condition || s.conditions.some((i) => conditionText(index.conditions[i]).toLowerCase().includes(f.condition)))
    ).sort((a, b) => (a.last < b.last ? 1 : a.last > b.last ? -1 : 0));
  }

  function show(box, hits, text) {
    const body = box.querySelector("tbody");
    body.replaceChildren();
    let above = null;
    for (const r of hits.slice(0, PAGE)) {
      const tr = document.createElement("tr");
      [r.calibration, r.module, r.pdu, r.begin_at].forEach((t) => cell(tr, t));
      cell(tr, r.conditionText === above ? SAME : conditionValues(r.conditions), r.conditionText);
      above = r.conditionText;
      [r.good_quality ? "yes" : "no", r.ccv_id.slice(0, 12)].forEach((t) => cell(tr, t));
      body.appendChild(tr);
    }
    box.querySelector(".ccv-count").textContent = text;
  }

  const newestFirst = (a, b) => (a.begin_at < b.begin_at ? 1 : a.begin_at > b.begin_at ? -1 :
    a.ccv_id < b.ccv_id ? 1 : -1);

  async function setup(box) {
    if (location.protocol === "file:") {
      box.querySelector(".ccv-count").textContent +=
        " · filters load JSON, which browsers refuse from file://: serve this folder over http(s), " +
        "e.g. python -m http.server";
      return;
    }
    const base = new URL(box.dataset.src, document.baseURI);
    const first = getJSON(new URL("recent.json", base));  // the first screen, asked for at once
    const [index, info] = await Promise.all([getJSON(base), getJSON(new URL(box.dataset.detector, document.baseURI))]);
    const changes = [...(info.mapping ? info.mapping.changes : [])].sort((a, b) => Date.parse(a.from) - Date.parse(b.from));
    const slotPdus = (slot) => new Set(changes.map((c) => c.modules[slot]).filter(Boolean));
    const loaded = new Map([[index.recent, first.then((doc) => unpack(doc, changes))]]);
    const shard = (path) => {
      if (!loaded.has(path)) loaded.set(path, getJSON(new URL(path, base)).then((doc) => unpack(doc, changes)));
      return loaded.get(path);
    };
    const select = box.querySelector('[data-filter="calibration"]');
    for (const name of [...new Set(index.shards.map((s) => s.calibration))].sort()) {
      const option = document.createElement("option");
      option.value = option.textContent = name;
      select.appendChild(option);
    }
    let turn = 0;
    async function update() {
      const mine = ++turn, f = filters(box);
      if (Object.values(f).every((v) => !v)) {
        const rows = (await shard(index.recent)).sort(newestFirst);
        if (mine === turn) show(box, rows, `${index.count} of ${index.count} constants match` +
          (index.count > PAGE ? ` (newest ${PAGE} shown)` : ""));
        return;
      }
      const todo = candidates(index, f, slotPdus);
      let hits = [], searched = 0;
      // newest shards first, until a page is full and no unread shard can hold a newer row
      while (searched < todo.length && (hits.length < PAGE || todo[searched].last >= hits[PAGE - 1].begin_at)) {
        hits = hits.concat((await shard(todo[searched].path)).filter((r) => accepts(f, r))).sort(newestFirst);
        searched += 1;
        if (mine !== turn) return;
      }
      const text = searched === todo.length
        ? `${hits.length} of ${index.count} constants match` + (hits.length > PAGE ? ` (newest ${PAGE} shown)` : "")
        : `newest ${PAGE} matching constants of ${index.count} shown (${searched} of ${todo.length} shards read)`;
      show(box, hits, text);
    }
    const run = () => update().catch((e) => { box.querySelector(".ccv-count").textContent = String(e); });
    box.querySelectorAll("[data-filter]").forEach((el) => el.addEventListener("input", run));
    await update();
    box.dataset.ready = "";
  }

  function start(box) {
    if ("started" in box.dataset) return;  // an older mkdocs.yml may still list this script too
    box.dataset.started = "";
    setup(box).catch((e) => { box.querySelector(".ccv-count").textContent = String(e); });
  }
  document.querySelectorAll(".ccv-table").forEach(start);  // the tables parsed so far: this one's is
  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll(".ccv-table").forEach(start));
})();
