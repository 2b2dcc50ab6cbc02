// Socket relay specifics: connection matching by pid, strangers, stale socket files, addresses.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ConfigError } from "../src/errors.ts";
import { encodeFrame, FLAG, type Frame, FrameDecoder } from "../src/goridge/frame.ts";
import { getPlatform } from "../src/platform/index.ts";
import { openSocketRelay, parseRelayAddress, spawnWorker, type Worker } from "../src/worker/index.ts";
import { CaptureLogger, fixture, payload, text } from "./worker-cases.ts";

const enc = new TextEncoder();

function env(relay: string): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (typeof v === "string") e[k] = v;
  return { ...e, RR_RELAY: relay };
}

/** A raw client: connects, collects frames, reports close. */
function rawClient(port: number): Promise<{ socket: Socket; frames: Frame[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder((f) => frames.push(f), () => {});
    const socket = connect(port, "127.0.0.1");
    const closed = new Promise<void>((res) => socket.on("close", () => res()));
    socket.on("data", (chunk: Uint8Array) => decoder.push(new Uint8Array(chunk)));
    socket.once("connect", () => resolve({ socket, frames, closed }));
    socket.once("error", reject);
  });
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("socket relay", () => {
  const dirs: string[] = [];
  const workers: Worker[] = [];
  after(async () => {
    for (const w of workers) w.kill();
    await Promise.all(workers.map((w) => w.exited));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("sends the pid request and closes a connection that never matches a worker", async () => {
    const logger = new CaptureLogger();
    const server = await openSocketRelay("tcp://127.0.0.1:0", logger, { matchTimeoutMs: 300 });
    try {
      const port = Number(server.address.split(":").pop());
      assert.ok(port > 0);
      const client = await rawClient(port);
      await waitFor(() => client.frames.length > 0);
      assert.equal(client.frames[0].flags, FLAG.CONTROL | FLAG.CODEC_JSON);
      assert.deepEqual(JSON.parse(text(client.frames[0].payload)), { pid: getPlatform().pid });
      // A pid no spawned worker has: the connection is closed after matchTimeoutMs.
      client.socket.write(encodeFrame(FLAG.CONTROL, 0, [], enc.encode('{"pid":999999}')));
      const started = Date.now();
      await client.closed;
      assert.ok(Date.now() - started >= 200);
      assert.ok(logger.entries.some((e) => e.level === "warn" && /no spawned worker claimed/.test(e.message)));
    } finally {
      await server.close();
    }
  });

  it("drops a connection with a bad handshake at once", async () => {
    const logger = new CaptureLogger();
    const server = await openSocketRelay("tcp://127.0.0.1:0", logger, { matchTimeoutMs: 5000 });
    try {
      const client = await rawClient(Number(server.address.split(":").pop()));
      await waitFor(() => client.frames.length > 0);
      client.socket.write(encodeFrame(0, 0, [], enc.encode('{"pid":5}')));
      await client.closed;
      assert.ok(logger.entries.some((e) => /no CONTROL flag/.test(e.message)));
    } finally {
      await server.close();
    }
  });

  it("replaces a stale unix socket file and serves workers on it; stdout is only logged", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-stale-"));
    dirs.push(dir);
    const path = join(dir, "rr.sock");
    // A socket file left behind by a process that died without cleaning up.
    const stale = getPlatform().spawn({
      cmd: ["php", "-r", `stream_socket_server("unix://${path}"); posix_kill(getmypid(), 9);`],
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    await stale.exited;
    assert.ok(existsSync(path));
    const logger = new CaptureLogger();
    const server = await openSocketRelay(`unix://${path}`, logger);
    try {
      assert.equal(server.address, `unix://${path}`);
      const w = await spawnWorker({ command: ["php", fixture("garbage.php")], env: env(server.address), relay: server, allocateTimeoutMs: 5000, logger });
      workers.push(w);
      const r = await w.exec(payload("ctx", "body"));
      assert.equal(text(r.body), "body");
      await waitFor(() => logger.entries.some((e) => e.message === "Hello from stdout" && e.fields?.pid === w.pid));
      await w.stop(2000);
    } finally {
      await server.close();
    }
    assert.equal(existsSync(path), false, "the socket file is removed on close");
  });

  it("reports a worker that cannot reach the relay", async () => {
    const logger = new CaptureLogger();
    const server = await openSocketRelay("tcp://127.0.0.1:0", logger);
    try {
      // The worker is told another (closed) address, so it never reaches this server.
      await assert.rejects(
        spawnWorker({ command: ["php", fixture("echo.php")], env: env("tcp://127.0.0.1:1"), relay: server, allocateTimeoutMs: 1500, logger }),
        /exited during boot with code 255[\s\S]*cannot connect to tcp:\/\/127\.0\.0\.1:1/,
      );
    } finally {
      await server.close();
    }
  });

  it("refuses a file that is not a socket and bad addresses, with clear messages", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rr-notsock-"));
    dirs.push(dir);
    const path = join(dir, "plain-file");
    writeFileSync(path, "keep me");
    await assert.rejects(openSocketRelay(`unix://${path}`, new CaptureLogger()), /Cannot listen on/);
    assert.ok(existsSync(path));
    assert.throws(() => parseRelayAddress("tcp://:6001"), (e: unknown) => e instanceof ConfigError && /host is missing.*tcp:\/\/127\.0\.0\.1:6001/.test(e.message));
    assert.throws(() => parseRelayAddress("udp://1.2.3.4:5"), /unknown scheme "udp"/);
    assert.throws(() => parseRelayAddress("tcp://localhost"), /expected tcp:\/\/host:port/);
    assert.deepEqual(parseRelayAddress("unix:///tmp/x.sock"), { kind: "unix", socket: { transport: "unix", path: "/tmp/x.sock" } });
    assert.deepEqual(parseRelayAddress("pipes"), { kind: "pipes" });
  });
});
