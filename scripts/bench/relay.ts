// Relay benchmark: rr's worker exec path against a bare loop, for a 1 KB context + 1 KB body echo.
//
//   bun scripts/bench/relay.ts [--ops 3000] [--workers 2] [--rounds 3] [--only php|ts] [--relay pipes|tcp|unix]
//   deno run -A scripts/bench/relay.ts ...
//
// For each worker (the PHP fixture tests/fixtures/php/echo.php and the TS SDK fixture
// tests/fixtures/ts/echo-worker.ts) and each relay (pipes, tcp, unix) it measures
//   * sequential: one worker, one request at a time (latency, µs per round trip);
//   * parallel:   N workers, each kept busy (throughput, µs per request overall).
// "bare" drives the same worker process with none of rr's worker/goridge code: its own
// minimal frame encoder/decoder and handshake, over the same platform spawn/sockets.
// rr and bare alternate in blocks of 200 ops; "rr CPU" is this process's own CPU time
// per op (user+sys), a measure of rr's overhead that load elsewhere disturbs less.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { getPlatform } from "../../src/platform/index.ts";
import type { ChildProcess, Conn } from "../../src/platform/types.ts";
import type { Logger } from "../../src/logs/types.ts";
import { encodePayloadFrame, FrameDecoder } from "../../src/goridge/frame.ts";
import { openSocketRelay, type SocketRelayServer, spawnWorker, type Worker } from "../../src/worker/index.ts";
import type { Payload } from "../../src/worker/types.ts";

type RelayName = "pipes" | "tcp" | "unix";
type WorkerKind = "php" | "ts";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const OPS = Number(arg("ops", "3000"));
const WORKERS = Number(arg("workers", "2"));
const ROUNDS = Number(arg("rounds", "3"));
const ONLY = arg("only", "");
const ONLY_RELAY = arg("relay", "");
const WARMUP = 200;
/** Ops per alternating block. */
const BLOCK = 200;

const platform = getPlatform();
const root = fileURLToPath(new URL("../../", import.meta.url));
const commands: Record<WorkerKind, string[]> = {
  php: ["php", join(root, "tests/fixtures/php/echo.php")],
  ts: platform.runtime.name === "bun"
    ? [process.execPath, join(root, "tests/fixtures/ts/echo-worker.ts")]
    : [process.execPath, "run", "-A", join(root, "tests/fixtures/ts/echo-worker.ts")],
};

const quiet: Logger = {
  debug() {},
  info() {},
  warn(m) {
    console.error(m);
  },
  error(m) {
    console.error(m);
  },
  raw() {},
  child() {
    return quiet;
  },
};

const context = new Uint8Array(1024).fill(0x63);
const body = new Uint8Array(1024).fill(0x62);
const request: Payload = { context, body, codec: 0 };

function baseEnv(relay: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (typeof v === "string") env[k] = v;
  env.RR_RELAY = relay;
  return env;
}

// ---- the bare loop: its own tiny goridge, no rr code past the platform layer ----

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function bareFrame(flags: number, options: number[], a: Uint8Array, b?: Uint8Array): Uint8Array {
  const hl = 3 + options.length;
  const len = a.length + (b ? b.length : 0);
  const out = new Uint8Array(hl * 4 + len);
  const view = new DataView(out.buffer);
  out[0] = 0x10 | hl;
  out[1] = flags;
  view.setUint32(2, len, true);
  let crc = 0xffffffff;
  for (let i = 0; i < 6; i++) crc = CRC[(crc ^ out[i]) & 0xff] ^ (crc >>> 8);
  view.setUint32(6, (crc ^ 0xffffffff) >>> 0, true);
  options.forEach((o, i) => view.setUint32(12 + i * 4, o, true));
  out.set(a, hl * 4);
  if (b) out.set(b, hl * 4 + a.length);
  return out;
}

/** One worker driven by hand: accumulate bytes, cut frames by their length, resolve the caller. */
class BareWorker {
  private buf = new Uint8Array(0);
  private resolve: ((payload: Uint8Array) => void) | null = null;
  write: (d: Uint8Array) => void = () => {};
  child: ChildProcess | null = null;

