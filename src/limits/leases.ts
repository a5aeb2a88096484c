/**
 * The answer slots of one client (token, else IP), kept in its Account object: the answers it
 * has in progress. A global count needs one place that sees every session of the client, which
 * the Rate Limiting binding (per location, eventually consistent, no "release") cannot be.
 *
 * Leases expire unless renewed, so a session that dies without releasing frees its slot by
 * itself. They are stored, not only held in memory: the runtime evicts an object after 10 s
 * with nothing to do, and a long answer gives its Account nothing to do between its admission
 * and its end, so an in-memory count would restart from zero under every answer longer than
 * that. A lease costs a row written when taken, one per renewal and one when freed (in the
 * object's key-value table, which needs no schema).
 *
 * A lease may carry a note (the Account keeps the chat list's streaming mark in it), stored
 * with it, so what the note stands for comes back with the leases after an eviction.
 */

/** A lease as stored: under `lease:<id>` in the object's key-value table. */
interface StoredLease<Note> {
  expires: number;
  note?: Note | undefined;
}

const PREFIX = "lease:";

/**
 * Lease writes do not hold the Account's output gate (`allowUnconfirmed`): an admission's
 * answer would otherwise wait for the write to be durable (in production a round trip to the
 * storage replicas) before the session may show its first token. A lease lost with an
 * unconfirmed write is what every lease was before they were stored: the count errs on the
 * side of serving, and the slot frees itself when it expires.
 */
const UNCONFIRMED = { allowUnconfirmed: true } as const;

export class Leases<Note> {
  /** Rows written since this object started; the storage-cost tests read it. */
  rowsWritten = 0;
  private readonly held = new Map<string, StoredLease<Note>>();

  constructor(private readonly storage: DurableObjectStorage) {
    for (const [key, lease] of storage.kv.list<StoredLease<Note>>({ prefix: PREFIX })) {
      this.held.set(key.slice(PREFIX.length), lease);
    }
  }

  /** The notes of the leases held now (after an eviction, those of the answers still running). */
  notes(): Note[] {
    const now = Date.now();
    return [...this.held.values()].flatMap(({ expires, note }) =>
      expires > now && note !== undefined ? [note] : [],
    );
  }

  /**
   * Takes a slot for `lease` (or renews it, if held) unless `limit` others are held; true when
   * taken. `note` is stored with it.
   */
  acquire(lease: string, limit: number, ttlMs: number, note?: Note): boolean {
    const now = Date.now();
    for (const [id, { expires }] of this.held) if (expires <= now) this.release(id);
    if (!this.held.has(lease) && this.held.size >= limit) return false;
    this.store(lease, { expires: now + ttlMs, note });
    return true;
  }

  /** Extends a held lease (and replaces its note, when given). */
  renew(lease: string, ttlMs: number, note?: Note): void {
    const held = this.held.get(lease);
    if (held) this.store(lease, { expires: Date.now() + ttlMs, note: note ?? held.note });
  }

  /** Frees a slot. */
  release(lease: string): void {
    if (!this.held.delete(lease)) return;
    this.rowsWritten += 1;
    this.storage.delete(PREFIX + lease, UNCONFIRMED).catch(failed("free", lease));
  }

  private store(lease: string, value: StoredLease<Note>): void {
    this.held.set(lease, value);
    this.rowsWritten += 1;
    this.storage.put(PREFIX + lease, value, UNCONFIRMED).catch(failed("store", lease));
  }
}

/** A write that failed leaves the slot in memory, where it still counts until the object goes. */
function failed(operation: string, lease: string): (error: unknown) => void {
  return (error) => console.error(`lease ${operation} failed for ${lease}:`, String(error));
}
