// One answer of the assistant as it streams in: which agents ran, each tool call (folded),
// the answer, tables and documents from the results, errors, and an approval card when a
// write waits for a decision.

import {
  documentLabel, el, findDocuments, formatDuration, listRows, prettyJson, renderArgs,
  renderTable, renderText,
} from "./render.js";

const STATUS_WORDS = { ok: "ok", error: "error", rejected: "rejected", forbidden: "not allowed" };

export function userTurn(text, note = "") {
  return el("article", { class: "turn user" },
    el("h3", { class: "sr-only", text: "You said" }),
    el("div", { class: "bubble" }, note ? el("span", { class: "note", text: note }) : null, text));
}

export class AssistantTurn {
  /** `actions`: {openDocument(doc, link), decide(turn, card, decision)}. */
  constructor(actions) {
    this.actions = actions;
    this.agents = el("ul", { class: "agents", "aria-label": "Agents" });
    this.status = el("p", { class: "status", role: "status" });
    this.answer = el("div", { class: "answer" });
    this.extras = el("div", { class: "extras" });
    this.approval = el("div", { class: "approval-slot" });
    this.trace = el("div", { class: "trace" });
    this.footer = el("p", { class: "meta small" });
    this.node = el("article", { class: "turn assistant", "aria-busy": "true" },
      el("header", { class: "turn-head" }, el("span", { class: "who", text: "Comptoir" }), this.agents),
      this.status, this.answer, this.extras, this.approval, this.trace, this.footer);
    this.answers = [];
    this.card = null;
    this.setStatus("Working…");
  }

  setStatus(text) {
    this.status.hidden = !text;
    this.status.replaceChildren(text ? el("span", { class: "spinner", "aria-hidden": "true" }) : "", text || "");
  }

  setAgents(agents) {
    this.agents.replaceChildren(...agents.map((agent) => el("li", { class: "chip", text: agent.replace(/_/g, " ") })));
  }

  addAgent(agent) {
    const names = [...this.agents.children].map((li) => li.textContent);
    if (!names.includes(agent.replace(/_/g, " "))) this.agents.append(el("li", { class: "chip", text: agent.replace(/_/g, " ") }));
  }

  /** A stream event (see the chat contract). */
  handle(name, data) {
    switch (name) {
      case "routing":
        this.setAgents(data.agents || []);
        this.setStatus(data.agents && data.agents.length ? `Asking ${data.agents.join(", ").replace(/_/g, " ")}…` : "Choosing who answers…");
        break;
      case "agent":
        this.addAgent(data.agent);
        this.setStatus(`${data.agent.replace(/_/g, " ")} is working…`);
        break;
      case "tool_result":
        this.addToolCall(data);
        this.setStatus(`${data.agent.replace(/_/g, " ")} ran ${data.tool.replace(/_/g, " ")}…`);
        break;
      case "approval":
        this.showApproval(data);
        this.card.setBusy(true); // decidable once the turn is done
        break;
      case "answer":
        this.setStatus("Finishing…");
        this.answers.push(data.text || "");
        this.answer.replaceChildren(renderText(this.answers.join("\n\n")));
        break;
      case "done":
        this.finish(data.result);
        break;
      case "error":
        this.fail(data.error || data);
        break;
      default:
        break; // an event this page does not know yet: ignored, the final result has it all
    }
  }

  addToolCall(call) {
    const status = call.status || "ok";
    const failed = status !== "ok" && call.result && call.result.message;
    const summary = el("summary", {},
      el("span", { class: "tool-name" }, el("span", { class: "tool-agent", text: call.agent.replace(/_/g, " ") }), " · ", call.tool),
      el("span", { class: `badge ${status}`, text: STATUS_WORDS[status] || status }),
      call.approved === true ? el("span", { class: "badge approved", text: "approved" }) : null,
      call.result && call.result.replayed === true
        ? el("span", { class: "badge replayed", title: "Same idempotency key as an earlier call: nothing new was done", text: "replayed" })
        : null,
      el("span", { class: "duration", text: formatDuration(call.duration_ms) }),
      failed ? el("span", { class: "tool-error", text: call.result.message }) : null);
    const body = el("div", { class: "tool-body" },
      el("h4", { text: "Arguments" }), renderArgs(call.args),
      el("h4", { text: status === "ok" ? "Result" : "Error" }), prettyJson(call.result));
    this.trace.append(el("details", { class: `tool-call ${status}` }, summary, body));
  }

  showApproval(pending) {
    if (this.card && this.card.pending.id === pending.id) return;
    this.card = new ApprovalCard(pending, (decision) => this.actions.decide(this, this.card, decision));
    this.approval.replaceChildren(this.card.node);
  }

