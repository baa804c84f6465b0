// The part of JSON Schema the catalog's record schemas use (api/v1/schemas/*-entity.json),
// checked in the page before a form shows a new file; a keyword it does not know is a
// problem (the command checks it), never skipped.
(function () {
  "use strict";
  const NOTES = new Set(["$id", "$schema", "title", "description", "x-error"]);
  const KINDS = {string: (v) => typeof v === "string", integer: Number.isInteger, boolean: (v) => typeof v === "boolean",
                 number: (v) => typeof v === "number" || (v !== null && typeof v === "object" && v.float !== undefined),
                 array: Array.isArray, object: (v) => v !== null && typeof v === "object" && !Array.isArray(v),
                 null: (v) => v === null};
  const plainValue = (v) => (v !== null && typeof v === "object" && v.float !== undefined ? v.float : v);

  function check(schema, value, where, out) {
    const v = plainValue(value), say = (text) => out.push(`${where}: ${schema["x-error"] || text}`);
    for (const [key, rule] of Object.entries(schema)) {
      if (NOTES.has(key) || key === "properties") continue;
      if (key === "type") { if (!KINDS[rule] || !KINDS[rule](value)) say(`must be of type ${rule}`); }
      else if (key === "required") rule.filter((k) => !(k in v)).forEach((k) => say(`${k} is required`));
      else if (key === "additionalProperties") {
        if (rule === false) Object.keys(v).filter((k) => !(k in (schema.properties || {}))).forEach((k) => say(`unknown field ${k}`));
      } else if (key === "enum") { if (!rule.includes(v)) say(`must be one of ${rule.join(", ")}`); }
      else if (key === "const") { if (v !== rule) say(`must be ${rule}`); }
      else if (key === "pattern") { if (typeof v === "string" && !new RegExp(rule, "u").test(v)) say(`must match ${rule}`); }
      else if (key === "maxLength") { if (typeof v === "string" && [...v].length > rule) say(`at most ${rule} characters`); }
      else if (key === "minLength") { if (typeof v === "string" && [...v].length < rule) say(`at least ${rule} characters`); }
      else if (key === "minimum") { if (typeof v === "number" && v < rule) say(`must be at least ${rule}`); }
      else if (key === "maxProperties") { if (KINDS.object(v) && Object.keys(v).length > rule) say(`at most ${rule} fields`); }
      else if (key === "minItems") { if (Array.isArray(v) && v.length < rule) say(`at least ${rule} items`); }
      else if (key === "uniqueItems") { if (rule && Array.isArray(v) && new Set(v).size !== v.length) say("items must differ"); }
      else if (key === "items") { if (Array.isArray(v)) v.forEach((item, i) => check(rule, item, `${where}[${i}]`, out)); }
      else say(`the page cannot check schema keyword ${key}: the command does`);
    }
    if (schema.properties && KINDS.object(v)) {
      for (const [k, sub] of Object.entries(schema.properties)) if (k in v) check(sub, v[k], `${where}.${k}`, out);
    }
    return out;
  }

  // The problems of ``record`` against schema ``kind`` (api/v1/schemas/<kind>-entity.json).
  window.CalcatSchema = async (kind, record) => {
    const schema = await window.CalcatPropose.api(`api/v1/schemas/${kind}-entity.json`);
    return check(schema, record, kind, []);
  };
})();