  push(chunk: Uint8Array): void {
    if (this.buf.length) {
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf);
      joined.set(chunk, this.buf.length);
      chunk = joined;
    }
    let at = 0;
    while (chunk.length - at >= 12) {
      const hl = chunk[at] & 0x0f;
      const len = chunk[at + 2] | (chunk[at + 3] << 8) | (chunk[at + 4] << 16) | (chunk[at + 5] << 24);
      if (chunk.length - at < hl * 4 + len) break;
      const payload = chunk.subarray(at + hl * 4, at + hl * 4 + len);
      at += hl * 4 + len;
      const r = this.resolve;
      this.resolve = null;
      r?.(payload);
    }
    this.buf = at < chunk.length ? chunk.slice(at) : new Uint8Array(0);
  }

  next(): Promise<Uint8Array> {
    return new Promise((r) => (this.resolve = r));
  }

  async exec(): Promise<Uint8Array> {
    const reply = this.next();
    this.write(bareFrame(0, [context.length], context, body));
    return await reply;
  }
}

interface BareRelay {
  address: string;
  spawn(kind: WorkerKind): Promise<BareWorker>;
  close(): Promise<void>;
}

async function bareRelay(name: RelayName, dir: string): Promise<BareRelay> {
  const pid = new TextEncoder().encode(`{"pid":${platform.pid}}`);
  if (name === "pipes") {
    return {
      address: "pipes",
      async spawn(kind) {
        const w = new BareWorker();
        const child = platform.spawn({ cmd: commands[kind], env: baseEnv("pipes"), onStdout: (c) => w.push(c), onStderr: () => {} });
        w.child = child;
        w.write = (d) => child.write(d);
        const hello = w.next();
        w.write(bareFrame(0x09, [], pid));
        await hello;
        return w;
      },
      close: () => Promise.resolve(),
    };
  }
  // Sockets: accept, send the pid request, match by the reported pid.
  const byConn = new Map<Conn, BareWorker>();
  const waiting = new Map<number, (w: BareWorker) => void>();
  const listener = await platform.listen(
    name === "tcp" ? { transport: "tcp", hostname: "127.0.0.1", port: 0 } : { transport: "unix", path: join(dir, "bare.sock") },
    {
      onOpen(conn) {
        const w = new BareWorker();
        w.write = (d) => conn.write(d);
        byConn.set(conn, w);
        w.next().then((reply) => {
          const reported = JSON.parse(new TextDecoder().decode(reply)).pid as number;
          waiting.get(reported)?.(w);
        });
        w.write(bareFrame(0x09, [], pid));
      },
      onData(conn, chunk) {
        byConn.get(conn)?.push(chunk);
      },
    },
  );
  const a = listener.address;
  const address = a.transport === "tcp" ? `tcp://127.0.0.1:${a.port}` : `unix://${a.path}`;
  return {
    address,
    async spawn(kind) {
      let resolve!: (w: BareWorker) => void;
      const matched = new Promise<BareWorker>((r) => (resolve = r));
      const child = platform.spawn({ cmd: commands[kind], env: baseEnv(address), stdin: "ignore", onStdout: () => {}, onStderr: () => {} });
      waiting.set(child.pid, resolve);
      const w = await matched;
      w.child = child;
      return w;
    },
    close: () => listener.close(),
  };
}

// ---- measurement ----

/** Wall-clock and our own CPU time (user+sys, this process only) per op. */
interface Sample {
  wallUs: number;
  cpuUs: number;
  ops: number;
}

async function timeOps(count: number, lanes: number, run: (lane: number) => Promise<unknown>): Promise<Sample> {
  const perLane = Math.ceil(count / lanes);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = 0; i < perLane; i++) await run(lane);
    }),
  );
  const wallUs = (performance.now() - started) * 1000;
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: used.user + used.system, ops: perLane * lanes };
}

/**
 * rr and bare alternate in small blocks (order swapped every block) so that load
 * from elsewhere on the machine hits both alike; totals are compared.
 */
async function compare(lanes: number, rr: (lane: number) => Promise<unknown>, bare: (lane: number) => Promise<unknown>): Promise<Result> {
  const total = { rr: { wallUs: 0, cpuUs: 0, ops: 0 }, bare: { wallUs: 0, cpuUs: 0, ops: 0 } };
  const blocks = Math.max(1, Math.round((OPS * ROUNDS) / BLOCK));
  for (let b = 0; b < blocks; b++) {
    const order: Array<"rr" | "bare"> = b % 2 ? ["bare", "rr"] : ["rr", "bare"];
    for (const who of order) {
      const sample = await timeOps(BLOCK, lanes, who === "rr" ? rr : bare);
      total[who].wallUs += sample.wallUs;
      total[who].cpuUs += sample.cpuUs;
      total[who].ops += sample.ops;
    }
  }
  return {
    rr: total.rr.wallUs / total.rr.ops,
    bare: total.bare.wallUs / total.bare.ops,
    rrCpu: total.rr.cpuUs / total.rr.ops,
    bareCpu: total.bare.cpuUs / total.bare.ops,
  };
}

