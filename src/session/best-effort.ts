/** Steps whose failure must not stop what follows them: freeing a slot, deleting an alarm. */

/** Runs `step`; a failure, thrown or a rejected promise, is logged as `what` and goes no further. */
export function bestEffort(what: string, step: () => unknown): void {
  const log = (error: unknown) => console.error(`${what} failed`, error);
  try {
    const result = step();
    if (result instanceof Promise) result.catch(log);
  } catch (error) {
    log(error);
  }
}
