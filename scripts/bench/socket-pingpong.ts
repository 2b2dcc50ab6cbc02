// Micro benchmark: request/response latency of the platform's sockets (the
// goridge tcp/unix relay hot path): 64-byte ping, echoed by a platform
// listener, over TCP and a unix socket. A few seconds at most (shared machine).
// Usage: bun scripts/bench/socket-pingpong.ts | deno run -A scripts/bench/socket-pingpong.ts

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getPlatform } from "../../src/platform/index.ts";
import type { SocketAddress } from "../../src/platform/index.ts";

const ROUND_TRIPS = 5000;
const platform = getPlatform();
const ping = new Uint8Array(64).fill(1);

async function pingPong(address: SocketAddress): Promise<number> {
  const listener = await platform.listen(address, { onOpen() {}, onData: (conn, chunk) => conn.write(chunk) });
  let wake: () => void = () => {};
  let got = 0;
  const conn = await platform.connect(listener.address, {
    onData: (_conn, chunk) => {
      got += chunk.byteLength;
      if (got >= ping.length) {
        got -= ping.length;
        wake();
      }
    },
  });
  const started = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const echoed = new Promise<void>((resolve) => (wake = resolve));
    conn.write(ping);
    await echoed;
  }
  const elapsed = performance.now() - started;
  conn.close();
  await listener.close();
  return (elapsed / ROUND_TRIPS) * 1000;
}

const dir = mkdtempSync(join(tmpdir(), "rr-bench-"));
try {
  const tcp = await pingPong({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  const unix = await pingPong({ transport: "unix", path: join(dir, "bench.sock") });
  console.log(`runtime: ${platform.runtime.name} ${platform.runtime.version}`);
  console.log(`tcp  ping-pong (64 B): ${tcp.toFixed(1)} µs per round trip (${ROUND_TRIPS})`);
  console.log(`unix ping-pong (64 B): ${unix.toFixed(1)} µs per round trip (${ROUND_TRIPS})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
