// The demo page: a chat that streams answers through the Sluice client (client.js is built from
// src/client by `npm run build:client`). Model output is only ever set with textContent.
import { SluiceClient, Transcript } from "./client.js";

const STORAGE_KEY = "sluice.session";
const transport =
  new URLSearchParams(location.search).get("transport") === "sse" ? "sse" : "websocket";

const $ = (selector) => {
  const element = document.querySelector(selector);
  if (!element) throw new Error(`The page has no ${selector}.`);
  return element;
};
const list = $("#messages");
const empty = $("#empty");
const statusLine = $("#status");
const notice = $("#notice");
const form = $("#composer");
const input = $("#prompt");
const sendButton = $("#send");
const stopButton = $("#stop");

const transcript = new Transcript();
/** The list item of each message id, so a chunk updates one element instead of the whole list. */
const items = new Map();
let client;
let state = "connecting";
let needsHistory = true;

function start(session) {
  client?.close();
  transcript.clear();
  items.clear();
  list.replaceChildren();
  needsHistory = session !== undefined;
  client = new SluiceClient({ session, transport });
  client.on(onEvent);
  // For the browser tests (test/browser): the live client and what it assembled.
  window.__sluice = { client, transcript };
  client.connect();
  render();
}

function onEvent(event) {
  if (event.type === "state") {
    state = event.state;
    showState(event);
  } else if (event.type === "session") {
    localStorage.setItem(STORAGE_KEY, event.session);
    if (needsHistory) void loadHistory();
  } else if (event.type === "error" && !("seq" in event)) {
    onRefusal(event);
  } else {
    const changed = transcript.apply(event);
    // A start adds the question as well as the answer: lay the list out again.
    if (event.type === "start") render();
    else if (changed) renderMessage(changed);
  }
  updateControls();
}

function onRefusal(error) {
  if (error.code === "session_not_found") {
    // The relay forgot this session (its local state was wiped): begin a new one.
    localStorage.removeItem(STORAGE_KEY);
    start(undefined);
    return;
  }
  // resume_unavailable: the client rejoins by itself; the history fills in what was pruned.
  if (error.code === "resume_unavailable") void loadHistory();
  showNotice(error.message);
}

async function loadHistory() {
  needsHistory = false;
  try {
    const snapshot = await client.history();
    transcript.load(snapshot.messages);
    render();
  } catch (error) {
    showNotice(`Could not load the history: ${error.message}`);
  }
}

function showState(event) {
  statusLine.dataset.state = event.state;
  if (event.state === "open") statusLine.textContent = "Connected";
  else if (event.state === "connecting") statusLine.textContent = "Connecting…";
  else if (event.state === "closed") statusLine.textContent = "Disconnected";
  else if (event.delayMs === undefined) statusLine.textContent = "Reconnecting…";
  else {
    const seconds = (event.delayMs / 1000).toFixed(1);
    statusLine.textContent = `Reconnecting in ${seconds} s (attempt ${event.attempt})…`;
  }
}

function showNotice(text) {
  notice.textContent = text;
  notice.hidden = false;
}

/** Puts every message of the transcript in the list, in order, reusing existing items. */
function render() {
  for (const message of transcript.messages) list.append(renderMessage(message));
  empty.hidden = items.size > 0;
  updateControls();
}

function renderMessage(message) {
  let item = items.get(message.id);
  if (!item) {
    item = document.createElement("li");
    item.className = `message ${message.role}`;
    const who = document.createElement("p");
    who.className = "who";
    who.textContent = message.role === "user" ? "You" : "Sluice";
    const text = document.createElement("div");
    text.className = "text";
    const meta = document.createElement("p");
    meta.className = "meta";
    item.append(who, text, meta);
    items.set(message.id, item);
    list.append(item);
    empty.hidden = true;
  }
  const stickToBottom = isNearBottom();
  item.dataset.status = message.status;
  item.querySelector(".text").textContent = message.content;
  item.querySelector(".meta").textContent = describe(message);
  if (stickToBottom) scrollTo({ top: document.documentElement.scrollHeight });
  return item;
}

/** The line under a message: how it ended, in words. */
function describe(message) {
  if (message.role === "user") return "";
  const error = message.errorCode ? ` — ${message.errorCode}: ${message.errorMessage ?? ""}` : "";
  switch (message.status) {
    case "streaming":
      return "Streaming…";
    case "complete":
      return message.usage ? `${message.usage.outputTokens} tokens` : "";
    case "cancelled":
      return "Stopped (cancelled)";
    case "incomplete":
      return `Incomplete${error}`;
    default:
      return `Failed${error}`;
  }
}

/** Whether the reader is at the end of the page: only then does new text scroll it along. */
function isNearBottom() {
  const page = document.documentElement;
  return page.scrollHeight - page.scrollTop - page.clientHeight < 80;
}

function updateControls() {
  const streaming = transcript.streaming !== undefined;
  sendButton.disabled = state !== "open" || streaming;
  stopButton.disabled = !streaming;
  list.setAttribute("aria-busy", String(streaming));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const prompt = input.value.trim();
  if (prompt === "" || sendButton.disabled) return;
  notice.hidden = true;
  try {
    await client.send(prompt);
    input.value = "";
  } catch (error) {
    showNotice(error.message);
  }
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

stopButton.addEventListener("click", () => {
  client.cancel().catch((error) => showNotice(error.message));
});

$("#new-chat").addEventListener("click", () => {
  localStorage.removeItem(STORAGE_KEY);
  notice.hidden = true;
  start(undefined);
  input.focus();
});

if (transport === "sse") {
  $("#transport-name").textContent = "SSE (EventSource)";
  $("#transport-switch").textContent = "Use WebSocket instead";
  $("#transport-switch").href = "?";
}

start(localStorage.getItem(STORAGE_KEY) ?? undefined);
