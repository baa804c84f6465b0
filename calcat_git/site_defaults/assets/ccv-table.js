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

  function render(box, rows) {
    const get = (name) => box.querySelector(`[data-filter="${name}"]`).value.trim();
    const calibration = get("calibration"), pdu = get("pdu").toLowerCase();
    const since = get("since"), until = get("until");
    const hits = rows.filter((r) =>
      (!calibration || r.calibration === calibration) &&
      (!pdu || r.pdu.toLowerCase().includes(pdu)) &&
      (!since || r.begin_at.slice(0, 10) >= since) &&
      (!until || r.begin_at.slice(0, 10) <= until));
    const body = box.querySelector("tbody");
    body.replaceChildren();
    for (const r of hits.slice(-PAGE).reverse()) {
      const tr = document.createElement("tr");
      [r.calibration, r.pdu, r.begin_at, r.good_quality ? "yes" : "no", r.ccv_id.slice(0, 12)].forEach((t) => cell(tr, t));
      body.appendChild(tr);
    }
    box.querySelector(".ccv-count").textContent =
      `${hits.length} of ${rows.length} constants match` + (hits.length > PAGE ? ` (newest ${PAGE} shown)` : "");
  }

  async function setup(box) {
    const rows = await (await fetch(box.dataset.src)).json();
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
