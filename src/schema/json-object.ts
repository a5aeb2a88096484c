/** The one reader of a client's frame or body: size check, JSON.parse, must be an object. */
import { SluiceError } from "../errors.ts";

/** Whether `value` is a JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A WebSocket frame or HTTP body as a JSON object of at most `limit` characters, or the error
 * the client should see: binary frames and non-objects `invalid_request`, text over the limit
 * `frame_too_large`, text that is not JSON `invalid_json` with the parser's reason.
 */
export function readJsonObject(
  raw: string | ArrayBuffer,
  limit: number,
  what: "frame" | "body",
): Record<string, unknown> {
  if (typeof raw !== "string") {
    throw new SluiceError("invalid_request", "Binary frames are not supported; send JSON text.");
  }
  if (raw.length > limit) {
    const noun = what === "frame" ? "Frames" : "Bodies";
    throw new SluiceError("frame_too_large", `${noun} are limited to ${limit} characters.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unreadable";
    throw new SluiceError("invalid_json", `The ${what} is not valid JSON: ${reason}`);
  }
  if (!isRecord(value)) {
    throw new SluiceError("invalid_request", `The ${what} must be a JSON object.`);
  }
  return value;
}
