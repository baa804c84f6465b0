// The look-up page: the selection rules of calcat_git/model/selection.py, run in the browser
// on the static JSON API, reading only the CCV shards near the event that can hold a
// candidate. The address (#detector=…&event=…&strategy=…&c=Name=value…) is a
// permalink; a test compares this page with the Python API on many queries.
(function () {
  "use strict";
  const box = document.getElementById("lookup");
  if (!box) return;
  if (location.protocol === "file:") {
    document.getElementById("lk-status").textContent =
      "This page reads the site's JSON, which browsers refuse from file://: serve the folder over http(s).";
    return;
  }
  const api = (path) => fetch(new URL("api/v1/" + path, document.baseURI)).then((r) => r.json());
  const time = (text) => Date.parse(text);
  const $ = (id) => document.getElementById(id);

  function unpack(raw, dflt) {
    if (raw !== null && typeof raw === "object") {
      return [raw.value, raw.lower_deviation ?? dflt[0], raw.upper_deviation ?? dflt[1]];
    }
    return [raw, dflt[0], dflt[1]];
  }

  function mismatch(stored, asked, deviations) {
    for (const k of Object.keys(asked).sort()) if (!(k in stored)) return `constant has no '${k}'`;
    for (const k of Object.keys(stored).sort()) if (!(k in asked)) return `constant also has '${k}'`;
    for (const [k, want] of Object.entries(asked)) {
      const [value, lower, upper] = unpack(stored[k], deviations[k] || [0, 0]);
      if (typeof want === "string" || typeof value === "string") {
        if (String(value) !== String(want)) return `${k}: asked ${want}, constant has ${value}`;
      } else if (!(value - lower <= want && want <= value + upper)) {
        return `${k}: asked ${want}, constant has ${value} (-${lower}/+${upper})`;
      }
    }
    return null;
  }

  const usable = (r, event) => r.good_quality && r.deployed && !(r.end_at && time(r.end_at) <= event);

  function choose(rows, event, strategy) {
    let best = null;
    for (const r of rows) {
      const b = time(r.begin_at);
      if (strategy === "prior") {
        if (b > event) continue;
        if (!best || b > time(best.begin_at) || (b === time(best.begin_at) && r.ccv_id > best.ccv_id)) best = r;
      } else {
        const d = Math.abs(b - event), bd = best && Math.abs(time(best.begin_at) - event);
        if (!best || d < bd || (d === bd && (b < time(best.begin_at) ||
            (b === time(best.begin_at) && r.ccv_id > best.ccv_id)))) best = r;
      }
    }
    return best;
  }

  function mappingAt(mapping, event) {
    const state = {};
    const changes = [...(mapping ? mapping.changes : [])].sort((a, b) => time(a.from) - time(b.from));
    for (const change of changes) if (time(change.from) <= event) Object.assign(state, change.modules);
    return state;
  }

  // NAME=VALUE lines as given (text): the rules below read them.
  function parseConditions(text) {
    const given = {};
    for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const at = line.indexOf("=");
      if (at < 1) throw new Error(`not NAME=VALUE: ${line}`);
      given[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    return given;
  }

  // The one normalisation of an asked condition: calcat_git/lookup/rules.py (LookupRules.asked),
  // step for step, on the rules the site's JSON carries (LookupRules.to_json), with the same
  // messages (without the "did you mean" hints).
  const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;  // rules.py: NUMERIC_TEXT
  const NONE_TEXTS = ["None", "none", "null"];
  const OPEN = "number or text";
  const keyword = (name) => name.trim().toLowerCase().replace(/[\s_]+/g, "_");
  const pyRepr = (t) => (t.includes("'") && !t.includes('"') ? `"${t}"`
    : `'${t.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`);

  function number(rule, raw, shown) {
    if (!Number.isFinite(raw)) throw new Error(`${shown} is not a finite number`);
    if (rule.kind === "text") throw new Error(`${shown} is a number; ${rule.name} takes text`);
    if (rule.kind === "boolean" && raw !== 0 && raw !== 1) throw new Error(`${shown} is not true or false`);
    if (rule.kind === "integer" && !Number.isInteger(raw)) throw new Error(`${shown} is not an integer`);
    return raw;
  }

  function valueOf(rule, raw) {  // rules.py: value_of (null: left out)
    const open = rule.kind === OPEN;
    if (typeof raw === "string" && NONE_TEXTS.includes(raw.trim()) && (rule.allows_none || open)) raw = null;
    if (raw === null) {
      if (rule.allows_none || open) return null;
      throw new Error("None is not allowed (the parameter is required)");
    }
    if (typeof raw === "boolean") {
      if (rule.kind !== "boolean") throw new Error(`${raw ? "True" : "False"} is not a ${rule.kind}`);
      return raw ? 1 : 0;
    }
    if (typeof raw === "number") return number(rule, raw, pyRepr(String(raw)));
    const text = raw.trim();
    if (rule.kind === "text") return text;
    const lower = text.toLowerCase();
    if (rule.kind === "boolean" && ["true", "yes", "false", "no"].includes(lower)) return ["true", "yes"].includes(lower) ? 1 : 0;
    if (NUMERIC.test(text)) return number(rule, Number(text), pyRepr(text));
    if (open) return text;
    throw new Error(`${pyRepr(text)} is not ${rule.kind === "boolean" ? "true or false" : "a number"}`);
  }

  function normalise(rules, given, wanted) {  // rules.py: LookupRules.asked → {calibration: asked}
    const type = rules.detector_type, known = rules.calibrations.map(([c]) => c);
    const byKeyword = new Map(rules.parameters.map((p) => [keyword(p.name), p]));
    const problems = [], found = new Map(), seen = new Set();
    for (const [name, raw] of Object.entries(given)) {
      const rule = byKeyword.get(keyword(name));
      if (!rule) { problems.push(`unknown ${pyRepr(name)}`); continue; }
      if (seen.has(rule.name)) { problems.push(`${rule.name} is given twice`); continue; }
      seen.add(rule.name);
      try { found.set(rule.name, valueOf(rule, raw)); } catch (e) { problems.push(`${rule.name}: ${e.message}`); }
    }
    const missing = rules.parameters.filter((p) => p.required && !seen.has(p.name)).map((p) => pyRepr(p.name));
    if (missing.length) problems.push("missing " + missing.join(", "));
    for (const p of rules.parameters) if (!found.has(p.name) && p.default !== null) found.set(p.name, valueOf(p, p.default));
    if (problems.length) {
      throw new Error(`${type} conditions: ${problems.join("; ")} (parameters: ` +
        `${rules.parameters.map((p) => p.name).join(", ") || "none"}; \`calcat-git conditions ${type}\` lists them with defaults)`);
    }
    const names = wanted.length ? wanted : known;  // the conditions first, then the calibrations
    for (const c of names) {
      if (!known.includes(c)) throw new Error(`${type} has no calibration ${pyRepr(c)} (it has ${known.join(", ") || "none"})`);
    }
    const legacy = new Map(rules.parameters.filter((p) => p.legacy !== null).map((p) => [p.name, p.legacy]));
    const lists = new Map(rules.calibrations);
    const asks = {};
    for (const c of names) {
      const params = lists.get(c) || rules.parameters.map((p) => p.name);
      asks[c] = {};
      for (const p of params) {
        const v = found.get(p);
        if (v === undefined || v === null) continue;
        if (legacy.has(p) && typeof v !== "string" && typeof legacy.get(p) !== "string" && Number(legacy.get(p)) === v) continue;
        asks[c][p] = v;
      }
    }
    return asks;
  }

  function row(cells, data) {
    const tr = document.createElement("tr");
    Object.assign(tr.dataset, data);
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    $("lk-result").querySelector("tbody").appendChild(tr);
  }

  // A shard's packed rows as objects (see calcat_git/catalog/published.py: unpack_shard).
  function unpackShard(doc) {
    return doc.rows.map((packed) => {
      const r = {};
      doc.columns.forEach((name, i) => { r[name] = packed[i]; });
      r.pdu = doc.pdus[r.pdu];
      r.conditions = doc.conditions[r.condition];
      return r;
    });
  }

  // The shards of one calibration that may hold a candidate: they have one of ``pdus`` and
  // a condition set matching the question (the shard indexes say so before any is read).
  function shardsOf(indexes, calibration, pdus, matches) {
    const out = [];
    for (const { folder, index } of indexes) {
      const ok = index.conditions.map(matches);
      for (const s of index.shards) {
        if (s.calibration === calibration && s.pdus.some((i) => pdus.has(index.pdus[i])) &&
            s.conditions.some((i) => ok[i])) {
          out.push({ path: `ccvs/${folder}/${s.path}`, first: time(s.first), last: time(s.last),
                     pdus: new Set(s.pdus.map((i) => index.pdus[i]).filter((p) => pdus.has(p))) });
        }
      }
    }
    return out;
  }

  // Reads shards nearest to the event, outwards, until each PDU's nearest fitting row
  // before (and, for 'closest', after) the event is known: a shard is read only if it has
  // a PDU for which it could hold a nearer row than the ones read so far. Returns the rows.
  async function nearRows(shards, event, strategy, fits, read) {
    const rows = [], prior = new Map(), next = new Map();
    const add = (found) => {
      for (const r of found) {
        rows.push(r);
        if (!fits(r)) continue;
        const b = time(r.begin_at);
        if (b <= event) prior.set(r.pdu, Math.max(prior.get(r.pdu) ?? -Infinity, b));
        else next.set(r.pdu, Math.min(next.get(r.pdu) ?? Infinity, b));
      }
    };
    const before = shards.filter((s) => s.first <= event)
      .map((s) => ({ ...s, key: Math.min(s.last, event) })).sort((a, b) => b.key - a.key);
    const after = strategy === "prior" ? [] : shards.filter((s) => s.last > event)
      .map((s) => ({ ...s, key: Math.max(s.first, event) })).sort((a, b) => a.key - b.key);
    const seen = new Set();
    for (const [side, nearest, nearer] of [[before, prior, (b, key) => b <= key], [after, next, (b, key) => b >= key]]) {
      for (const s of side) {
        if (seen.has(s.path) || ![...s.pdus].some((p) => !nearest.has(p) || nearer(nearest.get(p), s.key))) continue;
        seen.add(s.path);
        add(await read(s.path));
      }
    }
    return rows;
  }

  async function run() {
    const name = $("lk-detector").value, strategy = $("lk-strategy").value, event = time($("lk-event").value);
    $("lk-result").querySelector("tbody").replaceChildren();
    $("lk-status").textContent = "running …";
    if (isNaN(event)) { $("lk-status").textContent = "give the RAW data time as ISO-8601 with Z"; return; }
    const given = parseConditions($("lk-conditions").value);
    const wanted = $("lk-calibrations").value.split(",").map((c) => c.trim()).filter(Boolean);
    const [info, deviations] = await Promise.all([api(`detectors/${name}.json`), api("parameters.json")]);
    let asks;
    try {
      asks = info.rules ? normalise(info.rules, given, wanted) : {};
    } catch (e) {
      $("lk-status").textContent = `refused: ${e.message}`;
      box.dataset.answered = location.hash;  // for scripts (and tests) waiting on the answer
      return;
    }
    const calibrations = Object.keys(asks);
    const slots = mappingAt(info.mapping, event);
    const pdus = new Set(Object.values(slots).filter(Boolean));
    const byPdu = info.ccv_shards_by_pdu || {};  // only the shard folders of the PDUs mapped then
    const folders = [...new Set([name, ...[...pdus].flatMap((p) => byPdu[p] || info.ccv_shards)])];
    const indexes = await Promise.all(folders.map((folder) =>
      api(`ccvs/${folder}/index.json`).then((index) => ({ folder, index })).catch(() => null)));
    const present = indexes.filter(Boolean);
    const cache = new Map();
    const read = (path) => {
      if (!cache.has(path)) cache.set(path, api(path).then(unpackShard));
      return cache.get(path);
    };
    const results = await Promise.all(calibrations.map((calibration) => {
      const asked = asks[calibration];
      const matches = (c) => mismatch(c, asked, deviations) === null;
      const fits = (r) => r.calibration === calibration && pdus.has(r.pdu) && usable(r, event) && matches(r.conditions);
      return nearRows(shardsOf(present, calibration, pdus, matches), event, strategy, fits, read);
    }));
    let found = 0;
    calibrations.forEach((calibration, n) => {
      const rows = results[n], asked = asks[calibration];
      const known = shardsOf(present, calibration, pdus, () => true);  // any condition
      for (const module of info.detector.modules) {
        const pdu = slots[module.aggregator] || null;
        const candidates = rows.filter((r) => r.pdu === pdu && r.calibration === calibration);
        const matching = candidates.filter((r) => mismatch(r.conditions, asked, deviations) === null);
        const best = pdu && choose(matching.filter((r) => usable(r, event)), event, strategy);
        const why = !pdu ? "no PDU mapped" : best ? `${strategy}: ${((time(best.begin_at) - event) / 3.6e6).toFixed(1)} h`
          : !known.some((s) => s.pdus.has(pdu)) ? "no constant of this calibration"
          : !matching.length ? "no constant for these conditions" : "none usable";
        row([calibration, module.aggregator, pdu || "", best ? best.ccv_id.slice(0, 12) : "", best ? best.begin_at : "", why],
            { cal: calibration, agg: module.aggregator, ccv: best ? best.ccv_id : "" });
        found += best ? 1 : 0;
      }
    });
    $("lk-status").textContent = `done: ${found} constants` + (box.dataset.note || "");
    box.dataset.answered = location.hash;
  }

  function fromHash() {
    const q = new URLSearchParams(location.hash.slice(1));
    if (!q.has("detector")) return false;
    $("lk-detector").value = q.get("detector");
    $("lk-event").value = q.get("event") || "";
    $("lk-strategy").value = q.get("strategy") || "closest";
    $("lk-conditions").value = q.getAll("c").join("\n");
    $("lk-calibrations").value = q.getAll("cal").join(", ");
    box.dataset.note = q.get("commit") && q.get("commit") !== box.dataset.commit
      ? ` (this link was made on catalog commit ${q.get("commit").slice(0, 12)}; this site shows ` +
        `${box.dataset.commit.slice(0, 12)}: answers may differ)` : "";
    return true;
  }

  $("lk-go").addEventListener("click", () => {
    const q = new URLSearchParams({ detector: $("lk-detector").value, event: $("lk-event").value,
                                    strategy: $("lk-strategy").value, commit: box.dataset.commit });
    $("lk-conditions").value.split("\n").map((l) => l.trim()).filter(Boolean).forEach((c) => q.append("c", c));
    $("lk-calibrations").value.split(",").map((c) => c.trim()).filter(Boolean).forEach((c) => q.append("cal", c));
    history.replaceState(null, "", "#" + q.toString());
    run().catch((e) => { $("lk-status").textContent = String(e); });
  });
  window.addEventListener("hashchange", () => fromHash() && run().catch((e) => { $("lk-status").textContent = String(e); }));
  if (fromHash()) run().catch((e) => { $("lk-status").textContent = String(e); });
})();
