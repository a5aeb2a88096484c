/**
 * Seeded re-chunking: replays the same bytes split at different places, to prove no result
 * depends on where the network cut the stream, including inside a multi-byte UTF-8 character.
 */

import { mulberry32 } from "../../src/providers/demo-answer.ts";

/** Smallest and largest piece `rechunk` cuts, in bytes. */
const MIN_PIECE = 1;
const MAX_PIECE = 64;

export { mulberry32 };

/** Whether `offset` falls inside a multi-byte character: the byte there is a continuation byte. */
export function isInsideCharacter(bytes: Uint8Array, offset: number): boolean {
  const byte = bytes[offset];
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/** Where else `splitOffsets` must cut, besides its random pieces. */
export interface SplitOptions {
  /** One cut right after the first byte of every multi-byte character. */
  insideCharacters?: boolean;
  /** One seeded cut strictly inside each byte range [start, end) of two bytes or more. */
  inside?: readonly (readonly [number, number])[];
}

/**
 * Where to cut `bytes`: offsets in (0, length), sorted, pieces of 1..64 bytes drawn from
 * `seed`. With `insideCharacters`, also one cut right after the first byte of every
 * multi-byte character, so each of them is split across two pieces; with `inside`, one cut
 * inside each of those ranges (for example inside every tool call's argument JSON).
 */
export function splitOffsets(
  bytes: Uint8Array,
  seed: number,
  options: SplitOptions = {},
): number[] {
  const random = mulberry32(seed);
  const cuts = new Set<number>();
  for (let offset = 0; ; ) {
    offset += MIN_PIECE + Math.floor(random() * (MAX_PIECE - MIN_PIECE + 1));
    if (offset >= bytes.length) break;
    cuts.add(offset);
  }
  if (options.insideCharacters) {
    for (let offset = 1; offset < bytes.length; offset++) {
      if (isInsideCharacter(bytes, offset) && !isInsideCharacter(bytes, offset - 1)) {
        cuts.add(offset);
      }
    }
  }
  for (const [start, end] of options.inside ?? []) {
    if (end - start >= 2) cuts.add(start + 1 + Math.floor(random() * (end - start - 1)));
  }
  return [...cuts].sort((a, b) => a - b);
}

/** `bytes` as a stream that delivers one piece per pull, cut at `offsets`. */
export function streamPieces(
  bytes: Uint8Array,
  offsets: readonly number[],
): ReadableStream<Uint8Array> {
  const ends = [...offsets, bytes.length];
  let start = 0;
  let next = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const end = ends[next++];
        if (end === undefined) return controller.close();
        // A copy, so no consumer can see or change the neighbouring pieces.
        controller.enqueue(bytes.slice(start, end));
        start = end;
      },
    },
    { highWaterMark: 0 },
  );
}

/** `bytes` split into seeded random pieces of 1..64 bytes. */
export function rechunk(bytes: Uint8Array, seed: number): ReadableStream<Uint8Array> {
  return streamPieces(bytes, splitOffsets(bytes, seed));
}

/** Like `rechunk`, but every multi-byte character is also split between two pieces. */
export function rechunkInsideCharacters(
  bytes: Uint8Array,
  seed: number,
): ReadableStream<Uint8Array> {
  return streamPieces(bytes, splitOffsets(bytes, seed, { insideCharacters: true }));
}

/** Like `rechunkInsideCharacters`, and also cut once inside each of `ranges`. */
export function rechunkInside(
  bytes: Uint8Array,
  seed: number,
  ranges: readonly (readonly [number, number])[],
): ReadableStream<Uint8Array> {
  return streamPieces(bytes, splitOffsets(bytes, seed, { insideCharacters: true, inside: ranges }));
}

/** Reads `stream` to its end and returns every chunk. */
export async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}
