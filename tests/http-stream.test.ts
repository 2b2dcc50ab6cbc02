// Streamed responses, early hints, worker errors and crashes through `rr serve` with real PHP
// workers: stream.php, early-hints.php, error.php and crash.php.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { waitFor } from "./helpers/index.ts";
import { rawExchange, type RRHttp, startHttp } from "./http-helpers.ts";

let stream: RRHttp;
let hints: RRHttp;
let errorsDebug: RRHttp;
let errorsQuiet: RRHttp;
let crash: RRHttp;
let busy: RRHttp;

before(async () => {
  [stream, hints, errorsDebug, errorsQuiet, crash, busy] = await Promise.all([
    startHttp({ worker: "stream.php", pool: { num_workers: 1, stream_timeout: "5s" }, http: { uploads: { dir: "." } } }),
    startHttp({ worker: "early-hints.php" }),
    startHttp({ worker: "error.php", pool: { num_workers: 1, debug: true } }),
    startHttp({ worker: "error.php", pool: { num_workers: 1 } }),
    startHttp({ worker: "crash.php", pool: { num_workers: 2 }, http: { internal_error_code: 502, access_logs: true } }),
    startHttp({ worker: "inspect.php", pool: { num_workers: 1, allocate_timeout: "300ms" }, http: { internal_error_code: 503 } }),
  ]);
});
after(async () => {
  await Promise.all([stream, hints, errorsDebug, errorsQuiet, crash, busy].map((rr) => rr?.stop()));
});

describe("http streaming", () => {
  it("sends STREAM frames to the client as they arrive", async () => {
    const started = Date.now();
    const res = await fetch(`${stream.url}/?chunks=4&delay=150`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-streamed"), "yes");
    assert.equal(res.headers.get("content-length"), null);
    const reader = res.body!.getReader();
    const arrivals: Array<[string, number]> = [];
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      arrivals.push([decoder.decode(value), Date.now() - started]);
    }
    assert.equal(arrivals.map(([text]) => text).join(""), "chunk0\nchunk1\nchunk2\nchunk3\n");
    const firstAt = arrivals.find(([text]) => text.includes("chunk0"))![1];
    const lastAt = arrivals.find(([text]) => text.includes("chunk3"))![1];
    assert.ok(lastAt - firstAt >= 300, `chunk0 came at ${firstAt} ms, chunk3 at ${lastAt} ms: not streamed`);
  });

  it("answers PING with PONG (pipes: every 5th frame) and completes long streams", async () => {
    const marker = join(stream.dir.path, "long.marker");
    const res = await fetch(`${stream.url}/?chunks=23&marker=${encodeURIComponent(marker)}`);
    const text = await res.text();
    assert.equal(text.split("\n").filter(Boolean).length, 23);
    await waitFor(() => existsSync(marker), 5000, 25, "marker");
    assert.equal(readFileSync(marker, "utf8"), "completed");
  });

  it("sends STOP when the client disconnects mid-stream, drains the worker and reuses it", async () => {
    const marker = join(stream.dir.path, "cut.marker");
    const path = `/?chunks=400&delay=10&marker=${encodeURIComponent(marker)}`;
    await new Promise<void>((resolve, reject) => {
      const socket = connect(stream.port, "127.0.0.1");
      let seen = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        seen += chunk;
        if (seen.includes("chunk2")) {
          socket.destroy();
          resolve();
        }
      });
      socket.on("error", reject);
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
    await waitFor(() => existsSync(marker), 8000, 25, "the worker to notice STOP");
    const result = readFileSync(marker, "utf8");
    const match = /^stopped-at-(\d+)$/.exec(result);
    assert.ok(match, `the worker should have been stopped, got "${result}"`);
    assert.ok(Number(match[1]) < 400);
    // num_workers is 1: the same worker serves the next request.
    const res = await fetch(`${stream.url}/?chunks=2`);
    assert.equal(await res.text(), "chunk0\nchunk1\n");
  });
});

