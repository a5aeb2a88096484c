/**
 * What the client takes from the page around it. Globals are read as `unknown` and checked, so
 * this code type-checks both against the DOM and against the Workers runtime's types.
 */

/** The page's address, the default base URL; a client outside a page must be given `url`. */
export function pageAddress(): string {
  const location: unknown = Reflect.get(globalThis, "location");
  if (location === undefined) throw new TypeError("SluiceClient needs `url` outside a web page.");
  return String(location);
}

/** Calls `listener` when the browser says the network is back; returns the unsubscribe. */
export function onOnline(listener: () => void): () => void {
  const scope: unknown = globalThis;
  if (!(scope instanceof EventTarget)) return () => {};
  scope.addEventListener("online", listener);
  return () => scope.removeEventListener("online", listener);
}
