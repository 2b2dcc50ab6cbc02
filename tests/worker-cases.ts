// The worker behaviours every relay must show, run against real PHP fixture
// workers. Registered by tests/worker-{pipes,tcp,unix}.test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import type { Logger } from "../src/logs/types.ts";
import {
  ExecTTLError,
  ScriptNotFoundError,
  SoftJobError,
  SpawnError,
  WorkerCrashedError,
  WorkerStopRequestedError,
} from "../src/errors.ts";
import {
  openSocketRelay,
  type SocketRelayServer,
  spawnWorker,
  type SpawnWorkerOptions,
  type Worker,
  WorkerState,
} from "../src/worker/index.ts";
import type { Payload } from "../src/worker/types.ts";

export type RelayName = "pipes" | "tcp" | "unix";

const enc = new TextEncoder();
const dec = new TextDecoder();

export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/php/${name}`, import.meta.url));
}

export function payload(context: string, body: string, codec = 0): Payload {
  return { context: enc.encode(context), body: enc.encode(body), codec };
}

export const text = (b: Uint8Array): string => dec.decode(b);

/** Keeps every entry so tests can check what the worker logged. */
export class CaptureLogger implements Logger {
  readonly entries: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  debug(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: "debug", message, fields });
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: "error", message, fields });
  }
  raw(t: string): void {
    this.entries.push({ level: "raw", message: t });
  }
  child(): Logger {
    return this;
  }
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (typeof v === "string") env[k] = v;
  return env;
}

/** True while a process with this pid exists (zombies included). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A relay for one suite: "pipes", or a socket server on a random port / temp socket file. */
export class RelayFixture {
  readonly name: RelayName;
  server: SocketRelayServer | null = null;
  dir = "";
  constructor(name: RelayName) {
    this.name = name;
  }
  async open(logger: Logger): Promise<void> {
    if (this.name === "pipes") return;
    this.dir = mkdtempSync(join(tmpdir(), "rr-relay-"));
    const address = this.name === "tcp" ? "tcp://127.0.0.1:0" : `unix://${join(this.dir, "rr.sock")}`;
    this.server = await openSocketRelay(address, logger, { matchTimeoutMs: 2000 });
  }
  get relay(): "pipes" | SocketRelayServer {
    return this.server ?? "pipes";
  }
  get address(): string {
    return this.server?.address ?? "pipes";
  }
  async close(): Promise<void> {
    await this.server?.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

export function defineWorkerSuite(relayName: RelayName): void {
  describe(`worker over ${relayName}`, () => {
    const logger = new CaptureLogger();
    const rf = new RelayFixture(relayName);
    const workers: Worker[] = [];

    const spawn = async (script: string | string[], extra: Partial<SpawnWorkerOptions> & { vars?: Record<string, string> } = {}) => {
      const command = Array.isArray(script) ? script : ["php", fixture(script)];
      const env = { ...baseEnv(), RR_RELAY: rf.address, ...(extra.vars ?? {}) };
      const worker = await spawnWorker({ command, env, relay: rf.relay, allocateTimeoutMs: 5000, logger, ...extra });
      workers.push(worker);
      return worker;
    };

    before(async () => {
      await rf.open(logger);
    });

    after(async () => {
      for (const w of workers) w.kill();
      await Promise.all(workers.map((w) => w.exited));
      await rf.close();
    });

    it("completes the pid handshake and becomes ready", async () => {
      const w = await spawn("echo.php");
      assert.equal(w.state, WorkerState.Ready);
      assert.ok(w.pid > 0);
      assert.ok(alive(w.pid));
      assert.equal(w.numExecs, 0);
      assert.equal(w.lastUsed, 0);
      assert.ok(Math.abs(w.created - Date.now()) < 10_000);
    });

    it("executes requests: context and body round-trip, counters move", async () => {
      const w = await spawn("echo.php");
      for (let i = 0; i < 5; i++) {
        const r = await w.exec(payload(`ctx-${i}`, `body-${i}`, 0x04));
        assert.equal(text(r.context), `ctx-${i}`);
        assert.equal(text(r.body), `body-${i}`);
        assert.equal(r.stream, undefined);
      }
      assert.equal(w.numExecs, 5);
      assert.equal(w.state, WorkerState.Ready);
      assert.ok(w.lastUsed > 0);
      const big = "x".repeat(1_500_000);
      const r = await w.exec(payload("", big));
      assert.equal(r.body.length, big.length);
      assert.equal(text(r.body), big);
      const empty = await w.exec(payload("only-context", ""));
      assert.equal(text(empty.context), "only-context");
      assert.equal(empty.body.length, 0);
    });

    it("passes the environment through", async () => {
      const w = await spawn("echo.php", { vars: { RR_TEST_VALUE: "hello env" } });
      const env = JSON.parse(text((await w.exec(payload("", "env"))).body)) as Record<string, string>;
      assert.equal(env.RR_TEST_VALUE, "hello env");
      assert.equal(env.RR_RELAY, rf.address);
    });

    it("logs stderr line by line with the worker pid; echo output goes to stderr", async () => {
      const w = await spawn("echo.php");
      const r = await w.exec(payload("c", "print"));
      assert.equal(text(r.body), "print");
      const deadline = Date.now() + 2000;
      const find = () => logger.entries.find((e) => e.message === "echo.php: printed with echo" && e.fields?.pid === w.pid);
      while (!find() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
      assert.equal(find()?.level, "info");
      assert.match(w.stderrTail(), /echo\.php: printed with echo/);
    });

    it("turns an ERROR frame into SoftJobError and stays ready", async () => {
      const w = await spawn("error.php");
      await assert.rejects(w.exec(payload("", "first")), (e: unknown) => e instanceof SoftJobError && e.message === "boom: first");
      assert.equal(w.state, WorkerState.Ready);
      await assert.rejects(w.exec(payload("", "second")), /boom: second/);
      assert.equal(w.numExecs, 2);
      assert.ok(alive(w.pid));
    });

    it("reports a crash mid-request with the exit code and stderr tail", async () => {
      let exitSeen: { code: number | null; signal: string | null } | undefined;
      const w = await spawn("crash.php", { onExit: (_w, status) => (exitSeen = status) });
      await assert.rejects(w.exec(payload("", "req-1")), (e: unknown) => {
        assert.ok(e instanceof WorkerCrashedError, String(e));
        assert.match(e.message, /exited with code 3 while handling a request/);
        assert.match(e.message, /crash\.php: giving up on request 'req-1'/);
        return true;
      });
      const status = await w.exited;
      assert.equal(status.code, 3);
      assert.deepEqual(exitSeen, status);
      assert.equal(w.state, WorkerState.Errored);
      await assert.rejects(w.exec(payload("", "again")), WorkerCrashedError);
    });

    it("kills a hung worker at exec_ttl", async () => {
      const w = await spawn("hang.php");
      const started = Date.now();
      await assert.rejects(w.exec(payload("", "x"), { timeoutMs: 300 }), (e: unknown) => e instanceof ExecTTLError && /exec_ttl \(300 ms\)/.test(e.message));
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 3000, `took ${took} ms`);
      assert.equal(w.state, WorkerState.ExecTTLReached);
      const status = await w.exited;
      assert.equal(status.signal, "SIGKILL");
      assert.equal(w.state, WorkerState.ExecTTLReached);
      assert.equal(alive(w.pid), false);
    });

    it("waits for a slow boot, and gives up at allocate_timeout", async () => {
      const started = Date.now();
      const w = await spawn("slow-boot.php", { vars: { SLOW_BOOT_MS: "400" } });
      assert.ok(Date.now() - started >= 390);
      assert.equal(text((await w.exec(payload("a", "b"))).body), "b");

      let pid = 0;
      await assert.rejects(
        spawn("slow-boot.php", { vars: { SLOW_BOOT_MS: "3000" }, allocateTimeoutMs: 250, onExit: (wk) => (pid = wk.pid) }),
        (e: unknown) => {
          assert.ok(e instanceof SpawnError, String(e));
          assert.match(e.message, /did not complete the goridge handshake within 250 ms/);
          assert.match(e.message, /allocate_timeout/);
          return true;
        },
      );
      assert.ok(pid > 0, "the process was reaped before spawnWorker rejected");
      assert.equal(alive(pid), false);
    });

    it("reports a missing script as ScriptNotFoundError", async () => {
      await assert.rejects(spawn(["php", "/nonexistent/rr-worker.php"]), (e: unknown) => {
        assert.ok(e instanceof ScriptNotFoundError, String(e));
        assert.match(e.message, /Could not open input file: \/nonexistent\/rr-worker\.php/);
        assert.match(e.message, /server\.command/);
        return true;
      });
    });

    it("reports an exit during boot with the code and stderr", async () => {
      const script = 'fwrite(STDERR, "bad config: no database\\n"); exit(2);';
      await assert.rejects(spawn(["php", "-r", script]), (e: unknown) => {
        assert.ok(e instanceof SpawnError, String(e));
        assert.match(e.message, /exited during boot with code 2/);
        assert.match(e.message, /bad config: no database/);
        return true;
      });
    });

    it("reports a command that does not exist", async () => {
      await assert.rejects(spawn(["rr-no-such-binary-xyz", "worker.php"]), (e: unknown) => {
        assert.ok(e instanceof SpawnError, String(e));
        assert.match(e.message, /rr-no-such-binary-xyz/);
        return true;
      });
    });

    it("streams a response frame by frame", async () => {
      const w = await spawn("stream.php");
      const r = await w.exec(payload("hdr", "12:5"));
      assert.equal(text(r.context), "hdr");
      assert.equal(text(r.body), "chunk0");
      assert.ok(r.stream);
      assert.equal(w.state, WorkerState.Working);
      const bodies: string[] = [];
      let lastContext = "";
      for await (const p of r.stream) {
        bodies.push(text(p.body));
        lastContext = text(p.context);
      }
      const expected = Array.from({ length: 11 }, (_, i) => `chunk${i + 1}`).concat("end");
      assert.deepEqual(bodies, expected);
      // Pipes: PING rides on chunk5 and chunk10 and rr answers each with PONG. Sockets: no PING.
      assert.equal(lastContext, relayName === "pipes" ? "pongs=2" : "pongs=0");
      assert.equal(w.state, WorkerState.Ready);
      assert.equal(w.numExecs, 1);
      // A second stream on the same worker.
      const again = await w.exec(payload("", "3"));
      const rest: string[] = [];
      for await (const p of again.stream!) rest.push(text(p.body));
      assert.deepEqual(rest, ["chunk1", "chunk2", "end"]);
    });

    it("cancels a stream with STOP and drains it; the worker stays", async () => {
      const w = await spawn("stream.php");
      const r = await w.exec(payload("hdr", "1000:5"));
      const it = r.stream![Symbol.asyncIterator]();
      assert.equal(text((await it.next()).value!.body), "chunk1");
      assert.equal(text((await it.next()).value!.body), "chunk2");
      await r.stream!.cancel();
      assert.equal(w.state, WorkerState.Ready);
      assert.ok(alive(w.pid));
      assert.equal((await it.next()).done, true);
      const next = await w.exec(payload("", "2"));
      const bodies: string[] = [];
      for await (const p of next.stream!) bodies.push(text(p.body));
      assert.deepEqual(bodies, ["chunk1", "end"]);
      // Leaving a for-await loop early cancels too.
      const third = await w.exec(payload("", "1000:5"));
      for await (const p of third.stream!) {
        if (text(p.body) === "chunk3") break;
      }
      assert.equal(w.state, WorkerState.Ready);
      assert.equal(text((await w.exec(payload("", "1"))).body), "chunk0");
    });

    it("kills a worker that does not end its stream within stream_timeout", async () => {
      const w = await spawn("stream.php");
      // Pipes: STOP is only seen at the next PING (every 5 chunks of 200 ms); sockets: before each chunk.
      const r = await w.exec(payload("", "1000:200"), { streamTimeoutMs: relayName === "pipes" ? 50 : 5000 });
      await r.stream![Symbol.asyncIterator]().next();
      await r.stream!.cancel();
      if (relayName === "pipes") {
        const status = await w.exited;
        assert.equal(status.signal, "SIGKILL");
        assert.equal(w.state, WorkerState.Errored);
      } else {
        assert.equal(w.state, WorkerState.Ready);
      }
    });

    it("applies exec_ttl to every frame of a stream", async () => {
      const w = await spawn("stream.php");
      const r = await w.exec(payload("", "1000:300"), { timeoutMs: 150 });
      assert.equal(text(r.body), "chunk0");
      const it = r.stream![Symbol.asyncIterator]();
      await assert.rejects(it.next(), ExecTTLError);
      assert.equal(w.state, WorkerState.ExecTTLReached);
      assert.equal((await w.exited).signal, "SIGKILL");
      await r.stream!.cancel(); // a no-op once the stream failed
    });

    it("handles a worker-initiated stop: WorkerStopRequestedError, invalid, then stopped", async () => {
      const w = await spawn("stop.php");
      await assert.rejects(w.exec(payload("", "x")), WorkerStopRequestedError);
      assert.equal(w.state, WorkerState.Invalid);
      const status = await w.exited;
      assert.equal(status.code, 0);
      assert.equal(w.state, WorkerState.Invalid);
      assert.match(w.stderrTail(), /stop\.php: stop command received/);
    });

    it("stops gracefully, and SIGKILLs a worker that ignores the stop", async () => {
      const w = await spawn("echo.php");
      await w.stop(2000);
      assert.deepEqual(await w.exited, { code: 0, signal: null });
      assert.equal(w.state, WorkerState.Stopped);

      const hung = await spawn("hang.php");
      const pending = hung.exec(payload("", "x"));
      const started = Date.now();
      await hung.stop(200);
      assert.ok(Date.now() - started >= 190);
      assert.equal((await hung.exited).signal, "SIGKILL");
      await assert.rejects(pending, (e: unknown) => e instanceof WorkerCrashedError && /killed by SIGKILL/.test(e.message));
    });

    it("kill() ends the whole process group at once", async () => {
      const w = await spawn("echo.php");
      w.kill();
      const status = await w.exited;
      assert.equal(status.signal, "SIGKILL");
      assert.equal(alive(w.pid), false);
      assert.equal(w.state, WorkerState.Errored);
    });

    it("kills a worker that sends malformed responses or frames nobody asked for", async () => {
      for (const [body, message] of [
        ["two-options", /sent a response with 2 options; a worker response carries exactly one/],
        ["short-payload", /context length 100 exceeds the payload \(2 bytes\)/],
      ] as const) {
        const w = await spawn("bad-frame.php");
        await assert.rejects(w.exec(payload("", body)), (e: unknown) => e instanceof WorkerCrashedError && message.test(e.message));
        assert.equal(w.state, WorkerState.Errored);
        assert.equal((await w.exited).signal, "SIGKILL");
      }
      const w = await spawn("bad-frame.php");
      assert.equal(text((await w.exec(payload("", "unsolicited"))).body), "ok");
      assert.equal((await w.exited).signal, "SIGKILL");
      assert.equal(w.state, WorkerState.Errored);
      assert.ok(logger.entries.some((e) => e.level === "error" && e.fields?.pid === w.pid && /sent a frame while idle/.test(e.message)));
    });

    it("keeps the Destroyed state once set", async () => {
      const w = await spawn("echo.php");
      w.state = WorkerState.Destroyed;
      await w.stop(2000);
      assert.equal(w.state, WorkerState.Destroyed);
    });
  });
}
