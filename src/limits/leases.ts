/**
 * The answer slots of one client (token, else IP), kept in its Account object: the answers it
 * has in progress. A global count needs one place that sees every session of the client, which
 * the Rate Limiting binding (per location, eventually consistent, no "release") cannot be.
 *
 * Leases expire unless renewed, so a session that dies without releasing frees its slot by
 * itself. They are stored, not only held in memory: the runtime evicts an object after 10 s
 * with nothing to do, and a long answer gives its Account nothing to do between its admission
 * and its end, so an in-memory count would restart from zero under every answer longer than
 * that. A lease costs a row written when taken, one per renewal and one when freed.
 *
 * A lease may carry the streaming mark of the answer holding it (its session and title), so
 * the chat list's marks come back with the leases after an eviction.
 */

/** The mark a lease carries: the chat list shows its session as answering. */
export interface LeaseMark {
  session: string;
  title: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS leases (
  id TEXT PRIMARY KEY,
  expires INTEGER NOT NULL,
  session TEXT,
  title TEXT
) WITHOUT ROWID;`;

export class Leases {
  /** Rows written since this object started; the storage-cost tests read it. */
  rowsWritten = 0;
  private readonly held = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    for (const row of sql.exec<{ id: string; expires: number }>("SELECT id, expires FROM leases")) {
      this.held.set(row.id, row.expires);
    }
  }

  /** The marks of the leases held now (read once, when the object starts). */
  marks(): LeaseMark[] {
    const rows = this.sql.exec<{ session: string; title: string | null }>(
      "SELECT session, title FROM leases WHERE session IS NOT NULL AND expires > ?",
      Date.now(),
    );
    return rows.toArray();
  }

  /**
   * Takes a slot for `lease` (or renews it, if held) unless `limit` others are held; true when
   * taken. `mark` is stored with it.
   */
  acquire(lease: string, limit: number, ttlMs: number, mark?: LeaseMark): boolean {
    const now = Date.now();
    const expired = [...this.held].filter(([, expires]) => expires <= now);
    if (expired.length > 0) {
      for (const [id] of expired) this.held.delete(id);
      this.write("DELETE FROM leases WHERE expires <= ?", now);
    }
    if (!this.held.has(lease) && this.held.size >= limit) return false;
    this.held.set(lease, now + ttlMs);
    this.write(
      "INSERT OR REPLACE INTO leases (id, expires, session, title) VALUES (?, ?, ?, ?)",
      lease,
      now + ttlMs,
      mark?.session ?? null,
      mark?.title ?? null,
    );
    return true;
  }

  /** Extends a held lease (and its mark's title, when given). */
  renew(lease: string, ttlMs: number, mark?: LeaseMark): void {
    if (!this.held.has(lease)) return;
    const expires = Date.now() + ttlMs;
    this.held.set(lease, expires);
    if (mark) {
      this.write(
        "UPDATE leases SET expires = ?, session = ?, title = ? WHERE id = ?",
        expires,
        mark.session,
        mark.title,
        lease,
      );
    } else {
      this.write("UPDATE leases SET expires = ? WHERE id = ?", expires, lease);
    }
  }

  /** Frees a slot. */
  release(lease: string): void {
    if (!this.held.delete(lease)) return;
    this.write("DELETE FROM leases WHERE id = ?", lease);
  }

  private write(query: string, ...bindings: SqlStorageValue[]): void {
    const cursor = this.sql.exec(query, ...bindings);
    cursor.toArray();
    this.rowsWritten += cursor.rowsWritten;
  }
}