  finish(result) {
    this.result = result;
    this.setStatus("");
    this.node.setAttribute("aria-busy", "false");
    this.setAgents(result.agents || []);
    this.trace.replaceChildren();
    for (const call of result.tool_calls || []) this.addToolCall(call);
    if (result.pending_approval) {
      this.answer.replaceChildren();
      this.showApproval(result.pending_approval);
      this.card.setBusy(false);
    } else {
      this.answer.replaceChildren(renderText(result.answer || ""));
    }
    this.renderExtras(result.tool_calls || [], Boolean(result.pending_approval));
    const parts = [];
    if (result.tool_calls && result.tool_calls.length) parts.push(`${result.tool_calls.length} tool call${result.tool_calls.length === 1 ? "" : "s"}`);
    if (result.model_calls) parts.push(`${result.model_calls} model call${result.model_calls === 1 ? "" : "s"}`);
    if (result.tokens) parts.push(`${result.tokens.toLocaleString("en-GB")} tokens`);
    if (result.timings && result.timings.total_ms !== undefined) parts.push(formatDuration(result.timings.total_ms));
    this.footer.textContent = parts.join(" · ");
  }

  /** Lists as tables and documents as links, in view. When the answer already has a table
   *  of its own, or a decision waits, each list's full table is one click away instead. */
  renderExtras(calls, pending) {
    this.extras.replaceChildren();
    const link = (doc, text) => this.documentLink(doc, text);
    const answerHasTable = Boolean(this.answer.querySelector("table"));
    const last = calls.at(-1);
    for (const call of calls) {
      if (call.status !== "ok") continue;
      // Only the turn's last result is what the answer is about; an earlier list (a lookup
      // before a write) may no longer hold.
      const fold = pending || answerHasTable || call !== last;
      const rows = listRows(call.result);
      if (rows && rows.length) {
        const table = renderTable(rows, { caption: call.tool.replace(/_/g, " "), documentLink: link });
        if (fold) {
          const label = `All columns of ${call.tool.replace(/_/g, " ")} (${rows.length} row${rows.length === 1 ? "" : "s"})`;
          this.extras.append(el("details", { class: "result-table" }, el("summary", { text: label }), table));
        } else {
          this.extras.append(table);
        }
      }
      const docs = findDocuments(call.result).filter((doc) => !(rows && rows.includes(doc)));
      if (docs.length) this.extras.append(el("ul", { class: "documents" }, docs.map((doc) => el("li", {}, link(doc, documentLabel(doc))))));
    }
  }

  documentLink(doc, text) {
    const link = el("a", { href: `/api/v1/documents/${doc.id}/file`, class: "document-link", dataset: { documentId: doc.id }, text });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      this.actions.openDocument(doc, link);
    });
    return link;
  }

  fail(error) {
    this.setStatus("");
    this.node.setAttribute("aria-busy", "false");
    this.answer.append(errorBox(error));
  }
}

export function errorBox(error) {
  const message = (error && error.message) || "Something went wrong.";
  const code = error && error.code && !["error", "network"].includes(error.code) ? ` (${error.code.replace(/_/g, " ")})` : "";
  return el("div", { class: "error-box", role: "alert" }, el("strong", { text: "Could not do it: " }), message + code);
}

// -- approvals -------------------------------------------------------------------------

let cardCount = 0;

export class ApprovalCard {
  constructor(pending, decide) {
    cardCount += 1;
    this.pending = pending;
    this.decide = decide;
    const titleId = `approval-title-${cardCount}`;
    this.approveButton = el("button", { type: "button", class: "primary", onclick: () => this.submit({ decision: "approve" }) }, "Approve");
    this.editButton = el("button", { type: "button", onclick: () => this.openEditor() }, "Edit arguments");
    this.rejectButton = el("button", { type: "button", class: "danger", onclick: () => this.submit({ decision: "reject" }) }, "Reject");
    this.actionsRow = el("div", { class: "actions" }, this.approveButton, this.editButton, this.rejectButton);
    this.editor = el("div", { class: "editor", hidden: true });
    this.message = el("p", { class: "card-message", role: "status" });
    this.node = el("section", { class: "approval-card", tabindex: "-1", "aria-labelledby": titleId },
      el("h3", { id: titleId }, "Approval needed ",
        el("span", { class: "muted small", text: `${pending.agent.replace(/_/g, " ")} · ${pending.tool}` })),
      el("p", { class: "summary", text: pending.summary }),
      renderArgs(pending.args), this.actionsRow, this.editor, this.message);
  }

  focus() {
    this.node.focus();
  }

  setBusy(busy, text = "") {
    for (const button of this.node.querySelectorAll("button")) button.disabled = busy;
    this.message.textContent = text;
    this.message.className = "card-message";
  }

  showError(error) {
    this.setBusy(false);
    this.message.replaceChildren(errorBox(error));
  }

