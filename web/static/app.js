// The chat page: sign in with an API key, the caller's conversations, and turns streamed
// from the chat API. The key lives in sessionStorage: it is gone when the tab closes.

import { Api } from "./api.js";
import { el, renderText } from "./render.js";
import { AssistantTurn, errorBox, userTurn } from "./turn.js";

const KEY_STORAGE = "comptoir.apiKey";
const $ = (id) => document.getElementById(id);

const state = {
  api: null,
  me: null,
  threadId: null,
  busy: false,
  pending: null, // the approval that blocks new messages in this thread
};

// -- sign in and out -------------------------------------------------------------------

async function signIn(key, { remembered = false } = {}) {
  const api = new Api(key);
  const me = await api.json("GET", "/api/v1/auth/me");
  api.onUnauthorized = () => signOut("The API key was refused; sign in again.");
  state.api = api;
  state.me = me;
  if (!remembered) sessionStorage.setItem(KEY_STORAGE, key);
  // The page shows once its conversation is in place, so nothing typed before is lost.
  await loadThreads();
  $("signin").hidden = true;
  $("app").hidden = false;
  const fromUrl = threadFromUrl();
  if (fromUrl) await openThread(fromUrl);
  else newThread();
  $("whoami").textContent = `${me.email} · ${me.role}`;
}

function signOut(message = "") {
  sessionStorage.removeItem(KEY_STORAGE);
  Object.assign(state, { api: null, me: null, threadId: null, busy: false, pending: null });
  $("app").hidden = true;
  $("signin").hidden = false;
  $("thread-list").replaceChildren();
  history.replaceState(null, "", location.pathname);
  const error = $("signin-error");
  error.textContent = message;
  error.hidden = !message;
  $("signin-key").value = "";
  $("signin-key").focus();
}

async function submitSignIn(event) {
  event.preventDefault();
  const key = $("signin-key").value.trim();
  const error = $("signin-error");
  if (!key) {
    error.textContent = "Enter your API key.";
    error.hidden = false;
    $("signin-key").focus();
    return;
  }
  $("signin-submit").disabled = true;
  error.hidden = true;
  try {
    await signIn(key);
  } catch (failure) {
    error.textContent = sentence(failure.message || "This API key is not valid");
    error.hidden = false;
    $("signin-key").focus();
  } finally {
    $("signin-submit").disabled = false;
  }
}

function sentence(text) {
  const trimmed = text.trim();
  return trimmed[0].toUpperCase() + trimmed.slice(1) + (/[.!?]$/.test(trimmed) ? "" : ".");
}

// -- conversations ---------------------------------------------------------------------

