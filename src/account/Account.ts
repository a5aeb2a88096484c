/**
 * One Durable Object per client (its limit key: the principal id, or in open mode the IP
 * address): its answer slots, its chat list and its usage ledger. One object, so a prompt's
 * admission (slot and quota) is one call, an answer's end (slot, chat list row, usage row) is
 * one call, and a new user starts one object beside its session, not three.
 *
 * Its chat and usage tables are created on first use; its leases are stored (a row per slot
 * taken, renewed or freed), so they outlive the object's eviction between an answer's
 * admission and its end, and bring back the streaming marks they carry.
 */
import { DurableObject } from "cloudflare:workers";
import { type AnswerSummary, ChatList, type StreamingMark } from "../directory/chat-list.ts";
import type { Env } from "../env.ts";
import { Leases } from "../limits/leases.ts";
import type { ChatPage, ListRequest } from "../protocol.ts";
import { type QuotaLimits, quotaVerdict } from "../usage/quota.ts";
import { type QuotaUse, type UsageEntry, type UsageRow, UsageTable } from "../usage/usage-table.ts";

/** What a prompt asks of its client's account before its answer may start. */
export interface AdmitRequest {
  lease: string;
  /** Answers the client may have streaming at once. */
  limit: number;
  ttlMs: number;
  /** The quotas to check, when any is set and the answer counts. */
  quota?: QuotaLimits | undefined;
  /** The session's streaming mark, set when admitted (when its chat list is here). */
  mark?: StreamingMark | undefined;
}

/** Admitted, or why not; a refused prompt holds no slot and sets no mark. */
export type Admission =
  | { admitted: true }
  | { admitted: false; over: "slots" }
  | { admitted: false; over: "quota"; used: QuotaUse };

/** What an ended answer tells its client's account, all in one call. */
export interface AnswerEnd {
  /** The answer's slot, freed. */
  lease: string;
  /** Its chat list row, when the session's list is here. */
  chat?: { session: string; summary: AnswerSummary } | undefined;
  /** Its tokens, when they count in this ledger. */
  usage?: UsageEntry | undefined;
}

export class Account extends DurableObject<Env> {
  /** Each lease notes its answer's streaming mark, when its chat list is here. */
  private leaseTable: Leases<StreamingMark> | undefined;
  private chatList: ChatList | undefined;
  private usageTable: UsageTable | undefined;

  private get chats(): ChatList {
    this.chatList ??= new ChatList(this.ctx.storage.sql);
    return this.chatList;
  }

  /** The slots, read from storage when the object starts; their marks go back on the list. */
  private slots(): Leases<StreamingMark> {
    if (!this.leaseTable) {
      this.leaseTable = new Leases(this.ctx.storage);
      for (const mark of this.leaseTable.notes()) this.chats.streamingNow(mark.session, mark.title);
    }
    return this.leaseTable;
  }

  private get usage(): UsageTable {
    this.usageTable ??= new UsageTable(this.ctx.storage.sql);
    return this.usageTable;
  }

  /**
   * Admits a prompt: over a quota, refused; no free slot, refused; else its slot is taken and
   * its mark set. A quota that cannot be read lets the prompt through (logged): an outage of
   * the counter should not become an outage of the relay.
   */
  admit(request: AdmitRequest): Admission {
    const now = Date.now();
    if (request.quota) {
      try {
        const used = this.usage.quotaUse(now);
        if (quotaVerdict(used, request.quota, now)) return { admitted: false, over: "quota", used };
      } catch (error) {
        console.error("quota check failed, prompt let through:", String(error));
      }
    }
    if (!this.slots().acquire(request.lease, request.limit, request.ttlMs, request.mark)) {
      return { admitted: false, over: "slots" };
    }
    if (request.mark) this.chats.streamingNow(request.mark.session, request.mark.title);
    return { admitted: true };
  }

  /** An answer ended: its slot is freed, its chat row and its usage row written. */
  ended(end: AnswerEnd): void {
    this.slots().release(end.lease);
    try {
      if (end.chat) this.chats.answered(end.chat.session, end.chat.summary);
    } finally {
      if (end.usage) this.usage.record(end.usage);
    }
  }

  /** A long answer's heartbeat: its slot and its streaming mark renewed. */
  beat(lease: string, ttlMs: number, mark?: StreamingMark): void {
    this.slots().renew(lease, ttlMs, mark);
    if (mark) this.chats.streamingNow(mark.session, mark.title);
  }

  /** Frees a slot. */
  release(lease: string): void {
    this.slots().release(lease);
  }

  /** A session was created (idempotent: creating twice keeps the first). */
  created(session: string, at: number): void {
    this.chats.created(session, at);
  }

  /** The chat was renamed. */
  renamed(session: string, title: string): void {
    this.chats.renamed(session, title);
  }

  /** The chat was deleted or expired. */
  removed(session: string): void {
    this.chats.removed(session);
  }

  /** One page of the chat list, newest activity first. */
  list(request: ListRequest): ChatPage {
    // The leases first: after an eviction they bring back the marks of the answers running.
    this.slots();
    return this.chats.list(request);
  }

  /** Output tokens of the day and of the UTC month that `now` falls in. */
  quotaUse(now: number): QuotaUse {
    return this.usage.quotaUse(now);
  }

  /** Every usage row from day number `from` to `to`, inclusive, oldest first. */
  rows(from: number, to: number): UsageRow[] {
    return this.usage.rows(from, to);
  }

  /** Rows written since this object started, per table, for the storage-cost tests. */
  stats(): { chatRows: number; usageRows: number; leaseRows: number } {
    return {
      leaseRows: this.leaseTable?.rowsWritten ?? 0,
      chatRows: this.chatList?.rowsWritten ?? 0,
      usageRows: this.usageTable?.rowsWritten ?? 0,
    };
  }
}
