// CCV tables that scale: the page holds no rows; they come from the static JSON API
// (api/v1/ccvs/<detector>.json) and are filtered here. Text is set with textContent only.
(function () {
  "use strict";
  const PAGE = 50;

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
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

  const conditionText = (c) => Object.entries(c).map(([k, v]) =>
    `${k}=${v !== null && typeof v === "object" ? v.value : v}`).join(", ");

  function render(box, rows) {
    const get = (name) => box.querySelector(`[data-filter="${name}"]`).value.trim();
    const calibration = get("calibration"), pdu = get("pdu").toLowerCase(), module = get("module").toUpperCase();
    const condition = get("condition").toLowerCase(), since = get("since"), until = get("until");
    const hits = rows.filter((r) =>
      (!calibration || r.calibration === calibration) &&
      (!pdu || r.pdu.toLowerCase().includes(pdu)) &&
      (!module || r.module === module) &&
      (!condition || r.conditionText.toLowerCase().includes(condition)) &&
      (!since || r.begin_at.slice(0, 10) >= since) &&
      (!until || r.begin_at.slice(0, 10) <= until));
    const body = box.querySelector("tbody");
    body.replaceChildren();
    for (const r of hits.slice(-PAGE).reverse()) {
      const tr = document.createElement("tr");
      [r.calibration, r.module, r.pdu, r.begin_at, r.conditionText, r.good_quality ? "yes" : "no",
       r.ccv_id.slice(0, 12)].forEach((t) => cell(tr, t));
      body.appendChild(tr);
    }
    box.querySelector(".ccv-count").textContent =
      `${hits.length} of ${rows.length} constants match` + (hits.length > PAGE ? ` (newest ${PAGE} shown)` : "");
  }

  async function setup(box) {
    if (location.protocol === "file:") {
      box.querySelector(".ccv-count").textContent =
        "Constant tables load JSON, which browsers refuse from file://: serve this folder over http(s), " +
        "e.g. python -m http.server";
      return;
    }
    const [rows, info] = await Promise.all([fetch(box.dataset.src).then((r) => r.json()),
                                            fetch(box.dataset.detector).then((r) => r.json())]);
    const changes = [...(info.mapping ? info.mapping.changes : [])].sort((a, b) => Date.parse(a.from) - Date.parse(b.from));
    for (const r of rows) {
      r.module = slotOf(changes, r.pdu, Date.parse(r.begin_at));
      r.conditionText = conditionText(r.conditions);
    }
    const select = box.querySelector('[data-filter="calibration"]');
    for (const name of [...new Set(rows.map((r) => r.calibration))].sort()) {
      const option = document.createElement("option");
      option.value = option.textContent = name;
      select.appendChild(option);
    }
    box.querySelectorAll("[data-filter]").forEach((el) => el.addEventListener("input", () => render(box, rows)));
    render(box, rows);
  }

  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll(".ccv-table").forEach(setup));
})();
