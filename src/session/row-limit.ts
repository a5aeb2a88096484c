/**
 * Cloudflare's cap on one SQLite value or row in a Durable Object, kept in code because the
 * local runtime does not enforce it: every write is measured against it before it reaches SQL,
 * and long texts are stored in pieces under it.
 */

/**
 * "Maximum string, BLOB or table row size: 2 MB" for SQLite-backed Durable Objects
 * (https://developers.cloudflare.com/durable-objects/platform/limits/, "SQL storage limits").
 * Read as 2,000,000 bytes, the smaller of the two ways to read "2 MB".
 */
export const MAX_SQL_ROW_BYTES = 2_000_000;

/**
 * Bytes a statement's bound values may fill: the limit less room for what a write does not
 * bind (the columns an UPDATE leaves as they are, SQLite's record header).
 */
export const MAX_BOUND_BYTES = MAX_SQL_ROW_BYTES - 4_096;

/** The longest piece a long text is cut into: half the limit, so its row stays far below it. */
export const MAX_PIECE_BYTES = 1_000_000;

/** UTF-8 bytes of `text` (a lone surrogate counts 3, as the encoder's replacement does). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (isPair(text, i)) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * An upper bound on the bytes a statement's bound values take in a row: exact UTF-8 size
 * for long strings, three bytes per unit for short ones, 8 per number.
 */
export function boundBytes(values: ReadonlyArray<ArrayBuffer | string | number | null>): number {
  let bytes = 0;
  for (const value of values) {
    // Each UTF-16 unit is at most 3 UTF-8 bytes: short strings need no counting.
    if (typeof value === "string")
      bytes += value.length * 3 <= MAX_PIECE_BYTES ? value.length * 3 : utf8Bytes(value);
    else if (value instanceof ArrayBuffer) bytes += value.byteLength;
    else bytes += 8;
  }
  return bytes;
}

/**
 * Cuts `text` into pieces of at most `maxBytes` UTF-8 bytes each, never inside a character
 * (a surrogate pair stays whole); joined, they are `text`. An empty text is one empty piece.
 */
export function splitUtf8(text: string, maxBytes = MAX_PIECE_BYTES): string[] {
  if (text.length * 3 <= maxBytes) return [text];
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const unit = text.charCodeAt(i);
    const pair = isPair(text, i);
    const size = unit < 0x80 ? 1 : unit < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    i += pair ? 2 : 1;
  }
  pieces.push(text.slice(start));
  return pieces;
}

function isPair(text: string, i: number): boolean {
  const unit = text.charCodeAt(i);
  if (unit < 0xd800 || unit > 0xdbff) return false;
  const next = text.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}
