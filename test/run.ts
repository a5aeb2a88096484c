// `npm test`: the static checks (`npm run check`) and Vitest side by side, failing if either
// fails. The checks are one core's work and most e2e time is waiting, so together they take
// little longer than Vitest alone. Arguments go to Vitest, as `npm test -- --reporter=…` did.
import { spawn } from "node:child_process";

/** Runs `command` to its end; with `buffered`, its output is held and printed when it ends. */
function run(command: string, args: string[], buffered: boolean): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: buffered ? ["ignore", "pipe", "pipe"] : "inherit",
    });
    const output: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
    child.on("error", (error) => {
      console.error(`${command}: ${error.message}`);
      resolve(1);
    });
    child.on("close", (code) => {
      if (buffered) process.stdout.write(Buffer.concat(output));
      resolve(code ?? 1);
    });
  });
}

const started = Date.now();
const check = run("npm", ["run", "--silent", "check"], true).then((code) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`npm run check: ${code === 0 ? "passed" : `failed (exit ${code})`} in ${seconds} s`);
  return code;
});
const vitest = run(
  "vitest",
  ["run", "--config", "test/vitest.config.ts", ...process.argv.slice(2)],
  false,
);
const codes = await Promise.all([check, vitest]);
process.exit(codes.every((code) => code === 0) ? 0 : 1);
