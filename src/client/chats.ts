/**
 * The caller's chat list over HTTP, for a sidebar: list (newest activity first, by pages),
 * rename and delete any of the caller's chats, connected to or not. Listing needs an identity
 * (a token): an open relay refuses it with `identity_required`. docs/chats.md.
 */
import type { ChatPage } from "../protocol.ts";
import { pageAddress } from "./environment.ts";
import { RelayHttp, type TokenSource } from "./http.ts";

/** Options of {@link SluiceChats}. */
export interface SluiceChatsOptions {
  /** The relay's base URL; defaults to the page's origin. */
  url?: string;
  /** The relay's access token, sent as a Bearer header: a string, or a function giving the current one. */
  token?: TokenSource;
}

/** The chats of the caller (the principal of its token). */
export class SluiceChats {
  private readonly http: RelayHttp;

  constructor(options: SluiceChatsOptions = {}) {
    this.http = new RelayHttp(new URL(options.url ?? pageAddress()), options.token);
  }

  /** A page of chats (`limit` 1-100, default 20); pass the page's `cursor` for the next one. */
  list(options: { limit?: number; cursor?: string } = {}): Promise<ChatPage> {
    return this.http.list(options.limit, options.cursor);
  }

  /** Renames a chat; resolves with the title as stored (on one line, trimmed). */
  rename(session: string, title: string): Promise<string> {
    return this.http.rename(session, title);
  }

  /** Deletes a chat and all it stored; its open clients get `deleted`. Idempotent. */
  delete(session: string): Promise<void> {
    return this.http.remove(session);
  }
}
