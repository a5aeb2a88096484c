// A TCP proxy in front of the relay whose connections a test can cut: a real network drop, as
// the browser sees one (a WebSocket closes with 1006, an EventSource errors), with no test hook
// in the page. While "down" it also refuses new connections, so the page has to retry.
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

export interface CuttableProxy {
  /** http://127.0.0.1:PORT, forwarding to the target. */
  url: string;
  /** Destroys every open connection at once; `down` keeps new ones from getting through. */
  cut(options?: { down?: boolean }): void;
  /** Lets connections through again after `cut({ down: true })`. */
  restore(): void;
  /** Connections accepted so far (each reconnect adds at least one). */
  accepted(): number;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let down = false;
  let accepted = 0;
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    accepted += 1;
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      // A cut destroys both ends; the errors it causes on the other end are expected.
      socket.on("error", () => {});
      socket.on("close", () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut(options = {}) {
      down = options.down ?? false;
      for (const socket of open) socket.destroy();
    },
    restore() {
      down = false;
    },
    accepted: () => accepted,
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
