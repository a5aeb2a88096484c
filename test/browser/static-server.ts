// A static file server on 127.0.0.1 for pages that must come from another origin than the
// relay (a frontend of its own calling it cross-origin, as in production).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A file to serve: its content type and body. */
export interface StaticFile {
  type: string;
  body: string;
}

export interface StaticServer {
  /** http://127.0.0.1:PORT, the pages' origin. */
  url: string;
  close(): Promise<void>;
}

/** Serves `files` by path (e.g. `/`, `/page.js`); anything else is a 404. */
export async function startStaticServer(files: Record<string, StaticFile>): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const file = files[path];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
