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

/**
 * The tool the page offers the model with every prompt, and runs itself: its result is canned
 * (no network), so `/tool weather Paris` to the demo model shows a whole round trip offline.
 */
const DEMO_TOOLS = [
  {
    name: "weather",
    description: "The weather in a city. (The demo page answers with made-up data.)",
    inputSchema: {
      type: "object",
      properties: { query: { type: "string", description: "The city" } },
    },
  },
];

const transcript = new Transcript();
/** Tool calls this page has answered, so a replayed `done` or a reloaded history never sends twice. */
const answered = new Set();
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
    if (event.type === "done") {
      void chatList.refresh().catch(() => {});
      if (changed) answerToolCalls(changed);
    }
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
  // Another tab of this session answered the tool calls first: nothing is wrong.
  if (error.code === "tool_result_duplicate" || error.code === "no_tool_call_pending") return;
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
    // A page reloaded while its answer waited for tool results answers them now.
    const last = transcript.messages.at(-1);
    if (last) answerToolCalls(last);
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
    const parts = document.createElement("div");
    parts.className = "parts";
    const meta = document.createElement("p");
    meta.className = "meta";
    item.append(who, parts, meta);
    items.set(message.id, item);
    list.append(item);
    empty.hidden = true;
  }
  const stickToBottom = isNearBottom();
  item.dataset.status = message.status;
  renderParts(item.querySelector(".parts"), partsOf(message), message.status === "streaming");
  item.querySelector(".meta").textContent = describe(message);
  if (stickToBottom) scrollTo({ top: document.documentElement.scrollHeight });
  return item;
}

/** What a message shows, in order: its parts, or its text alone (a question; an older relay). */
function partsOf(message) {
  const parts = (message.parts ?? []).filter((part) => part.type !== "step-start");
  if (parts.length > 0) return parts;
  return [{ type: "text", text: message.content }];
}

/**
 * Lays `parts` out in `container`, reusing the element of each part that is still of the same
 * kind, so a delta only changes one text node and an opened Reasoning stays open.
 */
function renderParts(container, parts, streaming) {
  parts.forEach((part, index) => {
    let element = container.children[index];
    if (element?.dataset.part !== part.type) {
      const fresh = createPart(part.type);
      if (element) element.replaceWith(fresh);
      else container.append(fresh);
      element = fresh;
    }
    fillPart(element, part, streaming && index === parts.length - 1);
  });
  while (container.children.length > parts.length) container.lastElementChild.remove();
}

function createPart(type) {
  if (type === "reasoning") {
    // Collapsed: the answer is what the reader came for; the thinking is one click away.
    const details = document.createElement("details");
    details.className = "reasoning";
    const summary = document.createElement("summary");
    summary.textContent = "Reasoning";
    const text = document.createElement("div");
    text.className = "reasoning-text";
    details.append(summary, text);
    details.dataset.part = type;
    return details;
  }
  if (type === "tool-call") {
    const box = document.createElement("div");
    box.className = "tool-call";
    const head = document.createElement("p");
    head.className = "tool-head";
    const label = document.createElement("span");
    label.textContent = "Tool call ";
    const name = document.createElement("code");
    name.className = "tool-name";
    const state = document.createElement("span");
    state.className = "tool-state";
    head.append(label, name, state);
    const input = document.createElement("pre");
    input.className = "tool-input";
    const output = document.createElement("pre");
    output.className = "tool-output";
    box.append(head, input, output);
    box.dataset.part = type;
    return box;
  }
  const text = document.createElement("div");
  text.className = "text";
  text.dataset.part = "text";
  return text;
}

function fillPart(element, part, live) {
  if (part.type === "reasoning") {
    element.querySelector(".reasoning-text").textContent = part.text;
    element.querySelector("summary").textContent = live ? "Reasoning…" : "Reasoning";
  } else if (part.type === "tool-call") {
    element.dataset.state = part.state;
    element.querySelector(".tool-name").textContent = part.toolName;
    element.querySelector(".tool-state").textContent = ` · ${toolState(part.state)}`;
    // The arguments as the model streams them, or as it sent them when they are not JSON.
    const raw = part.state === "input-streaming" || part.state === "input-error";
    element.querySelector(".tool-input").textContent = raw
      ? (part.inputText ?? "")
      : showJson(part.input ?? {});
    const output = element.querySelector(".tool-output");
    output.hidden = part.state !== "output-available" && part.state !== "output-error";
    output.textContent = part.state === "output-error" ? part.errorText : showJson(part.output);
  } else {
    element.textContent = part.text ?? "";
  }
}

function toolState(state) {
  switch (state) {
    case "input-streaming":
      return "calling…";
    case "input-available":
      return "running…";
    case "input-error":
      return "invalid input";
    case "output-available":
      return "result";
    default:
      return "failed";
  }
}

/** JSON a person can read: on one line when short, indented when not, never longer than a screen. */
function showJson(value) {
  const flat = JSON.stringify(value) ?? "";
  const text = flat.length <= 60 ? flat : JSON.stringify(value, null, 2);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
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

/**
 * Runs the tool calls `message` waits for (an answer that ended with finish `tool_calls`) and
 * sends their results; the session then streams the answer's continuation.
 */
function answerToolCalls(message) {
  if (message.role !== "assistant" || message.status !== "complete") return;
  if (message.finish !== "tool_calls") return;
  const waiting = (message.parts ?? []).filter(
    (part) =>
      part.type === "tool-call" &&
      part.state === "input-available" &&
      !answered.has(part.toolCallId),
  );
  if (waiting.length === 0) return;
  for (const call of waiting) answered.add(call.toolCallId);
  client.submitToolResults(waiting.map(runTool)).catch((error) => showNotice(error.message));
}

/** The demo's tools: `weather` gives canned weather; any other name is an error result. */
function runTool(call) {
  if (call.toolName !== "weather") {
    return {
      toolCallId: call.toolCallId,
      errorText: `The demo page has no tool named ${call.toolName}.`,
    };
  }
  const asked = call.input?.query ?? call.input?.city;
  const city = typeof asked === "string" && asked.trim() !== "" ? asked.trim() : "Paris";
  return {
    toolCallId: call.toolCallId,
    output: { city, forecast: "sunny", temperatureC: 18, source: "canned by the demo page" },
  };
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
    await client.send(prompt, { tools: DEMO_TOOLS });
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
