// Types `env` from "cloudflare:workers" (and "cloudflare:test") in tests as the Worker's Env.
type WorkerEnv = import("../src/env.ts").Env;

declare namespace Cloudflare {
  interface Env extends WorkerEnv {}
}