interface Result {
  rr: number;
  bare: number;
  rrCpu: number;
  bareCpu: number;
}

async function bench(kind: WorkerKind, relayName: RelayName): Promise<{ seq: Result; par: Result }> {
  const dir = mkdtempSync(join(tmpdir(), "rr-bench-"));
  let server: SocketRelayServer | null = null;
  const rrWorkers: Worker[] = [];
  const bareWorkers: BareWorker[] = [];
  const bare = await bareRelay(relayName, dir);
  try {
    if (relayName !== "pipes") {
      server = await openSocketRelay(relayName === "tcp" ? "tcp://127.0.0.1:0" : `unix://${join(dir, "rr.sock")}`, quiet);
    }
    const rrAddress = server?.address ?? "pipes";
    for (let i = 0; i < WORKERS; i++) {
      rrWorkers.push(
        await spawnWorker({ command: commands[kind], env: baseEnv(rrAddress), relay: server ?? "pipes", allocateTimeoutMs: 20_000, logger: quiet }),
      );
      bareWorkers.push(await bare.spawn(kind));
    }
    // Sanity: both echo the request.
    const check = await rrWorkers[0].exec(request);
    const checkBare = await bareWorkers[0].exec();
    if (check.body.length !== 1024 || check.context.length !== 1024 || checkBare.length !== 2048) throw new Error("echo mismatch");

    const rrExec = (lane: number) => rrWorkers[lane].exec(request);
    const bareExec = (lane: number) => bareWorkers[lane].exec();
    await timeOps(WARMUP, 1, rrExec);
    await timeOps(WARMUP, 1, bareExec);
    return { seq: await compare(1, rrExec, bareExec), par: await compare(WORKERS, rrExec, bareExec) };
  } finally {
    await Promise.all(rrWorkers.map((w) => w.stop(2000)));
    for (const w of bareWorkers) w.child?.killGroup("SIGKILL");
    await Promise.all(bareWorkers.map((w) => w.child?.exited));
    await server?.close();
    await bare.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const kinds: WorkerKind[] = ONLY ? [ONLY as WorkerKind] : ["php", "ts"];
const relays: RelayName[] = ONLY_RELAY ? [ONLY_RELAY as RelayName] : ["pipes", "tcp", "unix"];
console.log(
  `# relay benchmark: ${platform.runtime.name} ${platform.runtime.version}, ${new Date().toISOString().slice(0, 10)}, ` +
    `${platform.cpuCount()} CPUs, 1 KB context + 1 KB body echo, ${OPS * ROUNDS} ops each, alternating blocks of ${BLOCK}, parallel = ${WORKERS} workers`,
);
console.log("| worker | relay | mode | rr µs/op | bare µs/op | rr/bare | rr CPU µs/op | bare CPU µs/op |");
console.log("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
for (const kind of kinds) {
  for (const relay of relays) {
    const r = await bench(kind, relay);
    for (const [mode, x] of [["sequential", r.seq], [`parallel x${WORKERS}`, r.par]] as const) {
      console.log(
        `| ${kind} | ${relay} | ${mode} | ${x.rr.toFixed(1)} | ${x.bare.toFixed(1)} | ${(x.rr / x.bare).toFixed(2)} | ` +
          `${x.rrCpu.toFixed(1)} | ${x.bareCpu.toFixed(1)} |`,
      );
    }
  }
}

// rr's own cost per exec without any I/O: encode the request frame, decode the response frame.
{
  const response = encodePayloadFrame(0, 0, context, body);
  let seen = 0;
  const decoder = new FrameDecoder((f) => (seen += f.payload.length), (e) => {
    throw e;
  });
  const N = 100_000;
  const samples: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      encodePayloadFrame(0, 0, context, body);
      decoder.push(response);
    }
    samples.push(((performance.now() - started) * 1000) / N);
  }
  if (seen !== 3 * N * 2048) throw new Error("codec check failed");
  console.log(`\ncodec only (encode 1 KB + 1 KB request, decode the same response), no I/O: ${samples.map((x) => x.toFixed(2)).join(" / ")} µs per exec`);
}
