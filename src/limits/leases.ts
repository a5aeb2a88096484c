/**
 * The answer slots of one client (token, else IP), kept in its Account object: the answers it
 * has in progress. A global count needs one place that sees every session of the client, which
 * the Rate Limiting binding (per location, eventually consistent, no "release") cannot be.
 *
 * Leases expire unless renewed, so a session that dies without releasing frees its slot by
 * itself. Leases live in memory only: if the object is evicted (after a long idle, when few
 * leases can be alive), the count restarts from zero, erring on the side of serving.
 */
export class Leases {
  private readonly held = new Map<string, number>();

  /** Takes a slot for `lease` (or renews it, if held) unless `limit` others are held; true when taken. */
  acquire(lease: string, limit: number, ttlMs: number): boolean {
    const now = Date.now();
    for (const [id, expires] of this.held) if (expires <= now) this.held.delete(id);
    if (!this.held.has(lease) && this.held.size >= limit) return false;
    this.held.set(lease, now + ttlMs);
    return true;
  }

  /** Extends a held lease. */
  renew(lease: string, ttlMs: number): void {
    if (this.held.has(lease)) this.held.set(lease, Date.now() + ttlMs);
  }

  /** Frees a slot. */
  release(lease: string): void {
    this.held.delete(lease);
  }
}
