/** The one `method_not_allowed` error: the method, the path, and the method(s) it takes. */
import { SluiceError } from "../errors.ts";

/** `method` is not served on `path`; `allowed` says what is (`GET`, `GET or POST`, ...). */
export function methodNotAllowed(method: string, path: string, allowed: string): SluiceError {
  return new SluiceError(
    "method_not_allowed",
    `${method} is not allowed on ${path}; use ${allowed}.`,
  );
}