  /** After the decision was taken: the card says what was decided and offers nothing more. */
  settle(text) {
    this.node.classList.add("settled");
    this.actionsRow.remove();
    this.editor.remove();
    this.message.textContent = text;
    this.message.className = "card-message outcome";
  }

  submit(decision) {
    this.decide(decision);
  }

  openEditor() {
    const fieldsBlock = el("div", { class: "fields" });
    const showFields = (args) => {
      this.fields = Object.entries(args).map(([name, value]) => fieldFor(name, value));
      fieldsBlock.replaceChildren(...this.fields.map((f) => f.node));
    };
    showFields(this.pending.args || {});
    this.json = el("textarea", { class: "json-input", rows: "8", spellcheck: "false", "aria-label": "Arguments as JSON" });
    const jsonBlock = el("div", { class: "json-block" }, this.json);
    const toggle = el("button", { type: "button", class: "quiet small" });
    const setMode = (asJson) => {
      this.asJson = asJson;
      jsonBlock.hidden = !asJson;
      fieldsBlock.hidden = asJson;
      toggle.textContent = asJson ? "Edit as fields" : "Edit as JSON";
    };
    toggle.addEventListener("click", () => {
      try {
        if (this.asJson) showFields(parseJsonArgs(this.json.value));
        else this.json.value = JSON.stringify(this.fieldValues(), null, 2);
      } catch (error) {
        this.message.replaceChildren(errorBox({ message: error.message }));
        return;
      }
      this.message.replaceChildren();
      setMode(!this.asJson);
      (this.asJson ? this.json : this.fields[0]?.input)?.focus();
    });
    this.json.value = JSON.stringify(this.pending.args || {}, null, 2);
    setMode(this.fields.length === 0);
    const form = el("form", { class: "edit-form", novalidate: true },
      el("h4", { text: "New arguments" }), fieldsBlock, jsonBlock,
      el("div", { class: "actions" },
        el("button", { type: "submit", class: "primary" }, "Approve with these arguments"),
        toggle,
        el("button", { type: "button", class: "quiet", onclick: () => this.closeEditor() }, "Cancel")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      let edited;
      try {
        edited = this.asJson ? parseJsonArgs(this.json.value) : this.fieldValues();
      } catch (error) {
        this.message.replaceChildren(errorBox({ message: error.message }));
        return;
      }
      this.submit({ decision: "edit", args: edited });
    });
    this.editor.replaceChildren(form);
    this.editor.hidden = false;
    this.actionsRow.hidden = true;
    (this.asJson ? this.json : this.fields[0].input).focus();
  }

  closeEditor() {
    this.editor.hidden = true;
    this.editor.replaceChildren();
    this.actionsRow.hidden = false;
    this.message.textContent = "";
    this.editButton.focus();
  }

  fieldValues() {
    return Object.fromEntries(this.fields.map((f) => [f.name, f.read()]));
  }
}

function parseJsonArgs(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`The arguments are not valid JSON: ${error.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("The arguments must be a JSON object, like {\"amount_cents\": 1000}.");
  }
  return value;
}

let fieldCount = 0;

/** An input for one argument, typed by its current value. An empty optional (null) value
 *  reads back as JSON when it parses (5, true) and as text otherwise. */
function fieldFor(name, value) {
  fieldCount += 1;
  const id = `arg-${fieldCount}`;
  const label = el("label", { for: id, text: name.replace(/_/g, " ") });
  let input;
  let read;
  if (typeof value === "boolean") {
    input = el("input", { id, type: "checkbox", checked: value });
    read = () => input.checked;
    return { name, input, read, node: el("div", { class: "field checkbox" }, input, label) };
  }
  if (typeof value === "number") {
    input = el("input", { id, type: "number", step: Number.isInteger(value) ? "1" : "any", value: String(value) });
    read = () => {
      if (input.value.trim() === "") throw new Error(`${name.replace(/_/g, " ")} needs a number.`);
      return Number(input.value);
    };
  } else if (value !== null && typeof value === "object") {
    input = el("textarea", { id, rows: "3", class: "json-input", spellcheck: "false" });
    input.value = JSON.stringify(value, null, 2);
    read = () => {
      try {
        return JSON.parse(input.value);
      } catch (error) {
        throw new Error(`${name.replace(/_/g, " ")} is not valid JSON: ${error.message}`);
      }
    };
  } else if (value === null) {
    input = el("input", { id, type: "text", placeholder: "empty" });
    read = () => {
      const text = input.value.trim();
      if (!text) return null;
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    };
  } else {
    input = el("input", { id, type: "text", value: String(value) });
    read = () => input.value;
  }
  return { name, input, read, node: el("div", { class: "field" }, label, input) };
}
