// Supervisor limits (ttl, idle_ttl, exec_ttl, max_worker_memory) and the dynamic allocator,
// with real PHP workers and short timings.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ExecTTLError } from "../src/errors.ts";
import type { Pool } from "../src/pool/types.ts";
import { alive, call, pids, request, sleep, testPool, waitFor } from "./pool-helpers.ts";

const pools: Pool[] = [];
async function pool(config: Record<string, unknown>, options: Parameters<typeof testPool>[1] = {}): Promise<Pool> {
  const p = await testPool(config, options);
  pools.push(p);
  return p;
}

after(async () => {
  await Promise.all(pools.map((p) => p.destroy()));
});

describe("pool supervisor", () => {
  it("ttl: 1s replaces the worker; a request running across the boundary still succeeds", async () => {
    const p = await pool({ num_workers: 1, supervisor: { watch_tick: "100ms", ttl: "1s" } });
    const [first] = await pids(p);
    // Runs from ~0 s to ~1.3 s: the ttl passes while it works (soft limit: it must finish).
    const slow = await call(p, "sleep:1300");
    assert.equal(slow.pid, first);
    assert.equal(slow.body, "slept:1300");
    const next = await call(p, "after ttl");
    assert.notEqual(next.pid, first, "a worker past its ttl is replaced after its job");
    await waitFor(() => !alive(first), 3000, "the expired worker to exit");
  });

  it("idle_ttl: a used worker idle for longer than idle_ttl is replaced", async () => {
    const p = await pool({ num_workers: 1, supervisor: { watch_tick: "100ms", idle_ttl: "600ms" } });
    const { pid } = await call(p, "use it once");
    await sleep(150);
    assert.deepEqual(await pids(p), [pid], "still within idle_ttl");
    await waitFor(async () => (await pids(p)).length === 1 && (await pids(p))[0] !== pid, 3000, "the idle worker to be replaced");
    await waitFor(() => !alive(pid), 3000, "the idle worker to exit");
    // The replacement was never used, so idle_ttl does not apply to it.
    const [fresh] = await pids(p);
    await sleep(900);
    assert.deepEqual(await pids(p), [fresh]);
  });

  it("exec_ttl: 1s kills a sleeping worker; the caller gets ExecTTLError and a fresh worker serves next", async () => {
    const p = await pool({ num_workers: 1, supervisor: { exec_ttl: "1s" } });
    const [first] = await pids(p);
    const started = Date.now();
    await assert.rejects(call(p, "sleep:5000"), (error: unknown) => {
      assert.ok(error instanceof ExecTTLError, String(error));
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 950 && took < 1800, `ExecTTLError after ${took} ms`);
    const next = await call(p, "fresh");
    assert.equal(next.body, "fresh");
    assert.notEqual(next.pid, first);
    assert.ok(!alive(first));
  });

  it("max_worker_memory replaces a leaking worker between jobs", async () => {
    // PHP starts at ~18 MB RSS; leak.php keeps 10 MB more per request.
    const p = await pool({ num_workers: 1, supervisor: { watch_tick: "100ms", max_worker_memory: 34 } }, { script: "leak.php" });
    const [first] = await pids(p);
    const used = async (): Promise<number> => Number(new TextDecoder().decode((await p.exec(request("x"))).body));
    const one = await used();
    const two = await used();
    assert.ok(two - one >= 10 * 1024 * 1024, "the fixture leaks");
    await waitFor(async () => !(await pids(p)).includes(first), 3000, "the leaking worker to be replaced");
    const afterReplace = await used();
    assert.ok(afterReplace < two, `fresh worker reports ${afterReplace} bytes, the old one ${two}`);
    await waitFor(() => !alive(first), 3000, "the leaking worker to exit");
  });

  it("dynamic allocator grows to max_workers under load and shrinks after idle_timeout", async () => {
    const p = await pool({
      num_workers: 1,
      allocate_timeout: "5s",
      dynamic_allocator: { max_workers: 2, spawn_rate: 2, idle_timeout: "500ms" },
    });
    const [base] = await pids(p);
    const calls = Array.from({ length: 6 }, () => call(p, "sleep:300"));
    await waitFor(async () => (await pids(p)).length === 3, 3000, "two extra workers");
    const served = new Set((await Promise.all(calls)).map((r) => r.pid));
    assert.equal(served.size, 3, "1 base + 2 extra workers served the load");
    assert.ok((await pids(p)).length <= 3, "never more than max_workers extra");
    await waitFor(async () => (await pids(p)).length === 1, 3000, "the extra workers to be retired");
    assert.deepEqual(await pids(p), [base], "the base worker stays");
  });
});
