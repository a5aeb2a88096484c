// The demo page: a chat that streams answers through the Sluice client (client.js is built from
// src/client by `npm run build:client`), with the caller's chats in a sidebar (chat-list.js).
// Model output is only ever set with textContent.
import { ChatList } from "./chat-list.js";
import { SluiceChats, SluiceClient, Transcript } from "./client.js";

const STORAGE_KEY = "sluice.session";
const TOKEN_KEY = "sluice.token";
// A relay with AUTH_TOKENS: open the page as /#token=<token>. The fragment never reaches a
// server; the page keeps the token in this browser and takes it out of the address bar.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.has("token")) {
  localStorage.setItem(TOKEN_KEY, fragment.get("token"));
  history.replaceState(null, "", location.pathname + location.search);
}
const token = localStorage.getItem(TOKEN_KEY) ?? undefined;
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
const chats = new SluiceChats({ token });
const chatList = new ChatList({
  list: $("#chats"),
  note: $("#chats-note"),
  chats,
  onOpen: (session) => {
    if (session === client?.session) return;
    notice.hidden = true;
    start(session);
  },
  onRename: renameChat,
  onDelete: deleteChat,
});

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
  client = new SluiceClient({ session, transport, token });
  client.on(onEvent);
  // For the browser tests (test/browser): the live client and what it assembled.
  window.__sluice = { client, transcript, chatList };
  client.connect();
  render();
}

function onEvent(event) {
  if (event.type === "state") {
    state = event.state;
    showState(event);
  } else if (event.type === "session") {
    localStorage.setItem(STORAGE_KEY, event.session);
    chatList.setCurrent(event.session);
    if (needsHistory) void loadHistory();
  } else if (event.type === "renamed") {
    chatList.noteTitle(event.session, event.title);
  } else if (event.type === "deleted") {
    onDeleted(event.session);
  } else if (event.type === "error" && !("seq" in event)) {
    onRefusal(event);
  } else {
    const changed = transcript.apply(event);
    // A start adds the question as well as the answer: lay the list out again.
    if (event.type === "start") {
      chatList.noteStart(client.session, event.prompt);
      render();
    } else if (changed) renderMessage(changed);
    if (event.type === "done") void chatList.refresh().catch(() => {});
  }
  updateControls();
}

async function renameChat(session, title) {
  try {
    if (session === client.session) await client.rename(title);
    else chatList.noteTitle(session, await chats.rename(session, title));
  } catch (error) {
    showNotice(`Could not rename the chat: ${error.message}`);
  }
}

async function deleteChat(session) {
  try {
    if (session !== client.session) {
      await chats.delete(session);
      chatList.forget(session);
      return;
    }
    await client.delete();
    // Sent over HTTP (SSE, or while reconnecting), the relay's `deleted` may not reach this client.
    if (transport === "sse" || state !== "open") onDeleted(session);
  } catch (error) {
    showNotice(`Could not delete the chat: ${error.message}`);
  }
}

/** The chat `session` is gone (deleted here or elsewhere, or expired): show another one. */
function onDeleted(session) {
  const next = chatList.neighbour(session);
  chatList.forget(session);
  if (session !== client.session) return;
  localStorage.removeItem(STORAGE_KEY);
  start(next);
}

function onRefusal(error) {
  if (error.code === "session_not_found") {
    // The relay forgot this session (deleted, expired, or its local state was wiped): begin a new one.
    if (client.session) chatList.forget(client.session);
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
