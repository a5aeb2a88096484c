/** Identifiers: session ids are unguessable (128 random bits), message ids are unique. */

const SESSION_ID = /^[0-9a-f]{32}$/;

/** `bytes` as lowercase hex, two digits each. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A new session id: 32 hex digits from 16 random bytes. */
export function newSessionId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

/** Whether `value` has the shape of a session id; anything else cannot name a session. */
export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

/** A new message id. */
export function newMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "")}`;
}
