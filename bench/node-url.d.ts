/**
 * Benchmarks are checked with both @cloudflare/workers-types (they import the Worker's code)
 * and @types/node. There, `new URL()` is the Workers class, which @types/node's
 * `fileURLToPath` rejects only for lacking iterator disposal; at runtime both are Node's URL.
 * This overload accepts it.
 */
declare module "node:url" {
  export function fileURLToPath(url: string | URL): string;
}
