/** How the Worker and the sessions reach a client's Account object. */
import type { Env } from "../env.ts";
import type { Account } from "./Account.ts";

/** The Account of `key` (a limit key), or undefined without the ACCOUNTS binding. */
export function accountOf(env: Env, key: string): DurableObjectStub<Account> | undefined {
  return env.ACCOUNTS?.get(env.ACCOUNTS.idFromName(key));
}
