// "Flag a constant" on the Propose a change page: finds the CCV by integer or content id
// (api/v1/flag-index), sets its flag in its batch file and appends {at, flag, reason} to its
// `flagged` list line by line, as `calcat-git flag` does (assets/propose.js shows the change).
(function () {
  "use strict";
  const P = window.CalcatPropose;
  const $ = (id) => document.getElementById(id);
  const FLAGS = {"bad-quality": ["good_quality", false], "good-quality": ["good_quality", true],
                 "not-deployed": ["deployed", false], "deployed": ["deployed", true]};

  async function find(name) {
    let id = name.toLowerCase();
    const shards = await P.api("api/v1/flag-index/index.json");
    const shard = (kind, part, file) => (shards[kind].includes(part) ? P.api(`api/v1/flag-index/${file}`) : {});
    if (/^\d+$/.test(name)) {
      const part = String(Number(BigInt(name) % 64n)), ids = await shard("ints", part, `int-${part}.json`);
      if (!ids[name]) throw new Error(`no CCV with integer id ${name} in the catalog`);
      id = ids[name];
    } else if (!/^[0-9a-f]{8,64}$/.test(id)) {
      throw new Error(`'${name}' is neither a CCV's integer id nor its content id (8 to 64 hex digits)`);
    }
    const found = await shard("ids", id.slice(0, 2), `${id.slice(0, 2)}.json`);
    const hits = Object.keys(found).filter((k) => k.startsWith(id));
    if (hits.length !== 1) {
      throw new Error(hits.length ? `content id ${name} names ${hits.length} CCVs: give more of its digits`
        : `no CCV with content id ${name}`);
    }
    return {ccv_id: hits[0], ...found[hits[0]]};
  }

  const value = (line) => line.replace(/^[^:]*:\s*/, "").replace(/\s+#.*$/, "").replace(/^"(.*)"$/, "$1").trim();

  // The batch text with the CCV's ``key`` set and ``entry`` appended to its flagged list.
  function flagged(text, ccv, key, flag, entry) {
    const lines = text.split(/(?<=\n)/);
    const items = [];
    lines.forEach((line, i) => { if (/^ {2}- /.test(line)) items.push(i); });
    const start = items.find((at, n) => {
      const end = n + 1 < items.length ? items[n + 1] : lines.length;
      const block = lines.slice(at, end);
      return block.some((l) => /^\s*(- )?dataset:/.test(l) && value(l) === ccv.dataset) &&
        block.some((l) => /^\s*(- )?file:/.test(l) && value(l) === ccv.file);
    });
    if (start === undefined) throw new Error(`${ccv.batch}: its layout is not the usual one: use \`calcat-git flag\``);
    const n = items.indexOf(start), block = () => [start, n + 1 < items.length ? items[n + 1] : lines.length];
    const at = (re) => { const [a, b] = block(); for (let i = a; i < b; i++) if (re.test(lines[i])) return i; return -1; };
    const data = at(/^\s*(- )?dataset:/), indent = " ".repeat(lines[data].indexOf("dataset"));
    const keyRe = new RegExp(`^${indent}${key}:\\s*(true|false)`);
    let keyAt = at(keyRe);
    if (keyAt >= 0) lines[keyAt] = lines[keyAt].replace(/(:\s*)(true|false)/, `$1${flag}`);
    else lines.splice((keyAt = data + 1), 0, `${indent}${key}: ${flag}\n`);
    const item = `- ${entry}\n`, head = at(new RegExp(`^${indent}flagged:`));
    if (head < 0) {
      lines.splice(keyAt + 1, 0, `${indent}flagged:\n`, `${indent}  ${item}`);
    } else {
      let last = head;
      while (last + 1 < lines.length && /^\s+- /.test(lines[last + 1]) &&
             lines[last + 1].length - lines[last + 1].trimStart().length > indent.length) last++;
      if (last === head || lines[head].trim() !== "flagged:") {
        throw new Error(`${ccv.batch}: its flagged list is laid out unusually: use \`calcat-git flag\``);
      }
      lines.splice(last + 1, 0, lines[last].slice(0, lines[last].length - lines[last].trimStart().length) + item);
    }
    return lines.join("");
  }

  $("flag-form").querySelector("button").addEventListener("click", async () => {
    const list = $("flag-problems"), box = $("flag-result");
    box.hidden = true;
    const found = [];
    try {
      const name = $("flag-ccv").value.trim(), which = $("flag-which").value, reason = $("flag-reason").value;
      if (!reason.trim()) throw new Error("give the reason, in a few words (kept in the batch file)");
      const [key, flag] = FLAGS[which];
      const ccv = await find(name);
      if (ccv[key] === flag) throw new Error(`CCV ${ccv.ccv_id.slice(0, 12)} (${ccv.calibration}, ${ccv.pdu}) is ${which} already`);
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      const entry = `{at: ${P.str(at, true)}, ${key}: ${flag}, reason: ${P.str(reason, true)}}`;
      const [old, edit] = await Promise.all([
        fetch(new URL(`api/v1/sources/${ccv.batch}`, document.baseURI)).then((r) => {
          if (!r.ok) throw new Error(`${ccv.batch}: HTTP ${r.status}`);
          return r.text();
        }), P.api("api/v1/edit.json")]);
      P.show(box, [{path: ccv.batch, old, content: flagged(old, ccv, key, String(flag), entry)}], edit.forge,
             `flag-${ccv.ccv_id.slice(0, 12)}`);
    } catch (e) {
      found.push(e.message || String(e));
    }
    P.problems(list, found);
  });
})();
