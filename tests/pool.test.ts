// The worker pool with real PHP workers: queueing, limits, replacement, retries, reset, destroy.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  NoFreeWorkersError,
  PoolClosedError,
  QueueFullError,
  WorkerCrashedError,
  WorkerStopRequestedError,
} from "../src/errors.ts";
import type { Pool } from "../src/pool/types.ts";
import { alive, call, pids, platform, request, sleep, testPool, text, waitFor } from "./pool-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "rr-pool-test-"));
const pools: Pool[] = [];
async function pool(config: Record<string, unknown>, options: Parameters<typeof testPool>[1] = {}): Promise<Pool> {
  const p = await testPool(config, options);
  pools.push(p);
  return p;
}

after(async () => {
  await Promise.all(pools.map((p) => p.destroy()));
  rmSync(tmp, { recursive: true, force: true });
});

describe("pool", () => {
  it("serves requests and reports its workers and stats", async () => {
    const p = await pool({ num_workers: 2 });
    const reply = await call(p, "hello");
    assert.equal(reply.body, "hello");
    const workers = await p.workers();
    assert.equal(workers.length, 2);
    assert.ok(workers.some((w) => w.pid === reply.pid));
    for (const w of workers) {
      assert.equal(w.statusStr, "ready");
      assert.equal(w.status, 1);
      assert.ok(w.memoryUsage > 1024 * 1024, `memoryUsage ${w.memoryUsage} should be the worker's RSS`);
      assert.ok(w.created <= Date.now() && w.created > Date.now() - 60_000);
    }
    assert.equal(workers.reduce((sum, w) => sum + w.numExecs, 0), 1);
    const stats = p.stats();
    assert.equal(stats.totalExecs, 1);
    assert.equal(stats.queueDepth, 0);
    assert.deepEqual(stats.workersByState, { ready: 2 });
    assert.equal(p.ready(), true);
  });

  it("num_workers: 0 starts one worker per logical CPU", async () => {
    const p = await pool({ num_workers: 0 });
    assert.equal((await p.workers()).length, platform.cpuCount());
  });

  it("max_jobs: 3 replaces the worker before the 4th call", async () => {
    const p = await pool({ num_workers: 1, max_jobs: 3 });
    const first = [await call(p, "a"), await call(p, "b"), await call(p, "c")].map((r) => r.pid);
    assert.equal(new Set(first).size, 1, "the first three calls run on one worker");
    const fourth = await call(p, "d");
    assert.notEqual(fourth.pid, first[0]);
    await waitFor(() => !alive(first[0]), 5000, "the worn-out worker to exit");
  });

  it("max_queue_size: 2 with one busy worker refuses the 4th caller at once", async () => {
    const p = await pool({ num_workers: 1, max_queue_size: 2 });
    const busy = call(p, "sleep:400");
    const queued = [call(p, "q1"), call(p, "q2")];
    assert.equal(p.stats().queueDepth, 2);
    const started = Date.now();
    await assert.rejects(call(p, "q3"), (error: unknown) => {
      assert.ok(error instanceof QueueFullError, String(error));
      assert.match(error.message, /max_queue_size \(2\)/);
      return true;
    });
    assert.ok(Date.now() - started < 100, "refused without waiting");
    assert.equal((await busy).body, "slept:400");
    assert.deepEqual((await Promise.all(queued)).map((r) => r.body), ["q1", "q2"]);
  });

  it("allocate_timeout: a waiting caller gets NoFreeWorkersError naming the timeout and queue depth", async () => {
    const p = await pool({ num_workers: 1, allocate_timeout: "300ms" });
    const busy = call(p, "sleep:900");
    const started = Date.now();
    await assert.rejects(call(p, "late"), (error: unknown) => {
      assert.ok(error instanceof NoFreeWorkersError, String(error));
      assert.match(error.message, /allocate_timeout \(300ms\)/);
      assert.match(error.message, /1 caller\(s\) were waiting/);
      return true;
    });
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 800, `waited ${waited} ms`);
    assert.equal((await busy).body, "slept:900");
    assert.equal(p.stats().queueDepth, 0);
  });

  it("an aborted caller leaves the queue", async () => {
    const p = await pool({ num_workers: 1 });
    const busy = call(p, "sleep:300");
    const controller = new AbortController();
    const waiting = p.exec(request("never"), controller.signal);
    assert.equal(p.stats().queueDepth, 1);
    controller.abort(new Error("client went away"));
    await assert.rejects(waiting, /client went away/);
    assert.equal(p.stats().queueDepth, 0);
    await busy;
    assert.equal((await call(p, "next")).body, "next");
  });

  it("debug: true starts a fresh worker for every request and stops it after", async () => {
    const p = await pool({ debug: true, num_workers: 4 });
    assert.equal((await p.workers()).length, 0, "no pre-allocated workers");
    const seen = [await call(p, "1"), await call(p, "2"), await call(p, "3")].map((r) => r.pid);
    assert.equal(new Set(seen).size, 3);
    await waitFor(() => seen.every((pid) => !alive(pid)), 5000, "debug workers to exit");
  });

  it("a worker that asks to stop is replaced and the request retried on another worker", async () => {
    const flag = join(tmp, "stop-once");
    const p = await pool({ num_workers: 1 }, { script: "pool-stop-once.php", env: { POOL_STOP_FLAG: flag } });
    const [before] = await pids(p);
    const reply = await call(p, "retried");
    assert.equal(reply.body, "retried");
    assert.notEqual(reply.pid, before);
    await waitFor(() => !alive(before), 5000, "the stopped worker to exit");
  });

  it("workers that always ask to stop: the caller gets an error after bounded retries", async () => {
    const p = await pool({ num_workers: 1 }, { script: "stop.php" });
    await assert.rejects(p.exec(request("x")), (error: unknown) => {
      assert.ok(error instanceof WorkerStopRequestedError, String(error));
      assert.match(error.message, /asked to stop/);
      return true;
    });
    assert.ok(p.ready() || (await pids(p)).length <= 1);
  });

  it("a crash mid-request fails that caller; the worker is replaced and the pool keeps serving", async () => {
    const p = await pool({ num_workers: 1 });
    const [before] = await pids(p);
    await assert.rejects(call(p, "exit"), (error: unknown) => error instanceof WorkerCrashedError);
    const reply = await call(p, "still here");
    assert.equal(reply.body, "still here");
    assert.notEqual(reply.pid, before);
    assert.ok(!alive(before));
  });

  it("a streamed response keeps its worker busy until the stream ends", async () => {
    const p = await pool({ num_workers: 1 }, { script: "stream.php" });
    const response = await p.exec(request("4:40", "ctx"));
    assert.ok(response.stream, "the response is a stream");
    const second = p.exec(request("1", "second"));
    await sleep(50);
    assert.equal(p.stats().queueDepth, 1, "the second request waits for the streaming worker");
    const chunks = [new TextDecoder().decode(response.body)];
    for await (const part of response.stream) chunks.push(new TextDecoder().decode(part.body));
    assert.deepEqual(chunks, ["chunk0", "chunk1", "chunk2", "chunk3", "end"]);
    const next = await second;
    assert.equal(text(next).context, "second");
    if (next.stream) for await (const _ of next.stream) { /* drain */ }
  });

  it("reset replaces every worker without failing in-flight calls", async () => {
    const p = await pool({ num_workers: 2 });
    const before = await pids(p);
    const inflight = call(p, "sleep:400");
    await p.reset();
    assert.equal((await inflight).body, "slept:400");
    const after = await pids(p);
    assert.equal(after.length, 2);
    for (const pid of after) assert.ok(!before.includes(pid), `pid ${pid} survived the reset`);
    for (const pid of before) assert.ok(!alive(pid), `old worker ${pid} still runs`);
    assert.equal((await call(p, "after reset")).body, "after reset");
  });

  it("reports CPU use per worker from /proc", async () => {
    const p = await pool({ num_workers: 1 });
    const { pid } = await call(p, "burn:300");
    const [info] = await p.workers();
    assert.equal(info.pid, pid);
    assert.ok(info.CPUPercent > 10 && info.CPUPercent <= 100, `CPUPercent ${info.CPUPercent}`);
  });

  it("a cancelled stream gives its worker back to the pool", async () => {
    const p = await pool({ num_workers: 1 }, { script: "stream.php" });
    const response = await p.exec(request("50:20", "ctx"));
    assert.ok(response.stream);
    await response.stream.cancel();
    const next = await p.exec(request("1", "next"));
    assert.equal(text(next).context, "next");
    if (next.stream) for await (const _ of next.stream) { /* drain */ }
    assert.deepEqual(p.stats().workersByState, { ready: 1 });
  });

  it("reset_timeout bounds a reset: a worker still busy then is killed", async () => {
    const p = await pool({ num_workers: 1, reset_timeout: "300ms" });
    const [before] = await pids(p);
    const stuck = call(p, "sleep:5000").then(() => undefined, (error: unknown) => error);
    const started = Date.now();
    await p.reset();
    assert.ok(Date.now() - started < 2000, `reset took ${Date.now() - started} ms`);
    assert.ok((await stuck) instanceof WorkerCrashedError);
    assert.ok(!alive(before));
    assert.equal((await call(p, "after")).body, "after");
  });

  it("destroy_timeout bounds a destroy: workers still busy then are killed", async () => {
    const p = await testPool({ num_workers: 1, destroy_timeout: "300ms" });
    const [before] = await pids(p);
    const stuck = call(p, "sleep:5000").then(() => undefined, (error: unknown) => error);
    const started = Date.now();
    await p.destroy();
    assert.ok(Date.now() - started < 2000, `destroy took ${Date.now() - started} ms`);
    assert.ok((await stuck) instanceof WorkerCrashedError);
    assert.ok(!alive(before));
  });

  it("kills what a worker left running in its process group when it goes", async () => {
    const p = await testPool({ num_workers: 1 });
    const orphan = Number((await call(p, "fork")).body);
    assert.ok(orphan > 0 && alive(orphan), "the worker started a background process");
    await p.destroy();
    await waitFor(() => !alive(orphan), 3000, "the background process to be killed");
  });

  it("destroy drains in-flight work, then refuses new work and stops every worker", async () => {
    const p = await testPool({ num_workers: 2 });
    const before = await pids(p);
    const inflight = call(p, "sleep:300");
    const destroyed = p.destroy();
    await assert.rejects(call(p, "too late"), (error: unknown) => error instanceof PoolClosedError);
    assert.equal((await inflight).body, "slept:300");
    await destroyed;
    for (const pid of before) assert.ok(!alive(pid), `worker ${pid} still runs after destroy`);
    assert.equal(p.ready(), false);
  });
});
