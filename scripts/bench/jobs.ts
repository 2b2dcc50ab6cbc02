// Jobs benchmark: push + consume + ack throughput through a real `rr serve` with 2 PHP
// consumer workers (tests/fixtures/php/jobs/consumer.php, replying ack like roadrunner-jobs),
// for the memory driver and, when RabbitMQ listens on 127.0.0.1:5672, the amqp driver.
// Jobs are pushed over goridge RPC with jobs.PushBatch (protobuf), as PHP producers do.
//
//   bun scripts/bench/jobs.ts [--jobs 50000] [--amqp-jobs 20000] [--batch 1000] [--prefetch 500] [--relay pipes|unix]
//   deno run -A scripts/bench/jobs.ts
//
// Three figures per driver:
//   push     jobs/s accepted by jobs.PushBatch while the pipeline is paused (broker-confirmed for amqp)
//   consume  jobs/s executed and acknowledged after resume (queue full at start)
//   both     jobs/s from first push to last ack, pushing and consuming at the same time
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as amqplib from "amqplib";
import { getPlatform } from "../../src/platform/index.ts";
import { RpcClient } from "../../src/plugins/rpc/client.ts";
import {
  decodeStats,
  encodePipelines,
  encodePushBatchRequest,
  type PushedJob,
} from "../../src/plugins/jobs/proto.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONSUMER = join(ROOT, "tests/fixtures/php/jobs/consumer.php");
const PROTO = 0x80;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const MEMORY_JOBS = flag("jobs", 50_000);
const AMQP_JOBS = flag("amqp-jobs", 20_000);
const BATCH = flag("batch", 1000);
const PREFETCH = flag("prefetch", 500);
const relayIndex = process.argv.indexOf("--relay");
const RELAY = relayIndex >= 0 ? process.argv[relayIndex + 1] : "pipes";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const runId = Math.random().toString(36).slice(2, 8);
const queue = `rr-bench-${runId}`;

async function main(): Promise<void> {
  const amqp = AMQP_JOBS > 0 && (await portOpen(5672));
  const dir = mkdtempSync(join(tmpdir(), "rr-bench-jobs-"));
  const port = await freePort();
  const rpc = `tcp://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, ".rr.yaml"),
    `version: "3"
rpc:
  listen: ${rpc}
server:
  command: "php ${CONSUMER}"
  relay: ${RELAY === "unix" ? `unix://${join(dir, "rr.sock")}` : "pipes"}
logs:
  level: warn
${amqp ? "amqp:\n  addr: amqp://guest:guest@127.0.0.1:5672/\n" : ""}jobs:
  pool:
    num_workers: 2
  consume: [mem${amqp ? ", rabbit" : ""}]
  pipelines:
    mem:
      driver: memory
${amqp ? `    rabbit:
      driver: amqp
      config:
        queue: ${queue}
        exchange: ${queue}
        routing_key: ${queue}
        prefetch: ${PREFETCH}
        delete_queue_on_stop: true
` : ""}`,
  );
  const main = join(ROOT, "src/main.ts");
  const argv = isDeno
    ? [process.execPath, "run", "-A", "--quiet", "--config", join(ROOT, "deno.json"), main]
    : [process.execPath, main];
  const rr = spawn(argv[0], [...argv.slice(1), "serve", "-c", join(dir, ".rr.yaml")], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
  });
  try {
    let client: RpcClient | undefined;
    for (let i = 0; i < 200 && !client; i++) {
      client = await RpcClient.connect(getPlatform(), rpc).catch(() => undefined);
      if (!client) await new Promise((r) => setTimeout(r, 50));
    }
    if (!client) throw new Error("rr did not start");
    await new Promise((r) => setTimeout(r, 300)); // workers booted
    console.log(`runtime ${isDeno ? "deno" : "bun"}, 2 PHP workers (relay ${RELAY}), batch ${BATCH}`);
    await bench(client, "memory", "mem", MEMORY_JOBS);
    if (amqp) await bench(client, `amqp (prefetch ${PREFETCH})`, "rabbit", AMQP_JOBS);
    else console.log("amqp: skipped (no RabbitMQ on 127.0.0.1:5672)");
    client.close();
  } finally {
    rr.kill("SIGTERM");
    await new Promise((r) => rr.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
    if (amqp) await deleteExchange(queue);
  }
}

async function push(client: RpcClient, requests: Uint8Array[]): Promise<void> {
  // Up to 4 batches in flight, like several producers.
  let next = 0;
  const lane = async () => {
    while (next < requests.length) await client.callRaw("jobs.PushBatch", requests[next++], PROTO);
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
}

async function drained(client: RpcClient, pipeline: string): Promise<void> {
  for (;;) {
    const stats = decodeStats(await client.callRaw("jobs.Stat", new Uint8Array(0), PROTO));
    const s = stats.find((x) => x.pipeline === pipeline);
    if (s && s.active === 0 && s.reserved === 0 && s.delayed === 0) return;
    // amqp's Stat asks the broker (a channel per call): poll it less often.
    await new Promise((r) => setTimeout(r, s?.driver === "amqp" ? 20 : 10));
  }
}

function encodeFor(pipeline: string, prefix: string, total: number): Uint8Array[] {
  const payload = new TextEncoder().encode("ack");
  const out: Uint8Array[] = [];
  for (let start = 0; start < total; start += BATCH) {
    const jobs: PushedJob[] = [];
    for (let i = start; i < Math.min(total, start + BATCH); i++) {
      jobs.push({ job: "bench", id: `${prefix}${i}`, payload, headers: {}, priority: 0, pipeline, delay: 0, autoAck: false });
    }
    out.push(encodePushBatchRequest(jobs).slice());
  }
  return out;
}

async function bench(client: RpcClient, label: string, pipeline: string, total: number): Promise<void> {
  const rate = (n: number, ms: number) => Math.round((n / ms) * 1000).toLocaleString("en-US");
  // Warm up the workers and the JIT.
  await push(client, encodeFor(pipeline, "w-", Math.min(2000, total)));
  await drained(client, pipeline);

  // 1) push only, 2) consume only.
  const first = encodeFor(pipeline, "a-", total);
  await client.callRaw("jobs.Pause", encodePipelines([pipeline]), PROTO);
  let t = performance.now();
  await push(client, first);
  const pushMs = performance.now() - t;
  t = performance.now();
  await client.callRaw("jobs.Resume", encodePipelines([pipeline]), PROTO);
  await drained(client, pipeline);
  const consumeMs = performance.now() - t;

  // 3) push and consume together.
  const second = encodeFor(pipeline, "b-", total);
  t = performance.now();
  await push(client, second);
  await drained(client, pipeline);
  const bothMs = performance.now() - t;

  console.log(
    `${label}: ${total} jobs | push ${rate(total, pushMs)} jobs/s | consume+ack ${rate(total, consumeMs)} jobs/s | ` +
      `push+consume+ack ${rate(total, bothMs)} jobs/s`,
  );
}

await main();

async function deleteExchange(name: string): Promise<void> {
  const conn = await amqplib.connect("amqp://guest:guest@127.0.0.1:5672/");
  const ch = await conn.createChannel();
  await ch.deleteExchange(name).catch(() => undefined);
  await conn.close().catch(() => undefined);
}
