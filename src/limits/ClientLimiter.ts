/**
 * One Durable Object per client (token, else IP) counting its answers in progress. A
 * global count needs one place that sees every session of the client, which the Rate Limiting
 * binding (per location, eventually consistent, no "release") cannot be.
 *
 * Leases expire unless renewed, so a session that dies without releasing frees its slot by
 * itself. Leases live in memory only: if this object is evicted (after a long idle, when few
 * leases can be alive), the count restarts from zero, erring on the side of serving.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";

export class ClientLimiter extends DurableObject<Env> {
  private readonly leases = new Map<string, number>();

  /** Takes a slot for `lease` if fewer than `limit` are held; true when taken. */
  acquire(lease: string, limit: number, ttlMs: number): boolean {
    const now = Date.now();
    for (const [id, expires] of this.leases) if (expires <= now) this.leases.delete(id);
    if (!this.leases.has(lease) && this.leases.size >= limit) return false;
    this.leases.set(lease, now + ttlMs);
    return true;
  }

  /** Extends a held lease. */
  renew(lease: string, ttlMs: number): void {
    if (this.leases.has(lease)) this.leases.set(lease, Date.now() + ttlMs);
  }

  /** Frees a slot. */
  release(lease: string): void {
    this.leases.delete(lease);
  }
}
