// "Record a module swap" on a detector page: checks in the browser what the validator
// would check (the time has a zone and follows the mapping's newest change, the PDU exists,
// is active, of the detector's type, and sits in no other detector's slot from then on),
// then writes the mapping file as `calcat-git swap` writes it (a PDU that sits in another
// slot of this detector leaves it in the same change), shows the change, the equivalent
// command and the forge's web editor for the file (assets/propose.js). Nothing is sent anywhere.
(function () {
  "use strict";
  const box = document.getElementById("swap");
  if (!box) return;
  const $ = (id) => document.getElementById(id);
  const api = (path) => fetch(new URL("../../api/v1/" + path, document.baseURI)).then((r) => {
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  });
  const ZONED = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;

  // Each period a PDU sat in a slot of one mapping: [slot, since, until or Infinity].
  function periodsOf(mapping, pdu) {
    const out = [], held = {};
    const changes = [...(mapping ? mapping.changes : [])].sort((a, b) => Date.parse(a.from) - Date.parse(b.from));
    for (const change of changes) {
      const at = Date.parse(change.from);
      for (const [slot, now] of Object.entries(change.modules)) {
        if (held[slot] === pdu) out[out.length - 1][2] = at;
        if (now === pdu) out.push([slot, at, Infinity]);
        held[slot] = now;
      }
    }
    return out;
  }

  async function problems(detector, slot, pdu, when, reason, moved) {
    const found = [];
    if (!ZONED.test(when)) return ["give the time with its zone, e.g. 2025-01-10T08:00:00+01:00 or …Z"];
    const at = Date.parse(when);
    const [pdus, detectors, mine] = await Promise.all([api("pdus.json"), api("detectors.json"),
                                                      api(`detectors/${detector}.json`)]);
    const newest = Math.max(...(mine.mapping ? mine.mapping.changes.map((c) => Date.parse(c.from)) : [-Infinity]));
    if (at <= newest) found.push(`the time must follow the mapping's newest change (${new Date(newest).toISOString()})`);
    const record = pdus[pdu];
    if (!record) found.push(`PDU ${pdu} is not in the catalog`);
    else if (record.detector_type !== mine.detector.detector_type) {
      found.push(`PDU ${pdu} is a ${record.detector_type}, the detector a ${mine.detector.detector_type}`);
    } else if (record.status === "retired") found.push(`PDU ${pdu} is retired`);
    if (!reason.trim()) found.push("give a reason (it is the change's record)");
    const sameType = Object.keys(detectors).filter((d) => detectors[d].detector_type === mine.detector.detector_type);
    const infos = await Promise.all(sameType.map((d) => (d === detector ? Promise.resolve(mine) : api(`detectors/${d}.json`))));
    sameType.forEach((d, i) => {
      for (const [where, since, until] of periodsOf(infos[i].mapping, pdu)) {
        const last = Math.max(...(infos[i].mapping ? infos[i].mapping.changes.map((c) => Date.parse(c.from)) : [-Infinity]));
        if (d === detector && where !== slot && since <= at && until > at) {
          moved.here.push(where);  // it leaves that slot in the same change, as with `calcat-git swap`
        } else if (d !== detector && since <= at && until === Infinity && last < at) {
          moved.there.push([d, where, infos[i].source]);  // and a change appended to that detector's mapping
        } else if (until > at && !(d === detector && where === slot && since <= at)) {
          const end = until === Infinity ? "on" : `until ${new Date(until).toISOString()}`;
          found.push(`PDU ${pdu} sits in ${d} ${where} from ${new Date(since).toISOString()} ${end}`);
        } else if (d === detector && where === slot && until > at) {
          found.push(`PDU ${pdu} is already in ${slot} then`);
        }
      }
    });
    return found;
  }

  // The time as the CLI writes it: UTC, Z, microseconds only if any.
  function utc(when) {
    const iso = new Date(Date.parse(when)).toISOString();
    return iso.endsWith(".000Z") ? iso.replace(".000Z", "Z") : iso.replace(/\.(\d{3})Z$/, ".$1000Z");
  }

  function change(slots, when, reason) {
    return [`  - from: "${utc(when)}"`, "    " + window.CalcatPropose.entry("reason", reason, Infinity), "    modules:",
            ...Object.entries(slots).map(([slot, pdu]) => `      ${slot}: ${pdu || "null"}`)].join("\n") + "\n";
  }

  $("swap-check").addEventListener("click", async () => {
    const detector = box.dataset.detector, slot = $("swap-slot").value, pdu = $("swap-pdu").value;
    const when = $("swap-from").value.trim(), reason = $("swap-reason").value;
    const list = $("swap-problems");
    list.replaceChildren();
    $("swap-result").hidden = true;
    let found;
    const moved = {here: [], there: []};
    try {
      if (/\.\d{4,}/.test(when) && !/\.\d{3}0+(Z|[+-])/.test(when)) throw new Error("give the time to the millisecond");
      found = await problems(detector, slot, pdu, when, reason, moved);
    } catch (e) {
      found = [String(e)];
    }
    for (const text of found) {
      const li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    }
    if (found.length) return;
    const slots = {[slot]: pdu};
    for (const where of moved.here) slots[where] = null;
    const yaml = change(slots, when, reason), file = `registry/mappings/${detector}.yaml`;
    $("swap-yaml").textContent = yaml;
    const [mine, edit] = await Promise.all([api(`detectors/${detector}.json`), api("edit.json")]);
    const old = mine.source.text, start = old === null ? `detector: ${detector}\nchanges:\n` : old;
    const after = (text, added) => text + (text.endsWith("\n") ? "" : "\n") + added;
    const files = [{path: mine.source.file, old, content: after(start, yaml)}];
    for (const [other, where, source] of moved.there) {
      if (source.text === null) throw new Error(`${source.file} could not be read`);
      files.push({path: source.file, old: source.text,
                  content: after(source.text, change({[where]: null}, when, `${pdu} to ${detector}: ${reason}`))});
      $("swap-yaml").textContent += `# and in ${source.file} (${pdu} leaves ${other} ${where}):\n` +
        change({[where]: null}, when, `${pdu} to ${detector}: ${reason}`);
    }
    window.CalcatPropose.show($("swap-files"), files, edit.forge, `swap-${detector}-${slot}`);
    const quote = (text) => `'${String(text).replace(/'/g, "'\\''")}'`;
    $("swap-command").textContent = [
      `calcat-git swap ${detector} ${slot}=${pdu} --from ${quote(when)} --reason ${quote(reason)} ` +
        `--branch swap-${detector}-${slot}`,
      "calcat-git diff main",
      `# or by hand: append the YAML above to ${file}, then: calcat-git validate && calcat-git diff main`].join("\n");
    $("swap-result").hidden = false;
  });
})();
