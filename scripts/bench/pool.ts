// Pool benchmark: exec latency (p50/p99) and throughput through rr's pool with 1 and 2
// PHP echo workers, against a bare loop in the same run: the same PHP worker spawned
// directly and driven with a 30-line frame codec (none of rr's pool or worker code).
// A third row drives rr's worker objects without the pool, to separate the two costs.
//
//   bun scripts/bench/pool.ts [--requests 5000] [--warmup 500] [--rounds 3]
//   deno run -A scripts/bench/pool.ts
import { fileURLToPath } from "node:url";
import process from "node:process";
import { getPlatform } from "../../src/platform/index.ts";
import type { ChildProcess } from "../../src/platform/types.ts";
import type { Logger } from "../../src/logs/types.ts";
import { createPool, WorkerPool } from "../../src/pool/index.ts";
import type { Pool } from "../../src/pool/types.ts";
import { spawnWorker, type Worker, WorkerState } from "../../src/worker/index.ts";
import type { PoolConfig } from "../../src/config/sections/pool.ts";

const ECHO_PHP = fileURLToPath(new URL("../../tests/fixtures/php/echo.php", import.meta.url));
const platform = getPlatform();

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const REQUESTS = flag("requests", 5000);
const WARMUP = flag("warmup", 500);
const ROUNDS = flag("rounds", 3);

const context = new TextEncoder().encode('{"bench":true}');
const body = new TextEncoder().encode("x".repeat(64));

// ---- the bare loop: a minimal goridge client ---------------------------------------------------

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array, end: number): number {
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function frame(flags: number, options: number[], payload: Uint8Array): Uint8Array {
  const hl = 3 + options.length;
  const out = new Uint8Array(hl * 4 + payload.length);
  const view = new DataView(out.buffer);
  out[0] = 0x10 | hl;
  out[1] = flags;
  view.setUint32(2, payload.length, true);
  view.setUint32(6, crc32(out, 6), true);
  options.forEach((option, i) => view.setUint32(12 + i * 4, option, true));
  out.set(payload, hl * 4);
  return out;
}

class BareWorker {
  private buffer: Uint8Array = new Uint8Array(0);
  private waiting: ((payload: Uint8Array) => void) | undefined;
  readonly child: ChildProcess;

  constructor() {
    this.child = platform.spawn({
      cmd: ["php", ECHO_PHP],
      env: { ...process.env } as Record<string, string>,
      stdout: "pipe",
      stderr: "pipe",
      onStderr: () => {},
      onStdout: (chunk) => this.onData(chunk),
    });
  }

  private onData(chunk: Uint8Array): void {
    if (this.buffer.length === 0) {
      this.buffer = chunk;
    } else {
      const joined = new Uint8Array(this.buffer.length + chunk.length);
      joined.set(this.buffer);
      joined.set(chunk, this.buffer.length);
      this.buffer = joined;
    }
    if (this.buffer.length < 12) return;
    const hl = this.buffer[0] & 0x0f;
    const length = new DataView(this.buffer.buffer, this.buffer.byteOffset).getUint32(2, true);
    if (this.buffer.length < hl * 4 + length) return;
    const payload = this.buffer.subarray(hl * 4, hl * 4 + length);
    this.buffer = this.buffer.subarray(hl * 4 + length);
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.(payload);
  }

  roundTrip(data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.child.write(data);
    });
  }

  async handshake(): Promise<void> {
    await this.roundTrip(frame(0x09, [], new TextEncoder().encode(`{"pid":${platform.pid}}`)));
  }

  exec(): Promise<Uint8Array> {
    const payload = new Uint8Array(context.length + body.length);
    payload.set(context);
    payload.set(body, context.length);
    return this.roundTrip(frame(0, [context.length], payload));
  }

  async close(): Promise<void> {
    this.child.write(frame(0x09, [], new TextEncoder().encode('{"stop":true}')));
    await this.child.exited;
  }
}

// ---- measuring ------------------------------------------------------------------------------------

interface Result {
  name: string;
  workers: number;
  p50: number;
  p99: number;
  rps: number;
  /** user+sys CPU of this process per request, µs: rr's own cost (load from elsewhere barely moves it). */
  cpu: number;
}

/** `lanes` concurrent sequential loops sharing `total` requests; latency in µs. */
async function measure(name: string, workers: number, lanes: number, total: number, run: (lane: number) => Promise<unknown>): Promise<Result> {
  for (let i = 0; i < WARMUP; i++) await run(i % lanes);
  const latencies = new Float64Array(total);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await run(lane);
      latencies[i] = (performance.now() - t0) * 1000;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort();
  return {
    name,
    workers,
    p50: latencies[Math.floor(total * 0.5)],
    p99: latencies[Math.floor(total * 0.99)],
    rps: total / elapsed,
    cpu: (cpu.user + cpu.system) / total,
  };
}

/** Each figure's median over the rounds (load from elsewhere hits single rounds). */
function median(rounds: Result[]): Result {
  const mid = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return {
    name: rounds[0].name,
    workers: rounds[0].workers,
    p50: mid(rounds.map((r) => r.p50)),
    p99: mid(rounds.map((r) => r.p99)),
    rps: mid(rounds.map((r) => r.rps)),
    cpu: mid(rounds.map((r) => r.cpu)),
  };
}

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(message) {
    console.error(message);
  },
  raw() {},
  child() {
    return silent;
  },
};

