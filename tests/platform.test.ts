// Contract tests for the platform layer: every capability is exercised for real
// (processes, sockets, HTTP, signals) on whichever runtime runs this file.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request as httpsRequest } from "node:https";
import { getPlatform } from "../src/platform/index.ts";
import type { ChildProcess, Conn, ExitStatus, SpawnOptions } from "../src/platform/index.ts";
import { procStat } from "./helpers/proc.ts";

const platform = getPlatform();
const env = { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" };
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Fail instead of hanging when a promise does not settle in time. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Poll until `check` holds (or fail after `ms`). */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Spawn with text capture of stdout and stderr. */
function run(options: SpawnOptions): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  const child = platform.spawn({
    env,
    ...options,
    onStdout: (chunk) => (out += decoder.decode(chunk)),
    onStderr: (chunk) => (err += decoder.decode(chunk)),
  });
  return { child, stdout: () => out, stderr: () => err };
}

// Every child a test starts, so that a failing test still leaves no process behind.
const started: ChildProcess[] = [];
function track<T extends { child: ChildProcess }>(spawned: T): T {
  started.push(spawned.child);
  return spawned;
}

let dir = "";
before(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), "rr-platform-")));
});
after(async () => {
  for (const child of started) child.killGroup("SIGKILL");
  await Promise.all(started.map((child) => child.exited));
  rmSync(dir, { recursive: true, force: true });
});

describe("runtime", () => {
  it("names the runtime that runs the tests", () => {
    const expected = "Bun" in globalThis ? "bun" : "deno";
    assert.equal(platform.runtime.name, expected);
    assert.match(platform.runtime.version, /^\d+\.\d+\.\d+/);
    assert.equal(platform.runtime.compiled, false);
    assert.match(platform.runtime.target, /^(linux|darwin)-(x64|arm64)$/);
    assert.equal(platform.pid, process.pid);
    assert.equal(getPlatform(), platform);
  });

  it("counts at least one CPU", () => {
    const count = platform.cpuCount();
    assert.ok(Number.isInteger(count) && count >= 1, `cpuCount() = ${count}`);
  });
});

