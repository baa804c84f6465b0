// The "Propose a change" page: add a PDU, a calibration, a parameter, each checked as the
// CLI command checks it (calcat-git add-pdu, add-calibration, add-parameter), written as it
// writes it, and shown with the forge's editor links (assets/propose.js).
(function () {
  "use strict";
  const P = window.CalcatPropose;
  const $ = (id) => document.getElementById(id);
  const val = (id) => $(id).value.trim();
  const NAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;  // (it names the file: the schemas say so too)
  let data = null;
  const edit = () => (data ? Promise.resolve(data) : P.api("api/v1/edit.json").then((d) => (data = d)));

  function pdu(d) {
    const name = val("pdu-name"), type = $("pdu-type").value, uuid = val("pdu-uuid"), description = val("pdu-description");
    const found = [];
    if (!NAME.test(name)) found.push("the name is letters, digits and _ . + - (it names the file)");
    if (d.pdus[name]) found.push(`PDU '${name}' already exists: registry/pdus/${d.pdus[name].detector_type}/${name}.yaml`);
    if (!/^\d+$/.test(uuid) || !Number.isSafeInteger(Number(uuid))) found.push("the uuid is a whole number ≥ 0");
    const taken = Object.entries(d.pdus).find(([, p]) => String(p.uuid) === String(Number(uuid)));
    if (taken) found.push(`uuid ${uuid} is already ${taken[0]}'s: every PDU has its own uuid`);
    if (found.length) return {found};
    const record = {physical_name: name, detector_type: type, uuid: Number(uuid), status: "active"};
    if (description) record.description = description;
    return {files: [{path: `registry/pdus/${type}/${name}.yaml`, old: null, content: P.dump(record)}],
            branch: `add-pdu-${name}`, records: [["pdu", record]]};
  }

  // The type's file with ``name`` added to its list ``key``, then ``wire`` (its look-up
  // rules, if it has them) applied, as the CLI edits it.
  function typeEdit(d, type, key, name, wire) {
    const t = d.types[type];
    if (t.text === null) throw new Error(`${t.file} could not be read`);
    let content = P.appended(t.text, key, name);
    if (content !== null && t.ruled !== null) content = wire(content);
    if (content === null) throw new Error(`${t.file} is laid out unusually: use the CLI command`);
    return {path: t.file, old: t.text, content};
  }

  const list = (id) => val(id).split(",").map((p) => p.trim()).filter(Boolean);

  function calibration(d) {
    const name = val("calibration-name"), type = $("calibration-type").value, description = val("calibration-description");
    const parameters = list("calibration-parameters");
    const t = d.types[type], found = [];
    if (!NAME.test(name)) found.push("the name is letters, digits and _ . + - (it names the file)");
    if (!parameters.length) found.push("a calibration needs at least one parameter");
    if (t.calibrations.includes(name)) found.push(`${type} has calibration '${name}' already`);
    for (const p of parameters) {
      if (!t.parameters.includes(p)) found.push(`${type} has no parameter '${p}': add it first (Add a parameter)`);
      else if (t.ruled !== null && !t.ruled.includes(p)) {
        found.push(`${type}'s look-up rules have no parameter '${p}': add it first (Add a parameter)`);
      }
    }
    const exists = d.calibrations.includes(name);
    if (exists && description) {
      found.push(`calibration '${name}' exists: its description is edited in its file; leave the description out`);
    }
    if (found.length) return {found};
    const record = description ? {identifier: name, description} : {identifier: name};
    const files = exists ? [] : [{path: `registry/calibrations/${name}.yaml`, old: null, content: P.dump(record)}];
    files.push(typeEdit(d, type, "calibrations", name,
                        (text) => P.entryAdded(text, ["conditions", "calibrations"], name, P.flowList(parameters))));
    return {files, branch: `add-calibration-${name}`, records: exists ? [] : [["calibration", record]]};
  }

  function deviation(id) {
    const text = val(id);
    if (text === "") return null;
    const x = Number(text);
    if (!Number.isFinite(x) || x < 0) throw new Error(`${text}: a deviation is a number ≥ 0`);
    return x;
  }

  // A --default or --legacy value as the CLI reads it: text, or an integer, or a float.
  function number(id, text) {
    const given = $(id).value;
    if (given === "") return null;
    if (text) return given;
    const x = Number(given.trim());
    if (given.trim() === "" || !Number.isFinite(x)) {
      throw new Error(`${given}: not a number (tick "text" for a text parameter)`);
    }
    return /^[+-]?\d+$/.test(given.trim()) ? x : {float: x};
  }

  function parameter(d) {
    const name = val("parameter-name"), type = $("parameter-type").value, unit = val("parameter-unit");
    const lower = deviation("parameter-lower"), upper = deviation("parameter-upper"), text = $("parameter-text").checked;
    const calibrations = list("parameter-calibrations");
    const dflt = number("parameter-default", text), legacy = number("parameter-legacy", text);
    const found = [], t = d.types[type];
    const unknown = calibrations.find((c) => !t.calibrations.includes(c));
    if (unknown) found.push(`${type} has no calibration '${unknown}'`);
    if (t.ruled === null && (calibrations.length || dflt !== null || legacy !== null)) {
      found.push(`${type} has no look-up rules (no conditions: block in its file: every calibration is asked every ` +
                 "parameter given), so calibrations, a default or a legacy value have nothing to say there; leave them out");
    }
    if (!name) found.push("give the parameter's name, as CALCAT spells it");
    if (d.types[type].parameters.includes(name)) found.push(`${type} has parameter '${name}' already`);
    const files = [], records = [], known = d.parameters[name];
    if (known) {
      const given = {unit: unit || null, lower_deviation: lower, upper_deviation: upper};
      const differ = Object.keys(given).find((k) => given[k] !== null && given[k] !== known[k]);
      if (differ) found.push(`parameter '${name}' exists (registry/parameters/${known.identifier}.yaml) with another ` +
                             `${differ}: every type shares that file, so edit it there`);
    } else {
      const identifier = name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "") || "parameter";
      const path = `registry/parameters/${identifier}.yaml`;
      if (d.parameter_files.includes(identifier)) {
        found.push(`${path} exists: if '${name}' is another spelling of it, add it to its spellings by hand`);
      }
      const record = {identifier, spellings: [name], unit, lower_deviation: {float: lower || 0},
                      upper_deviation: {float: upper || 0}};
      files.push({path, old: null, content: P.dump(record)});
      records.push(["parameter", record]);
    }
    if (found.length) return {found};
    const rule = {type: text ? "text" : "number", default: dflt};
    if (legacy !== null) rule.legacy = legacy;
    files.push(typeEdit(d, type, "parameters", name, (content) => {
      let out = P.entryAdded(content, ["conditions", "parameters"], name, P.flowMap(rule));
      for (const c of calibrations) out = out && P.itemAppended(out, ["conditions", "calibrations"], c, name);
      return out;
    }));
    return {files, branch: `add-parameter-${identifier(name)}`, records};
  }

  const identifier = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  const FORMS = {pdu, calibration, parameter};

  document.querySelectorAll("button[data-check]").forEach((button) => {
    if (!FORMS[button.dataset.check]) return;  // (the flag form has its own script)
    button.addEventListener("click", async () => {
      const kind = button.dataset.check, list = $(`${kind}-problems`), box = $(`${kind}-result`);
      box.hidden = true;
      let out;
      try {
        const d = await edit();
        out = FORMS[kind](d);
        if (!out.found) {
          const checked = await Promise.all(out.records.map(([schema, record]) => window.CalcatSchema(schema, record)));
          out.found = checked.flat();
          if (!out.found.length) P.show(box, out.files, d.forge, out.branch);
        }
      } catch (e) {
        out = {found: [e.message || String(e)]};
      }
      P.problems(list, out.found || []);
    });
  });
})();