function spawnEchoWorker(): Promise<Worker> {
  return spawnWorker({
    command: ["php", ECHO_PHP],
    env: { ...process.env } as Record<string, string>,
    relay: "pipes",
    allocateTimeoutMs: 60_000,
    logger: silent,
  });
}

function poolConfig(workers: number): PoolConfig {
  return {
    debug: false,
    num_workers: workers,
    max_jobs: 0,
    max_queue_size: 0,
    allocate_timeout: 60_000,
    reset_timeout: 60_000,
    stream_timeout: 60_000,
    destroy_timeout: 60_000,
  };
}

async function poolOf(workers: number): Promise<Pool> {
  return await createPool({
    name: "bench",
    config: poolConfig(workers),
    logger: silent,
    platform,
    spawnWorker: spawnEchoWorker,
  });
}

/**
 * The pool's own bookkeeping per exec, without process I/O: an in-memory worker that answers at
 * once, driven directly and through a pool (PHP round trips are too noisy to see ~0.3 µs).
 */
async function poolOverheadNs(): Promise<{ direct: number; pooled: number }> {
  const response = { context: new Uint8Array(0), body: new Uint8Array(0), codec: 0 };
  const instant = (): Worker => {
    const worker = {
      pid: 0,
      created: Date.now(),
      state: WorkerState.Ready as WorkerState,
      numExecs: 0,
      lastUsed: 0,
      exec() {
        worker.numExecs++;
        return Promise.resolve(response);
      },
      stop: () => Promise.resolve(),
      kill() {},
      exited: new Promise<{ code: number | null; signal: string | null }>(() => {}),
      stderrTail: () => "",
    };
    return worker;
  };
  const pool = new WorkerPool({ name: "overhead", config: poolConfig(1), logger: silent, platform, spawnWorker: () => Promise.resolve(instant()) });
  await pool.start();
  const worker = instant();
  const n = 500_000;
  const best = { direct: Infinity, pooled: Infinity };
  for (let round = 0; round < 3; round++) {
    let t0 = performance.now();
    for (let i = 0; i < n; i++) await worker.exec(response);
    best.direct = Math.min(best.direct, ((performance.now() - t0) / n) * 1e6);
    t0 = performance.now();
    for (let i = 0; i < n; i++) await pool.exec(response);
    best.pooled = Math.min(best.pooled, ((performance.now() - t0) / n) * 1e6);
  }
  // The stand-in never exits, so the pool is left as is (the process ends after printing).
  return best;
}

async function main(): Promise<void> {
  const results: Result[] = [];
  const payload = { context, body, codec: 0 };
  for (const workers of [1, 2]) {
    const bare = Array.from({ length: workers }, () => new BareWorker());
    await Promise.all(bare.map((w) => w.handshake()));
    const direct = await Promise.all(Array.from({ length: workers }, () => spawnEchoWorker()));
    const pool = await poolOf(workers);
    // Alternate rounds so no setup gets a quieter machine (2 cores shared with other work).
    const bareRounds: Result[] = [];
    const workerRounds: Result[] = [];
    const poolRounds: Result[] = [];
    const setups = [
      async () => bareRounds.push(await measure("bare loop", workers, workers, REQUESTS, (lane) => bare[lane].exec())),
      async () =>
        workerRounds.push(await measure("rr worker, no pool", workers, workers, REQUESTS, (lane) => direct[lane].exec(payload))),
      async () => poolRounds.push(await measure("rr pool", workers, workers, REQUESTS, () => pool.exec(payload))),
    ];
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order too: whoever runs right after another setup inherits its garbage.
      for (let i = 0; i < setups.length; i++) await setups[(round + i) % setups.length]();
    }
    results.push(median(bareRounds), median(workerRounds), median(poolRounds));
    await Promise.all(bare.map((w) => w.close()));
    await Promise.all(direct.map((w) => w.stop()));
    await pool.destroy();
  }

  const runtime = `${platform.runtime.name} ${platform.runtime.version}`;
  console.log(
    `Pool benchmark (${runtime}; ${ROUNDS} alternating rounds of ${REQUESTS} requests after ${WARMUP} warm-up, ` +
      `median of the rounds per figure; 64-byte body, php echo worker over pipes)`,
  );
  console.log("| setup | workers | p50 µs | p99 µs | req/s | CPU µs/req | p50 vs bare | req/s vs bare | CPU vs bare |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    const bare = results.find((b) => b.name === "bare loop" && b.workers === r.workers) as Result;
    console.log(
      `| ${r.name} | ${r.workers} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${Math.round(r.rps)} | ${r.cpu.toFixed(1)} | ` +
        `${(r.p50 / bare.p50).toFixed(2)} | ${(r.rps / bare.rps).toFixed(2)} | ${(r.cpu / bare.cpu).toFixed(2)} |`,
    );
  }
  const overhead = await poolOverheadNs();
  console.log(
    `Pool bookkeeping per exec (in-memory instant worker, best of 3 × 500k): direct ${overhead.direct.toFixed(0)} ns, ` +
      `through the pool ${overhead.pooled.toFixed(0)} ns, overhead ${(overhead.pooled - overhead.direct).toFixed(0)} ns`,
  );
}

await main();
process.exit(0);