describe("spawn", () => {
  it("passes env and cwd and echoes stdin to stdout", async () => {
    const { child, stdout } = track(run({
      cmd: ["sh", "-c", 'printf "%s|%s|" "$RR_TEST_VALUE" "$(pwd)"; cat'],
      cwd: dir,
      env: { ...env, RR_TEST_VALUE: "hello world" },
    }));
    child.write(encoder.encode("line one\n"));
    child.write(encoder.encode("line two\n"));
    child.closeStdin();
    const status = await within(child.exited, 5000, "sh to exit");
    assert.deepEqual(status, { code: 0, signal: null });
    assert.equal(stdout(), `hello world|${dir}|line one\nline two\n`);
  });

  it("passes only the given environment", async () => {
    const { child, stdout } = track(run({ cmd: ["sh", "-c", 'echo "[$HOME]"'], env: { PATH: env.PATH } }));
    await within(child.exited, 5000, "sh to exit");
    assert.equal(stdout(), "[]\n");
  });

  it("round-trips a 256 KiB payload through php in order", async () => {
    const payload = new Uint8Array(256 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 8)) & 0xff;
    const chunks: Uint8Array[] = [];
    const child = platform.spawn({
      cmd: ["php", "-r", 'stream_copy_to_stream(STDIN, STDOUT);'],
      env,
      onStdout: (chunk) => chunks.push(chunk),
    });
    started.push(child);
    for (let offset = 0; offset < payload.length; offset += 10_000) child.write(payload.subarray(offset, offset + 10_000));
    child.closeStdin();
    assert.deepEqual(await within(child.exited, 10000, "php to exit"), { code: 0, signal: null });
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(payload));
  });

  it("captures stderr and reports the exit code", async () => {
    const { child, stdout, stderr } = track(run({ cmd: ["sh", "-c", "echo out; echo oops >&2; exit 7"] }));
    assert.deepEqual(await within(child.exited, 5000, "sh to exit"), { code: 7, signal: null });
    assert.equal(stdout(), "out\n");
    assert.equal(stderr(), "oops\n");
  });

  it("reports the signal that killed the child", async () => {
    const { child } = track(run({ cmd: ["sleep", "30"] }));
    await sleep(50);
    child.kill("SIGTERM");
    assert.deepEqual(await within(child.exited, 5000, "sleep to die"), { code: null, signal: "SIGTERM" });
    const killed = track(run({ cmd: ["sleep", "30"] }));
    killed.child.kill("SIGKILL");
    assert.deepEqual(await within(killed.child.exited, 5000, "sleep to die"), { code: null, signal: "SIGKILL" });
  });

  it("honours ignored stdio", async () => {
    let seen = 0;
    const child = platform.spawn({
      cmd: ["sh", "-c", "echo out; echo err >&2; read line || exit 9"],
      env,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      onStdout: () => seen++,
      onStderr: () => seen++,
    });
    started.push(child);
    // stdin is /dev/null: `read` hits EOF at once.
    assert.deepEqual(await within(child.exited, 5000, "sh to exit"), { code: 9, signal: null });
    child.write(encoder.encode("ignored\n"));
    assert.equal(seen, 0);
  });

  it("does not throw when writing to a dead child", async () => {
    const { child } = track(run({ cmd: ["sh", "-c", "exit 0"] }));
    await within(child.exited, 5000, "sh to exit");
    child.write(encoder.encode("nobody reads this\n"));
    child.closeStdin();
    child.kill("SIGTERM");
  });

  it("throws a clear error for a missing executable or directory", () => {
    assert.throws(
      () => platform.spawn({ cmd: ["rr-no-such-binary-xyz"], env }),
      (error: Error) => error.message.includes("rr-no-such-binary-xyz") && /PATH/.test(error.message),
    );
    const missing = join(dir, "no-such-dir");
    assert.throws(
      () => platform.spawn({ cmd: ["sh", "-c", "true"], cwd: missing, env }),
      (error: Error) => error.message.includes(`working directory "${missing}"`),
    );
  });

  it("puts the child in its own process group by default, and not when asked", async () => {
    const own = track(run({ cmd: ["sleep", "30"] }));
    const shared = track(run({ cmd: ["sleep", "30"], newProcessGroup: false }));
    const ours = procStat(process.pid);
    assert.ok(ours);
    assert.equal(procStat(own.child.pid)?.pgrp, own.child.pid);
    assert.equal(procStat(shared.child.pid)?.pgrp, ours.pgrp);
    own.child.kill("SIGKILL");
    shared.child.kill("SIGKILL");
    await within(Promise.all([own.child.exited, shared.child.exited]), 5000, "sleeps to die");
  });

  it("killGroup kills grandchildren too", async () => {
    const { child, stdout } = track(run({ cmd: ["sh", "-c", "sleep 30 & echo $!; wait"] }));
    await until(() => stdout().includes("\n"), 5000, "the grandchild pid");
    const grandchild = Number(stdout().trim());
    assert.ok(grandchild > 0 && procStat(grandchild) !== null, `grandchild ${grandchild} should be running`);
    assert.equal(procStat(grandchild)?.pgrp, child.pid);
    child.killGroup("SIGKILL");
    assert.deepEqual(await within(child.exited, 5000, "sh to die"), { code: null, signal: "SIGKILL" });
    // The orphaned grandchild is reaped by init; a zombie would also mean it is dead.
    await until(() => {
      const stat = procStat(grandchild);
      return stat === null || stat.state === "Z";
    }, 3000, `grandchild ${grandchild} to die`);
  });

  it("runs the child as another user and group", async () => {
    const { child, stdout, stderr } = track(run({ cmd: ["sh", "-c", "id -u; id -g"], uid: 65534, gid: 65534 }));
    assert.deepEqual(await within(child.exited, 5000, "id to exit"), { code: 0, signal: null }, stderr());
    assert.equal(stdout(), "65534\n65534\n");
  });

  it("leaves no zombie once exited resolves", async () => {
    const { child } = track(run({ cmd: ["sh", "-c", "exit 0"] }));
    const pid = child.pid;
    await within(child.exited, 5000, "sh to exit");
    assert.equal(existsSync(`/proc/${pid}`), false, `/proc/${pid} still exists: ${JSON.stringify(procStat(pid))}`);
    assert.equal(platform.kill(pid, "SIGTERM"), false);
  });

  it("does not wait forever for a pipe held open by a grandchild", async () => {
    const { child, stdout } = track(run({ cmd: ["sh", "-c", "sleep 3 & echo started"] }));
    const started = Date.now();
    const status: ExitStatus = await within(child.exited, 2500, "sh to exit");
    assert.deepEqual(status, { code: 0, signal: null });
    assert.equal(stdout(), "started\n");
    assert.ok(Date.now() - started < 2500);
    assert.equal(platform.kill(-child.pid, "SIGKILL"), true);
  });

  it("keeps reading after the exit while a grandchild's output still flows", async () => {
    // The grandchild writes for ~1.4 s (longer than the 1 s grace), then holds the pipe silently.
    const { child, stdout } = track(run({
      cmd: ["sh", "-c", "(i=0; while [ $i -lt 14 ]; do echo $i; i=$((i+1)); sleep 0.1; done; exec sleep 5) & exit 0"],
    }));
    const status = await within(child.exited, 4500, "sh to exit");
    assert.deepEqual(status, { code: 0, signal: null });
    assert.equal(stdout(), Array.from({ length: 14 }, (_, i) => `${i}\n`).join(""));
    platform.kill(-child.pid, "SIGKILL");
  });
});

