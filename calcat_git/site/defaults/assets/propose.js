// What the site's edit forms share: YAML text written as the CLI writes it (PyYAML's
// safe_dump rules for the values the forms take), a line diff, and the forge's web
// editor for each file a change makes or edits. Catalog text is set with textContent only.
(function () {
  "use strict";
  const BOOL = /^(yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
  const INT = /^([-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+)$/;
  const FLOAT = /^([-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)?|\.[0-9_]+([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/;
  const NULL = /^(~|null|Null|NULL|)$/;
  const STAMP = /^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)$/;
  const SPECIAL = /[^\n\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]|\ufeff/u;

  // Whether PyYAML writes ``text`` plain (in flow context: inside [..]).
  function plain(text, flow) {
    if (NULL.test(text) || BOOL.test(text) || INT.test(text) || FLOAT.test(text) || STAMP.test(text) ||
        text === "<<" || text === "=") return false;
    if (text.startsWith("---") || text.startsWith("...") || /^\s|\s$/.test(text) || /\n/.test(text)) return false;
    const after = (i) => i + 1 >= text.length || /[\s]/.test(text[i + 1]);
    if (/^[#,[\]{}&*!|>'"%@`]/.test(text)) return false;
    if (/^[?:]/.test(text) && (flow || after(0))) return false;
    if (text[0] === "-" && after(0)) return false;
    for (let i = 1; i < text.length; i++) {
      if (flow && ",?[]{}".includes(text[i])) return false;
      if (text[i] === ":" && (flow || after(i))) return false;
      if (text[i] === "#" && /\s/.test(text[i - 1])) return false;
    }
    return true;
  }

  // A string as PyYAML writes it, or an error for what the forms do not write (line breaks,
  // control characters: use the CLI).
  function str(text, flow) {
    if (SPECIAL.test(text) || text.includes("\n")) throw new Error(`${JSON.stringify(text)}: line breaks and control ` +
                                                                   "characters are for the CLI, not the form");
    return plain(text, flow) ? text : `'${text.replace(/'/g, "''")}'`;
  }

  // A float as Python's repr writes it (0.0, 0.5, 12.0).
  function float(x) {
    if (!Number.isFinite(x)) throw new Error(`${x} is not a number`);
    return Number.isInteger(x) && Math.abs(x) < 1e16 ? x.toFixed(1) : String(x);
  }

  function scalar(value, flow) {
    if (value === null) return "null";
    if (typeof value === "boolean") return String(value);
    if (typeof value === "object" && value.float !== undefined) return float(value.float);
    if (typeof value === "number") return String(value);
    return str(String(value), flow);
  }

  // ``key: value`` of a top-level mapping, folded at ``width`` columns as PyYAML folds it.
  function entry(key, value, width = 120) {
    const text = scalar(value, false);
    const head = `${str(key, false)}: `;
    if (head.length + text.length <= width || !/ /.test(text)) return head + text;
    const lines = [];
    let line = head, column = head.length;
    const words = text.split(" ");
    words.forEach((word, i) => {
      if (i > 0) {
        const single = word !== "" && words[i - 1] !== "";
        if (single && column > width) {
          lines.push(line);
          line = "  ";
          column = 2;
        } else {
          line += " ";
          column += 1;
        }
      }
      line += word;
      column += word.length;
    });
    lines.push(line);
    return lines.join("\n");
  }

  // A new registry file: yaml.safe_dump(record, sort_keys=False) for flat records whose
  // lists hold strings.
  function dump(record) {
    const out = [];
    for (const [key, value] of Object.entries(record)) {
      if (Array.isArray(value)) {
        out.push(`${str(key, false)}:`, ...value.map((v) => `- ${scalar(v, false)}`));
      } else {
        out.push(entry(key, value));
      }
    }
    return out.join("\n") + "\n";
  }

  // ``text`` with ``item`` added to the top-level list ``key`` (flow or block), as the CLI
  // adds it; null if the list is laid out otherwise.
  function appended(text, key, item) {
    const lines = text.split(/(?<=\n)/);
    const at = lines.findIndex((line) => new RegExp(`^${esc(key)}:(\\s|$)`).test(line));
    if (at < 0) return null;
    const rest = lines[at].slice(key.length + 1).replace(/\n$/, "");
    const inline = /^\s*\[(.*)\]\s*(#.*)?$/.exec(rest);
    if (inline) {
      const inner = inline[1].trim();
      lines[at] = `${key}: [${inner ? inner + ", " : ""}${str(item, true)}]\n`;
      return lines.join("");
    }
    let end = at + 1, indent = null, m;
    while (end < lines.length && (m = /^(\s*)- /.exec(lines[end])) && (indent === null || m[1] === indent)) {
      indent = m[1];
      end += 1;
    }
    if (indent === null) return null;
    lines.splice(end, 0, `${indent}- ${str(item, true)}\n`);
    return lines.join("");
  }

  const esc = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  // [first line after the key, end of its block, indent of its entries] of the nested map
  // at ``path`` (a type's ``conditions:`` block), as the CLI finds it; null if not there.
  function block(lines, path) {
    let start = 0, end = lines.length, indent = "";
    for (const key of path) {
      const re = new RegExp(`^${indent}${esc(key)}:\\s*(#.*)?$`);
      let at = -1;
      for (let i = start; i < end; i++) if (re.test(lines[i].replace(/\n$/, ""))) { at = i; break; }
      if (at < 0) return null;
      let inner = "";
      for (let i = at + 1; i < end; i++) {
        if (lines[i].trim() && !lines[i].trimStart().startsWith("#")) { inner = /^\s*/.exec(lines[i])[0]; break; }
      }
      if (inner.length <= indent.length) return null;
      let stop = end;
      for (let i = at + 1; i < end; i++) if (lines[i].trim() && !lines[i].startsWith(inner)) { stop = i; break; }
      [start, end, indent] = [at + 1, stop, inner];
    }
    return [start, end, indent];
  }

  // ``text`` with ``key: flowValue`` the last entry of the nested map at ``path``.
  function entryAdded(text, path, key, flowValue) {
    if (text === null || !plain(key, false)) return null;  // (a key YAML must quote: the CLI writes the file anew)
    const lines = text.split(/(?<=\n)/), found = block(lines, path);
    if (!found) return null;
    lines.splice(found[1], 0, `${found[2]}${key}: ${flowValue}\n`);
    return lines.join("");
  }

  // ``text`` with ``item`` added to the flow list ``key: [..]`` of the nested map at ``path``.
  function itemAppended(text, path, key, item) {
    if (text === null) return null;
    const lines = text.split(/(?<=\n)/), found = block(lines, path);
    if (!found) return null;
    const re = new RegExp(`^(${found[2]}${esc(key)}:\\s*)\\[(.*)\\]\\s*$`);
    for (let i = found[0]; i < found[1]; i++) {
      const m = re.exec(lines[i].replace(/\n$/, ""));
      if (m) {
        const inner = m[2].trim();
        lines[i] = `${m[1]}[${inner ? inner + ", " : ""}${str(item, true)}]\n`;
        return lines.join("");
      }
    }
    return entryAdded(text, path, key, flowList([item]));
  }

  const flowList = (items) => `[${items.map((i) => scalar(i, true)).join(", ")}]`;
  const flowMap = (map) => `{${Object.entries(map).map(([k, v]) => `${str(k, true)}: ${scalar(v, true)}`).join(", ")}}`;

  // The changed lines of two texts (the edits the forms make are one run of lines).
  function diff(old, now) {
    const a = (old || "").split("\n"), b = now.split("\n");
    let head = 0;
    while (head < a.length && head < b.length && a[head] === b[head]) head++;
    let tail = 0;
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
    const out = [`@@ line ${head + 1} @@`];
    if (head > 0) out.push("  " + a[head - 1]);
    a.slice(head, a.length - tail).forEach((l) => out.push("- " + l));
    b.slice(head, b.length - tail).forEach((l) => out.push("+ " + l));
    return out.join("\n");
  }

  // The forge's web editor for ``file`` (``old`` null: a new file) on ``branch``.
  function editorUrl(forge, branch, path, old, content) {
    const repo = forge.repo_url, lab = forge.kind === "gitlab";
    const enc = (p) => p.split("/").map(encodeURIComponent).join("/");
    if (old === null) {
      const q = lab ? `file_name=${encodeURIComponent(path)}&content=${encodeURIComponent(content)}` :
        `filename=${encodeURIComponent(path)}&value=${encodeURIComponent(content)}`;
      return `${repo}/${lab ? "-/" : ""}new/${enc(branch)}?${q}`;
    }
    return `${repo}/${lab ? "-/" : ""}edit/${enc(branch)}/${enc(path)}`;
  }

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    return node;
  }

  function problems(list, found) {
    list.replaceChildren(...found.map((text) => el("li", text)));
  }

  // Shows each file of a change [{path, old (null: new), content}] with its diff and a link
  // to the forge's editor: the first on the forge's branch (commit it to a new branch named
  // ``branch``, proposing a merge request), the others on that new branch.
  function show(box, files, forge, branch) {
    box.replaceChildren();
    if (forge) {
      box.append(el("p", `In the forge, commit the first file to a new branch named ${branch} and ` +
                    "propose the change; commit the other files on that branch."));
    }
    files.forEach((file, i) => {
      const part = el("div", undefined, {class: "propose-file", "data-path": file.path});
      part.append(el("h4", `${file.old === null ? "New file" : "Edit"} ${file.path}`));
      part.append(el("pre", diff(file.old, file.content), {class: "propose-diff"}));
      const details = el("details");
      details.append(el("summary", "The whole new file"), el("pre", file.content, {class: "propose-content"}));
      part.append(details);
      if (forge) {
        const url = editorUrl(forge, i === 0 ? forge.branch : branch, file.path, file.old, file.content);
        const link = el("a", file.old === null ? "Create it in the forge's editor" :
          "Copy the new content and open the file in the forge's editor (paste it over the old)",
                        {class: "propose-open", href: url, target: "_blank", rel: "noopener"});
        if (file.old !== null) {
          link.addEventListener("click", () => {
            if (navigator.clipboard) navigator.clipboard.writeText(file.content).catch(() => {});
          });
        }
        part.append(el("p").appendChild(link).parentNode);
      }
      box.append(part);
    });
    box.hidden = false;
  }

  const api = (path) => fetch(new URL(path, document.baseURI)).then((r) => {
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  });

  window.CalcatPropose = {plain, str, scalar, entry, dump, appended, entryAdded, itemAppended, flowList, flowMap, diff, editorUrl, show, problems, api, float};
})();
