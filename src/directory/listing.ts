/**
 * A session's side of its owner's chat list: one call per change (created, answer started and
 * ended, renamed, removed) to the owner's ChatDirectory. The list is a convenience, never a
 * reason for an answer to fail: every call is caught and logged (ids only, never content or
 * tokens). In open mode there is no list (listing would hand out the only capability), so
 * nothing is sent.
 */
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import type { ChatPage, ListRequest } from "../protocol.ts";
import type { SessionStore } from "../session/store.ts";
import type { AnswerSummary, ChatDirectory } from "./ChatDirectory.ts";
import { PREVIEW_CHARS, shorten, titleFromPrompt } from "./chat-text.ts";

/** The principal id of every caller when no identity is configured (src/auth.ts). */
export const OPEN_PRINCIPAL = "open";

/** The directory of `principal`, or undefined in open mode or without the CHATS binding. */
export function chatDirectory(
  env: Env,
  principal: string,
): DurableObjectStub<ChatDirectory> | undefined {
  if (principal === OPEN_PRINCIPAL || !env.CHATS) return undefined;
  return env.CHATS.get(env.CHATS.idFromName(principal));
}

/** A page of `principal`'s chat list, or `identity_required` in open mode. */
export async function listChats(
  env: Env,
  principal: string,
  request: ListRequest,
): Promise<ChatPage> {
  if (principal === OPEN_PRINCIPAL) {
    throw new SluiceError(
      "identity_required",
      "Listing chats needs an identity: set AUTH_TOKENS so each caller is known. In open mode a session id is the only key to its chat, so the relay never lists them.",
    );
  }
  const directory = chatDirectory(env, principal);
  if (!directory) {
    throw new SluiceError("config_error", "The chat list needs the CHATS Durable Object binding.");
  }
  return directory.list(request);
}

/** The title a session shows: the one it was given, else its first prompt shortened. */
export function sessionTitle(store: SessionStore): string | null {
  return store.title() ?? titleFromPrompt(store.firstPrompt()) ?? null;
}

function logged(operation: string, session: string): (error: unknown) => void {
  return (error) => {
    // The directory's own errors (unreachable, reset) hold no request data; bounded all the same.
    const reason =
      error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : "unknown";
    console.error(`chat list: ${operation} of session ${session} failed (${reason})`);
  };
}

/** What one session tells its owner's chat list. */
export class ChatListing {
  /** One stub for the object's life: calls on one stub arrive in order (an end never overtakes its start). */
  private stub: DurableObjectStub<ChatDirectory> | undefined;
  private stubOwner: string | undefined;

  constructor(
    private readonly env: Env,
    private readonly store: SessionStore,
  ) {}

  private target(): { directory: DurableObjectStub<ChatDirectory>; session: string } | undefined {
    const owner = this.store.owner();
    const session = this.store.sessionId();
    if (owner === undefined || session === undefined) return undefined;
    if (owner !== this.stubOwner) {
      this.stub = chatDirectory(this.env, owner);
      this.stubOwner = owner;
    }
    return this.stub && { directory: this.stub, session };
  }

  /** The session was created; awaited, so a list read right after shows it. */
  async created(): Promise<void> {
    const to = this.target();
    await to?.directory.created(to.session, Date.now()).catch(logged("create", to.session));
  }

  /** An answer started or is still running (heartbeat); the directory writes nothing for it. */
  streaming(): void {
    const to = this.target();
    to?.directory
      .streamingNow(to.session, sessionTitle(this.store))
      .catch(logged("streaming mark", to.session));
  }

  /** An answer ended with `answer` (empty when none came): the one row an answer costs. */
  answered(answer: string): void {
    const to = this.target();
    if (!to) return;
    const last = answer.trim() === "" ? (this.store.lastMessage() ?? "") : answer;
    const summary: AnswerSummary = {
      title: sessionTitle(this.store),
      messages: this.store.messageCount(),
      preview: shorten(last, PREVIEW_CHARS),
      at: Date.now(),
    };
    to.directory.answered(to.session, summary).catch(logged("answer", to.session));
  }

  /** The session was renamed. */
  async renamed(title: string): Promise<void> {
    const to = this.target();
    await to?.directory.renamed(to.session, title).catch(logged("rename", to.session));
  }

  /** The session was deleted or expired; call before its storage is wiped (it reads the owner). */
  async removed(): Promise<void> {
    const to = this.target();
    await to?.directory.removed(to.session).catch(logged("remove", to.session));
  }

  /** A page of the owner's chat list (the WebSocket `list` frame). */
  list(request: ListRequest): Promise<ChatPage> {
    return listChats(this.env, this.store.owner() ?? OPEN_PRINCIPAL, request);
  }
}
