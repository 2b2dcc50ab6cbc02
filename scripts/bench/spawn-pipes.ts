// Micro benchmark: the worker hot path's pipe round trip through the platform's
// spawn (a 64-byte write echoed back by `cat`), plus raw node:child_process for
// reference, and the cost of spawning a short-lived process.
// Usage: bun scripts/bench/spawn-pipes.ts | deno run -A scripts/bench/spawn-pipes.ts
// Kept short (a few seconds) because the build machine is shared.

import { spawn as nodeSpawn } from "node:child_process";
import { getPlatform } from "../../src/platform/index.ts";

const ROUND_TRIPS = 2000;
const SPAWNS = 30;
const payload = new Uint8Array(64).fill(97);
const platform = getPlatform();
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

/** Average µs for one write → echo → callback through the platform's spawn. */
async function platformRoundTrip(): Promise<number> {
  let wake: () => void = () => {};
  let got = 0;
  const child = platform.spawn({
    cmd: ["cat"],
    env,
    stderr: "ignore",
    onStdout: (chunk) => {
      got += chunk.byteLength;
      if (got >= payload.length) {
        got -= payload.length;
        wake();
      }
    },
  });
  const started = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const echoed = new Promise<void>((resolve) => (wake = resolve));
    child.write(payload);
    await echoed;
  }
  const elapsed = performance.now() - started;
  child.closeStdin();
  await child.exited;
  return (elapsed / ROUND_TRIPS) * 1000;
}

/** The same through node:child_process directly (setsid, like the platform). */
async function nodeRoundTrip(): Promise<number> {
  const child = nodeSpawn("cat", [], { detached: true, stdio: ["pipe", "pipe", "ignore"], env });
  let wake: () => void = () => {};
  let got = 0;
  child.stdout!.on("data", (chunk: Uint8Array) => {
    got += chunk.byteLength;
    if (got >= payload.length) {
      got -= payload.length;
      wake();
    }
  });
  const started = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const echoed = new Promise<void>((resolve) => (wake = resolve));
    child.stdin!.write(payload);
    await echoed;
  }
  const elapsed = performance.now() - started;
  child.stdin!.end();
  await new Promise((resolve) => child.on("close", resolve));
  return (elapsed / ROUND_TRIPS) * 1000;
}

/** Average ms to spawn `true` and see it exit. */
async function spawnCost(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < SPAWNS; i++) {
    await platform.spawn({ cmd: ["true"], env, stdin: "ignore", stdout: "ignore", stderr: "ignore" }).exited;
  }
  return (performance.now() - started) / SPAWNS;
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
const platformRuns: number[] = [];
const nodeRuns: number[] = [];
for (let run = 0; run < 3; run++) {
  platformRuns.push(await platformRoundTrip());
  nodeRuns.push(await nodeRoundTrip());
}
console.log(`runtime: ${platform.runtime.name} ${platform.runtime.version}`);
console.log(`platform.spawn pipe round trip (64 B via cat): ${median(platformRuns).toFixed(1)} µs (median of 3 × ${ROUND_TRIPS})`);
console.log(`node:child_process pipe round trip:           ${median(nodeRuns).toFixed(1)} µs`);
console.log(`spawn + exit of \`true\`:                       ${(await spawnCost()).toFixed(2)} ms`);