describe("process control", () => {
  it("kill() signals a pid and reports a missing one", async () => {
    const { child } = track(run({ cmd: ["sleep", "30"] }));
    assert.equal(platform.kill(child.pid, "SIGKILL"), true);
    assert.deepEqual(await within(child.exited, 5000, "sleep to die"), { code: null, signal: "SIGKILL" });
    assert.equal(platform.kill(child.pid, "SIGKILL"), false);
  });

  it("measures the memory of a running process and null for a dead one", async () => {
    const { child } = track(run({ cmd: ["sleep", "30"] }));
    const rss = await platform.processMemory(child.pid);
    assert.ok(rss !== null && rss > 0, `rss = ${rss}`);
    const self = await platform.processMemory(process.pid);
    assert.ok(self !== null && self > 10 * 1024 * 1024, `own rss = ${self}`);
    child.kill("SIGKILL");
    await within(child.exited, 5000, "sleep to die");
    assert.equal(await platform.processMemory(child.pid), null);
  });

  it("reaps orphaned zombies when running as PID 1", async () => {
    // The fixture runs as PID 1 of a new PID namespace, so orphans are reparented to it.
    const script = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "fixtures/platform/reaper.ts");
    const runtimeArgs = platform.runtime.name === "bun" ? [process.execPath, script] : [process.execPath, "run", "-A", script];
    const { child, stdout, stderr } = track(run({
      cmd: ["unshare", "--pid", "--fork", "--mount-proc", ...runtimeArgs],
      env: { ...env, HOME: process.env.HOME ?? "/root", ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}) },
    }));
    assert.deepEqual(await within(child.exited, 20000, "the reaper fixture"), { code: 0, signal: null }, stderr());
    const result = JSON.parse(stdout()) as Record<string, unknown>;
    assert.equal(result.pid, 1);
    assert.equal(result.before, "Z", "the orphan should have been a zombie before reaping");
    assert.equal(result.reaped, 1);
    assert.equal(result.orphanGone, true);
    assert.deepEqual(result.ownExit, { code: 5, signal: null }, "our own child's exit status must survive");
    assert.equal(result.again, 0);
    // Not PID 1 here: nothing is ours to reap.
    assert.equal(platform.reapOrphans(), 0);
  });

  it("delivers OS signals to handlers and removes them", async () => {
    let calls = 0;
    const remove = platform.onSignal("SIGUSR2", () => calls++);
    // A second handler keeps the default action (exit) away after the first is removed.
    let backup = 0;
    const removeBackup = platform.onSignal("SIGUSR2", () => backup++);
    try {
      process.kill(process.pid, "SIGUSR2");
      await until(() => calls === 1, 3000, "the SIGUSR2 handler");
      remove();
      process.kill(process.pid, "SIGUSR2");
      await until(() => backup === 2, 3000, "the backup SIGUSR2 handler");
      assert.equal(calls, 1);
    } finally {
      removeBackup();
    }
  });
});

