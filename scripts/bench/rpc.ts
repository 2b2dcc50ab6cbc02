// RPC benchmark: round-trip latency of goridge RPC calls from our TS client to a running
// `rr serve` (same runtime), JSON codec, one connection.
//   - rpc.Version: the framing + dispatch cost alone
//   - informer.Workers("http"): a real informer call (reads RSS/CPU of 2 PHP workers)
//   - pipelined rpc.Version with 32 calls in flight: throughput on one connection
//
//   bun scripts/bench/rpc.ts [--calls 5000]
//   deno run -A scripts/bench/rpc.ts
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { getPlatform } from "../../src/platform/index.ts";
import { RpcClient } from "../../src/plugins/rpc/client.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const i = process.argv.indexOf("--calls");
const CALLS = i >= 0 ? Number(process.argv[i + 1]) : 5000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function sequential(client: RpcClient, method: string, arg: unknown, n: number): Promise<string> {
  for (let k = 0; k < Math.min(500, n); k++) await client.call(method, arg); // warm-up
  const times: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = performance.now();
    await client.call(method, arg);
    times.push((performance.now() - t) * 1000);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((s, v) => s + v, 0) / times.length;
  return `p50 ${percentile(times, 0.5).toFixed(0)} µs, p99 ${percentile(times, 0.99).toFixed(0)} µs, mean ${mean.toFixed(0)} µs (${n} calls)`;
}

async function pipelined(client: RpcClient, n: number, inFlight: number): Promise<string> {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next++ < n) await client.call("rpc.Version", true);
  }));
  const seconds = (performance.now() - t) / 1000;
  return `${Math.round(n / seconds)} calls/s with ${inFlight} in flight (${n} calls)`;
}

// The same calls from PHP, through our PHP fixture client (what PHP apps do: JSON codec, one socket).
function phpRoundTrip(address: string, n: number): Promise<string> {
  const code = `require '${join(ROOT, "tests/fixtures/php/lib/rpc.php")}';
$rpc = RRFixture\\RPC::connect('${address}');
for ($i = 0; $i < 200; $i++) $rpc->call('rpc.Version', true);
$t = hrtime(true);
for ($i = 0; $i < ${n}; $i++) $rpc->call('rpc.Version', true);
printf('%.0f', (hrtime(true) - $t) / 1000 / ${n});`;
  return new Promise((resolve, reject) => {
    const php = spawn("php", ["-r", code], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    php.stdout.on("data", (chunk) => (out += chunk));
    php.on("close", (status) => (status === 0 ? resolve(`rpc.Version mean ${out} µs (${n} calls)`) : reject(new Error(`php exited ${status}`))));
  });
}

const dir = mkdtempSync(join(tmpdir(), "rr-bench-rpc-"));
const rpcPort = await freePort();
const httpPort = await freePort();
const config = join(dir, ".rr.yaml");
writeFileSync(config, `version: "3"
server:
  command: "php ${join(ROOT, "tests/fixtures/php/http/hello.php")}"
http:
  address: 127.0.0.1:${httpPort}
  pool:
    num_workers: 2
rpc:
  listen: tcp://127.0.0.1:${rpcPort}
logs:
  mode: off
`);
const deno = basename(process.execPath).startsWith("deno");
const argv = deno
  ? ["run", "-A", "--quiet", "--config", join(ROOT, "deno.json"), join(ROOT, "src/main.ts"), "serve", "-c", config]
  : [join(ROOT, "src/main.ts"), "serve", "-c", config];
const rr = spawn(process.execPath, argv, { stdio: "ignore" });
const exited = new Promise<void>((resolve) => rr.on("close", () => resolve()));

try {
  let client: RpcClient | undefined;
  for (let attempt = 0; attempt < 100 && !client; attempt++) {
    try {
      client = await RpcClient.connect(getPlatform(), `tcp://127.0.0.1:${rpcPort}`);
      await client.call("informer.List", true);
    } catch {
      client?.close();
      client = undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  if (!client) throw new Error("rr serve did not start");
  const runtime = deno ? "deno" : "bun";
  console.log(`RPC round trip, TS client → rr serve (${runtime}), JSON codec, one TCP connection on 127.0.0.1`);
  console.log(`  rpc.Version              ${await sequential(client, "rpc.Version", true, CALLS)}`);
  console.log(`  informer.Workers("http") ${await sequential(client, "informer.Workers", "http", Math.max(100, CALLS / 10))}`);
  console.log(`  pipelined rpc.Version    ${await pipelined(client, CALLS * 4, 32)}`);
  client.close();
  console.log(`  PHP client (fixture)     ${await phpRoundTrip(`tcp://127.0.0.1:${rpcPort}`, CALLS)}`);
} finally {
  rr.kill("SIGTERM");
  await exited;
  rmSync(dir, { recursive: true, force: true });
}
