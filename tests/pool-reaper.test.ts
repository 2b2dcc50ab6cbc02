// When rr runs as PID 1 (containers), orphans of its workers are reparented to it; the pool
// reaps them on a timer so they do not pile up as zombies.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { platform } from "./pool-helpers.ts";

describe("pool as PID 1", () => {
  it("reaps orphaned zombies left by workers", async () => {
    const script = fileURLToPath(new URL("./fixtures/pool-pid1.ts", import.meta.url));
    const runtime = platform.runtime.name === "bun" ? [process.execPath, script] : [process.execPath, "run", "-A", script];
    let stdout = "";
    let stderr = "";
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    const child = platform.spawn({
      cmd: ["unshare", "--pid", "--fork", "--mount-proc", ...runtime],
      env,
      onStdout: (chunk) => (stdout += new TextDecoder().decode(chunk)),
      onStderr: (chunk) => (stderr += new TextDecoder().decode(chunk)),
    });
    const timer = setTimeout(() => child.killGroup("SIGKILL"), 20_000);
    const status = await child.exited;
    clearTimeout(timer);
    assert.deepEqual(status, { code: 0, signal: null }, stderr);
    const result = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { pid: number; parent: number; states: (string | null)[] };
    assert.equal(result.pid, 1, "the fixture ran as PID 1");
    assert.equal(result.parent, 1, "the orphan was reparented to rr");
    assert.ok(result.states.includes("Z"), `the orphan became a zombie first: ${JSON.stringify(result.states)}`);
    assert.equal(result.states[result.states.length - 1], null, `the zombie was reaped: ${JSON.stringify(result.states)}`);
  });
});