describe("sockets", () => {
  function echoServerHandlers(accepted: Conn[]) {
    return {
      onOpen: (conn: Conn) => accepted.push(conn),
      onData: (conn: Conn, chunk: Uint8Array) => conn.write(chunk),
    };
  }

  function pattern(size: number): Uint8Array {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 10)) & 0xff;
    return bytes;
  }

  /** Send `payload` in uneven pieces and collect the echo. */
  async function echo(conn: Conn, received: Uint8Array[], payload: Uint8Array): Promise<Uint8Array> {
    let offset = 0;
    let step = 1;
    while (offset < payload.length) {
      const size = Math.min(step, payload.length - offset);
      conn.write(payload.subarray(offset, offset + size));
      offset += size;
      step = step * 3 + 1;
    }
    await until(() => received.reduce((n, c) => n + c.byteLength, 0) >= payload.length, 10000, "the echo");
    return Buffer.concat(received);
  }

  it("TCP: listen/connect echo of 1 MiB keeps order", async () => {
    const accepted: Conn[] = [];
    const listener = await platform.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 }, echoServerHandlers(accepted));
    try {
      assert.equal(listener.address.transport, "tcp");
      assert.ok(listener.address.transport === "tcp" && listener.address.port > 0);
      const received: Uint8Array[] = [];
      let closed = false;
      const conn = await platform.connect(listener.address, {
        onData: (_conn, chunk) => received.push(chunk),
        onClose: () => (closed = true),
      });
      const payload = pattern(1024 * 1024);
      const echoed = await echo(conn, received, payload);
      assert.equal(echoed.length, payload.length);
      assert.ok(Buffer.from(payload).equals(echoed), "echoed bytes differ from sent bytes");
      assert.equal(accepted.length, 1);
      assert.equal(accepted[0].remoteAddress, "127.0.0.1");
      // The server closes: the client sees it.
      accepted[0].close();
      await until(() => closed, 5000, "the client to see the close");
      conn.write(encoder.encode("after close")); // must not throw
    } finally {
      await listener.close();
    }
  });

  it("TCP: one write far bigger than the socket buffer arrives whole, then the close", async () => {
    const payload = pattern(8 * 1024 * 1024);
    const listener = await platform.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 }, {
      // Write everything at once and close: the platform must queue what the kernel refuses.
      onOpen: (conn) => {
        conn.write(payload.subarray(0, 3));
        conn.write(payload.subarray(3));
        conn.close();
      },
      onData: () => {},
    });
    try {
      const received: Uint8Array[] = [];
      let closed = false;
      await platform.connect(listener.address, {
        onData: (_conn, chunk) => received.push(chunk),
        onClose: () => (closed = true),
      });
      await until(() => closed, 10000, "the server to finish sending and close");
      assert.ok(Buffer.from(payload).equals(Buffer.concat(received)), "received bytes differ from sent bytes");
    } finally {
      await listener.close();
    }
  });

  it("TCP: a failed connect says where", async () => {
    const listener = await platform.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 }, echoServerHandlers([]));
    const address = listener.address;
    await listener.close();
    await assert.rejects(
      platform.connect(address, { onData: () => {} }),
      (error: Error) => error.message.includes(`127.0.0.1:${address.transport === "tcp" ? address.port : 0}`),
    );
  });

  it("unix: replaces a stale socket file, echoes, removes the file on close", async () => {
    const path = join(dir, "stale.sock");
    // A socket file left behind by a process that is gone (PHP does not unlink on exit).
    const php = track(run({ cmd: ["php", "-r", `stream_socket_server("unix://${path}");`] }));
    assert.deepEqual(await within(php.child.exited, 5000, "php to exit"), { code: 0, signal: null }, php.stderr());
    assert.ok(lstatSync(path).isSocket(), "php should have left a socket file");

    const accepted: Conn[] = [];
    const listener = await platform.listen({ transport: "unix", path }, echoServerHandlers(accepted));
    try {
      assert.deepEqual(listener.address, { transport: "unix", path });
      // A socket somebody listens on is not stale: a second listener is refused and the first keeps it.
      await assert.rejects(
        platform.listen({ transport: "unix", path }, echoServerHandlers([])),
        (error: Error) => error.message.includes(path) && error.message.includes("another process is listening"),
      );
      assert.ok(lstatSync(path).isSocket());
      const received: Uint8Array[] = [];
      let closed = false;
      const conn = await platform.connect({ transport: "unix", path }, {
        onData: (_conn, chunk) => received.push(chunk),
        onClose: () => (closed = true),
      });
      const payload = pattern(300 * 1024);
      assert.ok(Buffer.from(payload).equals(await echo(conn, received, payload)));
      assert.equal(conn.remoteAddress, path);
      assert.equal(accepted[0].remoteAddress, path);
      conn.close();
      await until(() => closed, 5000, "the client close");
    } finally {
      await listener.close();
    }
    assert.equal(existsSync(path), false, "the socket file should be removed on close");
  });

  it("unix: refuses to replace a file that is not a socket", async () => {
    const path = join(dir, "not-a-socket");
    writeFileSync(path, "keep me");
    await assert.rejects(
      platform.listen({ transport: "unix", path }, echoServerHandlers([])),
      (error: Error) => error.message.includes(path),
    );
    assert.equal(readFileSync(path, "utf8"), "keep me");
  });
});

