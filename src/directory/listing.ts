/**
 * A session's side of its owner's chat list, kept in the owner's Account object: one call per
 * change (created, renamed, removed); an answer's start and end ride on the calls its slot
 * makes to the same object (admission, heartbeat, end). The list is a convenience, never a
 * reason for an answer to fail: every call is caught and logged (ids only, never content or
 * tokens). In open mode there is no list (listing would hand out the only capability), so
 * nothing is sent.
 */
import type { Account } from "../account/Account.ts";
import { accountOf } from "../account/stub.ts";
import type { Env } from "../env.ts";
import { SluiceError } from "../errors.ts";
import type { ChatPage, ListRequest } from "../protocol.ts";
import type { SessionStore } from "../session/store.ts";
import type { AnswerSummary, StreamingMark } from "./chat-list.ts";
import { PREVIEW_CHARS, shorten, titleFromPrompt } from "./chat-text.ts";

/** The principal id of every caller when no identity is configured (src/auth.ts). */
export const OPEN_PRINCIPAL = "open";

/** The account holding `principal`'s chat list, or undefined in open mode or without ACCOUNTS. */
export function chatDirectory(env: Env, principal: string): DurableObjectStub<Account> | undefined {
  return principal === OPEN_PRINCIPAL ? undefined : accountOf(env, principal);
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
    throw new SluiceError(
      "config_error",
      "The chat list needs the ACCOUNTS Durable Object binding.",
    );
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
  private stub: DurableObjectStub<Account> | undefined;
  private stubOwner: string | undefined;

  constructor(
    private readonly env: Env,
    private readonly store: SessionStore,
  ) {}

  private target(): { directory: DurableObjectStub<Account>; session: string } | undefined {
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

  /**
   * The streaming mark of an answer starting now, when the list lives in the account of
   * `limitKey` (the one its slot is taken in: for a token or a user, the owner's), so the mark
   * rides on the admission; else undefined. `prompt` titles a first answer.
   */
  markAt(limitKey: string, prompt?: string): StreamingMark | undefined {
    const session = this.store.sessionId();
    if (!this.sharesAccount(limitKey) || session === undefined) return undefined;
    return { session, title: sessionTitle(this.store) ?? titleFromPrompt(prompt) ?? null };
  }

  /** The chat row of an answer that ended with `answer` (empty when none came), for its account. */
  endAt(limitKey: string, answer: string): { session: string; summary: AnswerSummary } | undefined {
    const session = this.store.sessionId();
    if (!this.sharesAccount(limitKey) || session === undefined) return undefined;
    const last = answer.trim() === "" ? (this.store.lastMessage() ?? "") : answer;
    const summary: AnswerSummary = {
      title: sessionTitle(this.store),
      messages: this.store.messageCount(),
      preview: shorten(last, PREVIEW_CHARS),
      at: Date.now(),
    };
    return { session, summary };
  }

  /** Whether this session's list is in the account of `limitKey` (never in open mode). */
  private sharesAccount(limitKey: string): boolean {
    const owner = this.store.owner();
    return owner !== undefined && owner !== OPEN_PRINCIPAL && owner === limitKey;
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