describe("http uploads with a streamed response", () => {
  it("keeps uploaded files while the stream runs and deletes them after it ends", async () => {
    const uploads = () => readdirSync(stream.dir.path).filter((name) => name.startsWith("upload"));
    const form = new FormData();
    form.append("file", new Blob(["streamed upload"]), "s.txt");
    const res = await fetch(`${stream.url}/?chunks=3&delay=300`, { method: "POST", body: form });
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /chunk0/);
    assert.equal(uploads().length, 1, "the upload exists while the worker streams");
    while (!(await reader.read()).done);
    await waitFor(() => uploads().length === 0, 5000, 25, "the upload to be deleted after the stream");
  });
});

describe("http early hints", () => {
  it("delivers the final response with the 103 frame's Link header (runtimes cannot send 1xx)", async () => {
    const raw = await rawExchange(hints.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.match(raw, /\r\nlink: <\/style\.css>; rel=preload; as=style\r\n/i);
    assert.match(raw, /\r\nx-final: 1\r\n/i);
    assert.match(raw, /\r\n\r\n(6\r\n)?hinted(\r\n0\r\n\r\n)?$/);
  });
});

describe("http worker errors", () => {
  it("answers an ERROR frame with 500 and the escaped text when pool.debug is true", async () => {
    const res = await fetch(`${errorsDebug.url}/error`);
    assert.equal(res.status, 500);
    assert.match(await res.text(), /boom: &lt;\/error&gt;/);
  });

  it("answers an ERROR frame with an empty 500 when pool.debug is false, and the worker stays", async () => {
    const before = await (await fetch(`${errorsQuiet.url}/`)).text();
    const res = await fetch(`${errorsQuiet.url}/error`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "");
    const afterText = await (await fetch(`${errorsQuiet.url}/`)).text();
    assert.equal(afterText, before, "the same worker (pid) still serves");
  });

  it("retries on another worker when the worker asks to stop", async () => {
    const first = await (await fetch(`${errorsQuiet.url}/`)).text();
    const once = join(errorsQuiet.dir.path, "stopped-once");
    const res = await fetch(`${errorsQuiet.url}/stop?once=${encodeURIComponent(once)}`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^fine \d+$/);
    assert.notEqual(text, first, "served by a fresh worker");
    assert.ok(existsSync(once), "the first worker did ask to stop");
  });

  it("answers 500 for a status outside 100-599", async () => {
    const res = await fetch(`${errorsQuiet.url}/badstatus`);
    assert.equal(res.status, 500);
    await res.body?.cancel();
  });
});

describe("http without a free worker", () => {
  it("answers internal_error_code with No-Workers: true after allocate_timeout", async () => {
    const slow = fetch(`${busy.url}/slow?sleep=1500`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await fetch(`${busy.url}/second`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("no-workers"), "true");
    await refused.body?.cancel();
    const first = await slow;
    assert.equal(first.status, 200);
    await first.body?.cancel();
  });
});

describe("http worker crash", () => {
  it("answers internal_error_code for the crashed request; other requests are unaffected", async () => {
    const okBefore = await fetch(`${crash.url}/ok`);
    assert.equal(okBefore.status, 200);
    await okBefore.body?.cancel();
    const [crashed, ...others] = await Promise.all([
      fetch(`${crash.url}/crash`),
      ...Array.from({ length: 6 }, () => fetch(`${crash.url}/ok`)),
    ]);
    assert.equal(crashed.status, 502);
    await crashed.body?.cancel();
    for (const res of others) {
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^ok \d+$/);
    }
    const after = await waitFor(async () => {
      const res = await fetch(`${crash.url}/ok`);
      await res.body?.cancel();
      return res.status === 200;
    }, 5000, 50, "a replacement worker");
    assert.ok(after);
    assert.match(crash.proc.output, /crash\.php: exiting on purpose/);
    // access_logs: true logs every request with its status.
    await waitFor(() => /http access log.*"status":502.*"URI":"[^"]*\/crash"/.test(crash.proc.output), 3000, 25, "the access log line");
  });
});