describe("serveHttp", () => {
  it("answers fetch() with the remote address and a streamed body", async () => {
    const server = await platform.serveHttp({
      hostname: "127.0.0.1",
      port: 0,
      handler: async (request, info) => {
        const body = await request.text();
        const parts = [`remote=${info.remoteAddress};`, `method=${request.method};`, `body=${body};`, "end"];
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            const part = parts.shift();
            if (part === undefined) return controller.close();
            await sleep(5);
            controller.enqueue(encoder.encode(part));
          },
        });
        return new Response(stream, { headers: { "x-path": new URL(request.url).pathname } });
      },
    });
    try {
      assert.ok(server.port > 0);
      const response = await fetch(`http://127.0.0.1:${server.port}/hello`, { method: "POST", body: "ping" });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-path"), "/hello");
      assert.equal(await response.text(), "remote=127.0.0.1;method=POST;body=ping;end");
    } finally {
      await server.stop(true);
    }
  });

  it("serves TLS from PEM strings", async () => {
    // A self-signed certificate for 127.0.0.1 made for these tests (valid for 100 years).
    const fixtures = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "fixtures/platform");
    const cert = readFileSync(join(fixtures, "tls-cert.pem"), "utf8");
    const key = readFileSync(join(fixtures, "tls-key.pem"), "utf8");
    const server = await platform.serveHttp({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert, key },
      handler: (request, info) => new Response(`${new URL(request.url).protocol} ${info.remoteAddress}`),
    });
    try {
      const body = await within(
        new Promise<string>((resolve, reject) => {
          const req = httpsRequest({ host: "127.0.0.1", port: server.port, path: "/", ca: cert, agent: false }, (res) => {
            let text = "";
            res.on("data", (chunk: Uint8Array) => (text += decoder.decode(chunk)));
            res.on("end", () => resolve(text));
            res.on("error", reject);
          });
          req.on("error", reject);
          req.end();
        }),
        5000,
        "the HTTPS response",
      );
      assert.equal(body, "https: 127.0.0.1");
    } finally {
      await server.stop(true);
    }
  });

  it("refuses bodies above maxRequestBodySize", async () => {
    const server = await platform.serveHttp({
      hostname: "127.0.0.1",
      port: 0,
      maxRequestBodySize: 1024,
      handler: async (request) => new Response(`got ${(await request.arrayBuffer()).byteLength}`),
    });
    try {
      const small = await fetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: "x".repeat(1000) });
      assert.equal(await small.text(), "got 1000");
      const big = await fetch(`http://127.0.0.1:${server.port}/`, { method: "POST", body: "x".repeat(64 * 1024) });
      assert.equal(big.status, 413);
      await big.body?.cancel();
      // A chunked body has no Content-Length: the limit applies while it streams in.
      const chunks = [encoder.encode("y".repeat(800)), encoder.encode("y".repeat(800))];
      const streamed = await fetch(`http://127.0.0.1:${server.port}/`, {
        method: "POST",
        body: new ReadableStream<Uint8Array>({
          pull(controller) {
            const chunk = chunks.shift();
            if (chunk) controller.enqueue(chunk);
            else controller.close();
          },
        }),
        duplex: "half",
      } as RequestInit);
      assert.equal(streamed.status, 413);
      await streamed.body?.cancel();
    } finally {
      await server.stop(true);
    }
  });

  it("stop() waits for an in-flight request", async () => {
    let entered = false;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await platform.serveHttp({
      hostname: "127.0.0.1",
      port: 0,
      handler: async () => {
        entered = true;
        await released;
        return new Response("finished");
      },
    });
    const response = fetch(`http://127.0.0.1:${server.port}/slow`).then((r) => r.text());
    await until(() => entered, 5000, "the request to reach the handler");
    let stopped = false;
    const stopping = server.stop(false).then(() => (stopped = true));
    await sleep(100);
    assert.equal(stopped, false, "stop() resolved while a request was in flight");
    release();
    assert.equal(await within(response, 5000, "the in-flight response"), "finished");
    await within(stopping, 5000, "stop()");
    assert.equal(stopped, true);
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/after`));
  });
});
