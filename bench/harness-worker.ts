/**
 * The Worker under test plus bench-only routes; bundled by bench/harness.ts, never deployed.
 * - `GET /__bench/storage/:session`: the session object's storage counters;
 * - `GET /__bench/usage`: the rows the caller's usage ledger (in its account) wrote (open mode with a quota: the
 *   ledger of the caller's IP, the same key its answers count in);
 * - `POST /__bench/pipeline`: keeps the posted bytes for the pipeline benchmark;
 * - `GET /__bench/pipeline?variant=&chunking=`: runs one contender over them (timed by the caller,
 *   since workerd's clocks do not advance while code runs).
 */
import type { Env } from "../src/env.ts";
import worker, { ChatSession as Relayed } from "../src/index.ts";

// Every other object of the Worker, as it exports them (new ones come along by themselves).
export * from "../src/index.ts";

import { SessionStore } from "../src/session/store.ts";
import { CHUNKINGS, chunk, runVariant, VARIANTS } from "./pipeline-core.ts";

const STORAGE_ROUTE = "/__bench/storage/";
const STORAGE_OP = "https://session/__bench/storage";
const PIPELINE_ROUTE = "/__bench/pipeline";
const USAGE_ROUTE = "/__bench/usage";

export class ChatSession extends Relayed {
  override async fetch(request: Request): Promise<Response> {
    if (request.url !== STORAGE_OP) return super.fetch(request);
    // The store is private to ChatSession: find it by its class, not by its field name.
    const store = Object.values(this).find((value) => value instanceof SessionStore);
    if (!(store instanceof SessionStore)) return new Response("no SessionStore", { status: 500 });
    const count = (table: string) =>
      this.ctx.storage.sql.exec(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
    return Response.json({
      rowsWritten: store.rowsWritten,
      eventRows: count("events"),
      messageRows: count("messages"),
    });
  }
}

/** The bytes of the last upload, cut each way; an isolate keeps its globals between requests. */
let uploaded: Map<string, Uint8Array[]> | undefined;

async function pipeline(request: Request): Promise<Response> {
  if (request.method === "POST") {
    const bytes = new Uint8Array(await request.arrayBuffer());
    uploaded = new Map(CHUNKINGS.map((chunking) => [chunking, chunk(bytes, chunking)]));
    return new Response(null, { status: 204 });
  }
  const query = new URL(request.url).searchParams;
  const variant = VARIANTS.find((name) => name === query.get("variant"));
  const chunks = uploaded?.get(query.get("chunking") ?? "");
  if (!variant || !chunks) return new Response("unknown variant or no upload", { status: 400 });
  return Response.json(await runVariant(variant, chunks));
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (pathname === PIPELINE_ROUTE) return pipeline(request);
    if (pathname === USAGE_ROUTE && env.ACCOUNTS) {
      const key = `ip:${request.headers.get("cf-connecting-ip") ?? "unknown"}`;
      const stats = await env.ACCOUNTS.get(env.ACCOUNTS.idFromName(key)).stats();
      return Response.json({ rowsWritten: stats.usageRows });
    }
    if (!pathname.startsWith(STORAGE_ROUTE)) return worker.fetch(request, env, ctx);
    const session = pathname.slice(STORAGE_ROUTE.length);
    const stub = env.SESSIONS.get(env.SESSIONS.idFromName(session));
    return stub.fetch(STORAGE_OP);
  },
} satisfies ExportedHandler<Env>;
