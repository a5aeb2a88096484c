// The demo page's sidebar: the caller's chats, newest first, with rename, delete and switch.
// With a token the list comes from the relay (GET /sessions); an open relay never lists chats
// (a session id is the only key there), so the page then keeps the chats it opened itself.
import { titleFromPrompt } from "./client.js";

const LOCAL_KEY = "sluice.chats";

/** The chats this browser opened, for an open relay: `[{session, title, lastActivity}]`. */
function readLocal() {
  try {
    const value = JSON.parse(localStorage.getItem(LOCAL_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((chat) => typeof chat?.session === "string") : [];
  } catch {
    return [];
  }
}

export class ChatList {
  /**
   * @param {object} options
   * @param {HTMLElement} options.list the `<ul>` to fill
   * @param {HTMLElement} options.note where to say that the list is this browser's only
   * @param {import("./client.js").SluiceChats} options.chats
   * @param {(session: string) => void} options.onOpen
   * @param {(session: string, title: string) => Promise<void>} options.onRename
   * @param {(session: string) => Promise<void>} options.onDelete
   */
  constructor(options) {
    this.options = options;
    /** `server` once GET /sessions answered, `local` on an open relay. */
    this.source = undefined;
    this.current = undefined;
    this.items = [];
    this.turn = 0;
  }

  /** Reloads the list and draws it. */
  async refresh() {
    // Only the latest of overlapping refreshes draws: an older answer may predate a delete.
    const turn = ++this.turn;
    if (this.source !== "local") {
      try {
        const page = await this.options.chats.list({ limit: 50 });
        if (turn !== this.turn) return;
        this.source = "server";
        this.items = page.chats;
      } catch (error) {
        if (error.code !== "identity_required") throw error;
        this.source = "local";
      }
    }
    if (this.source === "local") {
      const current = this.current;
      if (current && !readLocal().some((chat) => chat.session === current)) {
        this.saveLocal([
          { session: current, title: null, lastActivity: Date.now() },
          ...readLocal(),
        ]);
      }
      this.items = readLocal();
    }
    this.options.note.hidden = this.source !== "local";
    this.draw();
  }

  /** Marks `session` as the chat on screen. */
  setCurrent(session) {
    this.current = session;
    void this.refresh().catch(() => {});
  }

  /** A prompt was sent in `session`: an open relay's list names the chat after its first one. */
  noteStart(session, prompt) {
    // Also before the first refresh answered: it may yet say the relay is open.
    if (this.source === "server") return;
    const chats = readLocal();
    const chat = chats.find((entry) => entry.session === session) ?? { session, title: null };
    chat.title ??= titleFromPrompt(prompt) ?? null;
    chat.lastActivity = Date.now();
    this.saveLocal([chat, ...chats.filter((entry) => entry !== chat)]);
  }

  /** A chat was renamed (by this page or another client). */
  noteTitle(session, title) {
    if (this.source !== "server") {
      const chats = readLocal();
      for (const chat of chats) if (chat.session === session) chat.title = title;
      this.saveLocal(chats);
    }
    void this.refresh().catch(() => {});
  }

  /** A chat was deleted or expired. */
  forget(session) {
    if (this.current === session) this.current = undefined;
    if (this.source === "local") this.saveLocal(readLocal().filter((c) => c.session !== session));
    this.items = this.items.filter((chat) => chat.session !== session);
    this.draw();
    void this.refresh().catch(() => {});
  }

  /** The chat listed after (else before) `session`, to show once it is deleted. */
  neighbour(session) {
    const index = this.items.findIndex((chat) => chat.session === session);
    return (this.items[index + 1] ?? this.items[index - 1])?.session;
  }

  saveLocal(chats) {
    localStorage.setItem(LOCAL_KEY, JSON.stringify(chats.slice(0, 50)));
  }

  draw() {
    const { list } = this.options;
    list.replaceChildren(...this.items.map((chat) => this.item(chat)));
  }

  item(chat) {
    const li = document.createElement("li");
    li.className = "chat";
    li.dataset.session = chat.session;
    if (chat.session === this.current) li.setAttribute("aria-current", "true");
    const title = chat.title ?? "New chat";

    const open = document.createElement("button");
    open.type = "button";
    open.className = "chat-open";
    const name = document.createElement("span");
    name.className = "chat-title";
    name.textContent = title;
    open.append(name);
    if (chat.preview) {
      const preview = document.createElement("span");
      preview.className = "chat-preview";
      preview.textContent = chat.preview;
      open.append(preview);
    }
    if (chat.streaming) li.dataset.streaming = "true";
    open.addEventListener("click", () => this.options.onOpen(chat.session));

    const rename = document.createElement("button");
    rename.type = "button";
    rename.className = "chat-action chat-rename";
    rename.textContent = "✎";
    rename.title = "Rename";
    rename.setAttribute("aria-label", `Rename ${title}`);
    rename.addEventListener("click", () => this.editTitle(li, chat));

    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chat-action chat-delete";
    remove.textContent = "✕";
    remove.title = "Delete";
    remove.setAttribute("aria-label", `Delete ${title}`);
    remove.addEventListener("click", () => {
      remove.disabled = true;
      this.options.onDelete(chat.session).catch(() => {
        remove.disabled = false;
      });
    });

    li.append(open, rename, remove);
    return li;
  }

  /** Swaps the chat's title for a text field: Enter saves, Escape or leaving it cancels. */
  editTitle(li, chat) {
    const input = document.createElement("input");
    input.className = "chat-title-input";
    input.value = chat.title ?? "";
    input.maxLength = 120;
    input.setAttribute("aria-label", "Chat title");
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      if (save && title !== "" && title !== chat.title) {
        await this.options.onRename(chat.session, title).catch(() => {});
      }
      this.draw();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") void finish(true);
      if (event.key === "Escape") void finish(false);
    });
    input.addEventListener("blur", () => void finish(false));
    li.replaceChildren(input);
    input.focus();
    input.select();
  }
}
