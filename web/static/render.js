// Building the page's pieces from data. Everything goes through textContent: nothing the
// server or a customer wrote is ever parsed as HTML.

/** el("p", {class: "x", onclick: f}, "text", child): an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// -- text ------------------------------------------------------------------------------

/** An answer's text: paragraphs, "- " bullet lists, "1. " numbered lists, "| a | b |"
 *  tables, **bold** and `code`. */
export function renderText(text) {
  const fragment = document.createDocumentFragment();
  const blocks = String(text || "").replace(/\r\n/g, "\n").split(/\n{2,}/);
  const bullet = /^\s*[-*•]\s+/;
  const numbered = /^\s*\d+[.)]\s+/;
  const tableRow = /^\s*\|/;
  const tableRule = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
  const special = (lines, i) => bullet.test(lines[i]) || numbered.test(lines[i]) ||
    (tableRow.test(lines[i]) && i + 1 < lines.length && tableRule.test(lines[i + 1]));
  for (const block of blocks) {
    const lines = block.split("\n").filter((line) => line.trim() !== "");
    let i = 0;
    while (i < lines.length) {
      if (tableRow.test(lines[i]) && i + 1 < lines.length && tableRule.test(lines[i + 1])) {
        const header = tableCells(lines[i]);
        const rows = [];
        i += 2;
        while (i < lines.length && tableRow.test(lines[i])) rows.push(tableCells(lines[i++]));
        fragment.append(markdownTable(header, rows));
      } else if (bullet.test(lines[i]) || numbered.test(lines[i])) {
        const pattern = bullet.test(lines[i]) ? bullet : numbered;
        const list = el(pattern === bullet ? "ul" : "ol");
        while (i < lines.length && pattern.test(lines[i])) {
          list.append(el("li", {}, inline(lines[i].replace(pattern, ""))));
          i += 1;
        }
        fragment.append(list);
      } else {
        const paragraph = el("p");
        do {
          if (paragraph.childNodes.length) paragraph.append(el("br"));
          paragraph.append(inline(lines[i]));
          i += 1;
        } while (i < lines.length && !special(lines, i));
        fragment.append(paragraph);
      }
    }
  }
  return fragment;
}

function tableCells(line) {
  const cells = line.trim().replace(/^\|/, "").replace(/\|$/, "").split(/(?<!\\)\|/);
  return cells.map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

function markdownTable(header, rows) {
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^-?[\d\s.,]+(\s?(EUR|€|%))?$/.test(r[c] || "")));
  const table = el("table", { class: "data" },
    el("thead", {}, el("tr", {}, header.map((h, c) => el("th", { scope: "col", class: numeric[c] ? "num" : null }, inline(h))))),
    el("tbody", {}, rows.map((row) => el("tr", {}, header.map((_, c) => el("td", { class: numeric[c] ? "num" : null }, inline(row[c] || "")))))));
  return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Table: ${header.join(", ")}` }, table);
}

function inline(line) {
  const fragment = document.createDocumentFragment();
  const pattern = /\*\*([^*]+)\*\*|`([^`]+)`/g;
  let at = 0;
  for (const match of line.matchAll(pattern)) {
    fragment.append(line.slice(at, match.index));
    fragment.append(match[1] !== undefined ? el("strong", { text: match[1] }) : el("code", { text: match[2] }));
    at = match.index + match[0].length;
  }
  fragment.append(line.slice(at));
  return fragment;
}

// -- values ----------------------------------------------------------------------------

export function formatDuration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
}

const ISO_TIME = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/;

export function formatCell(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") {
    const time = ISO_TIME.exec(value);
    return time ? `${time[1]} ${time[2]}` : value;
  }
  if (Array.isArray(value) && value.every((v) => typeof v !== "object" || v === null)) {
    return value.join(", ");
  }
  return JSON.stringify(value);
}

export function prettyJson(value) {
  return el("pre", { class: "json" }, el("code", { text: JSON.stringify(value, null, 2) }));
}

function isRecord(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The rows of a result that is a list: a list of objects, or an object with an `items`
 *  list of objects. Null when the result is not a list. */
export function listRows(result) {
  const rows = Array.isArray(result) ? result : isRecord(result) && Array.isArray(result.items) ? result.items : null;
  if (!rows || !rows.every(isRecord)) return null;
  return rows;
}

/** A document of the documents tool (invoice, credit note, label...): it has a file. */
export function isDocument(value) {
  return isRecord(value) && Number.isInteger(value.id) && typeof value.kind === "string" &&
    ["pdf", "png", "zpl"].includes(value.format) && "sha256" in value;
}

/** Every document found in a result, at most three levels down. */
export function findDocuments(value, depth = 0, found = new Map()) {
  if (depth > 3 || value === null || typeof value !== "object") return [...found.values()];
  if (isDocument(value)) found.set(value.id, value);
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    findDocuments(child, depth + 1, found);
  }
  return [...found.values()];
}

export function documentLabel(doc) {
  const kind = doc.kind.replace(/_/g, " ");
  const name = doc.number ? `${kind} ${doc.number}` : `${kind} #${doc.id}`;
  return `${name[0].toUpperCase()}${name.slice(1)} (${doc.format.toUpperCase()})`;
}

// -- tables ----------------------------------------------------------------------------

const MAX_ROWS = 100;
const MAX_COLUMNS = 12;

/** A table of rows (objects); `documentLink(doc)` makes the link for a row that is a
 *  document. Long lists show their first rows and say so. */
export function renderTable(rows, { caption = "", documentLink = null } = {}) {
  if (!rows.length) return el("p", { class: "muted small", text: `${caption ? caption + ": " : ""}no rows.` });
  const columns = [];
  for (const row of rows.slice(0, MAX_ROWS)) {
    for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  }
  const shown = columns.slice(0, MAX_COLUMNS);
  const numeric = new Set(shown.filter((c) => rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number")));
  const table = el("table", { class: "data" });
  const count = rows.length > MAX_ROWS ? `first ${MAX_ROWS} of ${rows.length} rows` : `${rows.length} row${rows.length === 1 ? "" : "s"}`;
  table.append(el("caption", {}, caption ? `${caption} · ` : "", count,
    columns.length > shown.length ? ` · ${columns.length - shown.length} more columns in the trace` : ""));
  table.append(el("thead", {}, el("tr", {}, shown.map((c) => el("th", { scope: "col", class: numeric.has(c) ? "num" : null, text: c.replace(/_/g, " ") })))));
  const body = el("tbody");
  for (const row of rows.slice(0, MAX_ROWS)) {
    body.append(el("tr", {}, shown.map((c) => {
      const cell = el("td", { class: numeric.has(c) ? "num" : null });
      if (c === "id" && documentLink && isDocument(row)) cell.append(documentLink(row, `#${row.id}`));
      else cell.textContent = formatCell(row[c]);
      return cell;
    })));
  }
  table.append(body);
  return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption || "Result table" }, table);
}

/** Arguments as a two-column table (name, value). */
export function renderArgs(args) {
  const entries = Object.entries(args || {});
  if (!entries.length) return el("p", { class: "muted small", text: "No arguments." });
  return el("table", { class: "args" },
    el("tbody", {}, entries.map(([name, value]) => el("tr", {},
      el("th", { scope: "row", text: name.replace(/_/g, " ") }),
      el("td", {}, isRecord(value) || Array.isArray(value) ? prettyJson(value) : el("code", { text: formatCell(value) }))))));
}