function threadFromUrl() {
  const match = /(?:^#|&)thread=([\w-]+)/.exec(location.hash);
  return match ? match[1] : null;
}

function setThread(threadId) {
  state.threadId = threadId;
  history.replaceState(null, "", threadId ? `#thread=${threadId}` : location.pathname);
  for (const item of $("thread-list").querySelectorAll("button")) {
    if (item.dataset.threadId === threadId) item.setAttribute("aria-current", "page");
    else item.removeAttribute("aria-current");
  }
}

async function loadThreads() {
  let threads;
  try {
    threads = await state.api.json("GET", "/api/v1/chat");
  } catch (error) {
    $("thread-list").replaceChildren(el("li", {}, errorBox(error)));
    return;
  }
  $("threads-empty").hidden = threads.length > 0;
  $("thread-list").replaceChildren(...threads.map((thread) => el("li", {},
    el("button", {
      type: "button", class: "thread", dataset: { threadId: thread.thread_id },
      "aria-current": thread.thread_id === state.threadId ? "page" : null,
      onclick: () => { openThread(thread.thread_id); closeThreads(); },
    }, el("span", { class: "thread-title", text: thread.title || "Conversation" }),
    el("time", { class: "thread-time", datetime: thread.updated_at, text: when(thread.updated_at) })))));
}

function when(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const today = new Date();
  return date.toDateString() === today.toDateString()
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleDateString([], { day: "numeric", month: "short" });
}

function clearLog() {
  $("log").replaceChildren();
  state.pending = null;
  updateComposer();
}

function newThread() {
  clearLog();
  $("log").append(welcome);
  setThread(null);
  $("composer-input").focus();
}

async function openThread(threadId) {
  if (state.busy) return;
  clearLog();
  setThread(threadId);
  const loading = el("p", { class: "muted", text: "Loading the conversation…" });
  $("log").append(loading);
  let thread;
  setBusy(true);
  try {
    thread = await state.api.json("GET", `/api/v1/chat/${encodeURIComponent(threadId)}`);
  } catch (error) {
    loading.replaceWith(errorBox(error));
    setThread(null); // the next message starts a new conversation
    return;
  } finally {
    setBusy(false);
  }
  loading.remove();
  for (const message of thread.messages) {
    if (message.role === "user") append(userTurn(message.content));
    else append(el("article", { class: "turn assistant" },
      el("header", { class: "turn-head" }, el("span", { class: "who", text: "Comptoir" })),
      el("div", { class: "answer" }, renderText(message.content))));
  }
  if (thread.pending_approval) {
    const turn = new AssistantTurn(actions);
    turn.finish({ agents: [thread.pending_approval.agent], tool_calls: [], pending_approval: thread.pending_approval, answer: "" });
    append(turn.node);
    scrollToEnd(true);
    waitFor(turn);
    return;
  }
  scrollToEnd(true);
  $("composer-input").focus();
}

// -- turns -----------------------------------------------------------------------------

function append(node) {
  const stick = nearEnd();
  $("log").append(node);
  scrollToEnd(stick);
}

function nearEnd() {
  const log = $("log");
  return log.scrollHeight - log.scrollTop - log.clientHeight < 120;
}

function scrollToEnd(force = false) {
  const log = $("log");
  if (force || nearEnd()) log.scrollTop = log.scrollHeight;
}

/** Run one streamed request into a new assistant turn; resolves with the turn. */
async function runTurn(path, body) {
  const turn = new AssistantTurn(actions);
  append(turn.node);
  setBusy(true);
  try {
    const last = await state.api.stream(path, body, (name, data) => {
      const stick = nearEnd();
      turn.handle(name, data);
      if (name === "done") setThread(data.result.thread_id);
      scrollToEnd(stick);
    });
    if (last !== "done" && last !== "error") {
      turn.fail({ message: "The answer stopped before it was finished. Try again." });
    }
  } catch (error) {
    turn.fail(error);
    if (error.code === "not_found" && error.field === "thread_id") setThread(null);
  } finally {
    setBusy(false);
  }
  if (turn.result && turn.result.pending_approval) waitFor(turn);
  else $("composer-input").focus();
  loadThreads();
  return turn;
}

async function send(text) {
  const message = text.trim();
  if (!message || state.busy) return;
  if (state.pending) {
    hint("Approve, reject or edit the pending action first.");
    state.pending.card.focus();
    return;
  }
  $("welcome")?.remove();
  append(userTurn(message));
  $("composer-input").value = "";
  growComposer();
  const body = state.threadId ? { message, thread_id: state.threadId } : { message };
  await runTurn("/api/v1/chat/stream", body);
}

function waitFor(turn) {
  state.pending = turn;
  updateComposer();
  turn.card.focus();
}

const DECISION_WORDS = {
  approve: ["Approved", "Approving…"],
  reject: ["Rejected", "Rejecting…"],
  edit: ["Approved with edited arguments", "Approving with your arguments…"],
};

/** A decision on a pending approval: the card says what was decided, the outcome streams
 *  in as a new turn. A refused decision (bad arguments) leaves the card open. */
async function decide(turn, card, decision) {
  if (state.busy) return;
  const [done, doing] = DECISION_WORDS[decision.decision];
  card.setBusy(true, doing);
  setBusy(true);
  const path = `/api/v1/chat/${encodeURIComponent(state.threadId)}/approval/stream`;
  let next = null;
  let refused = null;
  try {
    const response = await state.api.send("POST", path, decision, "text/event-stream");
    // The decision was accepted: what follows is its outcome, read as a stream below.
    card.settle(`${done} by you.`);
    state.pending = null;
    append(userTurn(decision.decision === "edit" ? JSON.stringify(decision.args) : done, decision.decision === "edit" ? `${done}: ` : ""));
    next = new AssistantTurn(actions);
    append(next.node);
    await readStream(response, next);
  } catch (error) {
    if (next) next.fail(error);
    else refused = error;
  } finally {
    setBusy(false);
  }
  if (refused) {
    card.showError(refused);
    return;
  }
  updateComposer();
  if (next.result && next.result.pending_approval) waitFor(next);
  else $("composer-input").focus();
  loadThreads();
}

async function readStream(response, turn) {
  const last = await state.api.readEvents(response, (name, data) => {
    const stick = nearEnd();
    turn.handle(name, data);
    scrollToEnd(stick);
  });
  if (last !== "done" && last !== "error") {
    turn.fail({ message: "The answer stopped before it was finished. Try again." });
  }
}

async function openDocument(doc, link) {
  const label = link.textContent;
  link.setAttribute("aria-busy", "true");
  try {
    const url = await state.api.documentUrl(doc.id);
    const opened = window.open(url, "_blank");
    if (opened) {
      opened.opener = null;
      setTimeout(() => URL.revokeObjectURL(url), 60_000); // the open tab keeps its copy
    } else {
      // A blocked pop-up: the link itself now points at the file.
      link.href = url;
      link.target = "_blank";
      link.textContent = `${label} (ready: open)`;
    }
  } catch (error) {
    link.after(errorBox(error));
  } finally {
    link.removeAttribute("aria-busy");
  }
}

const actions = { decide, openDocument };

// -- composer --------------------------------------------------------------------------

function setBusy(busy) {
  state.busy = busy;
  updateComposer();
}

function hint(text) {
  $("composer-hint").textContent = text;
}

function updateComposer() {
  $("composer-send").disabled = state.busy || Boolean(state.pending);
  if (state.busy) hint("Comptoir is working…");
  else if (state.pending) hint("An action waits for your decision above: approve, reject or edit it.");
  else hint("");
}

function growComposer() {
  const input = $("composer-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, window.innerHeight * 0.4)}px`;
}

function openThreads() {
  document.body.classList.add("threads-open");
  $("threads-toggle").setAttribute("aria-expanded", "true");
  $("new-thread").focus();
}

function closeThreads() {
  if (!document.body.classList.contains("threads-open")) return;
  document.body.classList.remove("threads-open");
  $("threads-toggle").setAttribute("aria-expanded", "false");
}

let welcome;

function start() {
  welcome = $("welcome");
  $("signin-form").addEventListener("submit", submitSignIn);
  $("signout").addEventListener("click", () => signOut());
  $("new-thread").addEventListener("click", () => { if (!state.busy) newThread(); closeThreads(); });
  $("threads-toggle").addEventListener("click", () => {
    if (document.body.classList.contains("threads-open")) closeThreads();
    else openThreads();
  });
  document.addEventListener("click", (event) => {
    const open = document.body.classList.contains("threads-open");
    if (open && !event.target.closest("#threads, #threads-toggle")) closeThreads();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && document.body.classList.contains("threads-open")) {
      closeThreads();
      $("threads-toggle").focus();
    }
  });
  for (const example of document.querySelectorAll(".example")) {
    example.addEventListener("click", () => send(example.textContent));
  }
  const input = $("composer-input");
  input.addEventListener("input", growComposer);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(input.value);
    }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send(input.value);
  });
  window.addEventListener("hashchange", () => {
    const threadId = threadFromUrl();
    if (state.api && threadId && threadId !== state.threadId) openThread(threadId);
  });

  const key = sessionStorage.getItem(KEY_STORAGE);
  if (!key) {
    signOut();
    return;
  }
  signIn(key, { remembered: true }).catch((error) =>
    signOut(error.status === 401 ? "The saved API key was refused; sign in again." : error.message));
}

start();
