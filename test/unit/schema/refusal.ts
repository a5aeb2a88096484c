// What a parser threw: the SluiceError's code and message, for tables of malformed input.
import { SluiceError } from "../../../src/errors.ts";

/** The code and message of the SluiceError `run` throws; anything else fails the test. */
export function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof SluiceError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a SluiceError, got a result");
}
