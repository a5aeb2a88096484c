import { describe, expect, it } from "vitest";
import { SluiceError } from "../../src/errors.ts";

describe("SluiceError", () => {
  it("maps its code to an HTTP status", () => {
    expect(new SluiceError("busy", "x").status).toBe(409);
  });
});
