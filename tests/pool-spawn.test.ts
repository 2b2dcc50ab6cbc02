// Workers that cannot start: startup fails with the real cause; at runtime the pool retries
// with capped exponential backoff and tells waiting callers why, then recovers.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpawnError, WorkerCrashedError } from "../src/errors.ts";
import type { Pool } from "../src/pool/types.ts";
import { call, RecordingLogger, sleep, testPool, waitFor } from "./pool-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "rr-pool-spawn-"));
const pools: Pool[] = [];

after(async () => {
  await Promise.all(pools.map((p) => p.destroy()));
  rmSync(tmp, { recursive: true, force: true });
});

function boots(log: string): number[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((line) => Number(line) * 1000);
}

describe("pool spawn failures", () => {
  it("startup fails with the exit code and stderr of a worker that dies at boot", async () => {
    const flag = join(tmp, "crash-at-startup");
    writeFileSync(flag, "");
    await assert.rejects(
      testPool({ num_workers: 2 }, { env: { POOL_CRASH_FLAG: flag } }),
      (error: unknown) => {
        assert.ok(error instanceof SpawnError, String(error));
        assert.match(error.message, /Pool "test": cannot start 2 worker\(s\)/);
        assert.match(error.message, /code 3/);
        assert.match(error.message, /database config missing/);
        return true;
      },
    );
  });

  it("workers that die right after the handshake are respawned with backoff, not in a tight loop", async () => {
    const log = join(tmp, "die-after-handshake.log");
    const logger = new RecordingLogger();
    const p = await testPool({ num_workers: 1 }, { script: "pool-die-after-handshake.php", env: { POOL_BOOT_LOG: log }, logger });
    pools.push(p);
    await sleep(1500);
    const starts = boots(log).length;
    // ~50 ms per start: a tight loop would make about 25 in 1.5 s; backoff makes about 4.
    assert.ok(starts >= 2 && starts <= 8, `${starts} starts in 1.5 s`);
    assert.match(logger.text("error"), /exited with code 5 right after it started[\s\S]*bailing out/);
  });

  it("a boot-crash loop backs off, waiting callers get the spawn error, and the pool recovers", async () => {
    const flag = join(tmp, "crash-later");
    const log = join(tmp, "boots.log");
    const logger = new RecordingLogger();
    const p = await testPool({ num_workers: 1 }, { env: { POOL_CRASH_FLAG: flag, POOL_BOOT_LOG: log }, logger });
    pools.push(p);
    assert.equal((await call(p, "ok")).body, "ok");

    // From now on every new worker dies at boot. Kill the running one through a crashing request.
    writeFileSync(flag, "");
    const crashAt = Date.now();
    await assert.rejects(call(p, "exit"), (error: unknown) => error instanceof WorkerCrashedError);

    // A caller waiting meanwhile gets the real cause, not a generic timeout.
    await assert.rejects(call(p, "during the loop"), (error: unknown) => {
      assert.ok(error instanceof SpawnError, String(error));
      assert.match(error.message, /code 3/);
      assert.match(error.message, /database config missing/);
      return true;
    });
    assert.equal(p.ready(), false, "no worker can serve");

    await sleep(1600 - (Date.now() - crashAt));
    const attempts = boots(log).filter((t) => t >= crashAt);
    // 100, 200, 400, 800 ms apart: about 5 attempts in 1.6 s (a tight loop would make dozens).
    assert.ok(attempts.length >= 3 && attempts.length <= 7, `${attempts.length} boot attempts in 1.6 s`);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]);
    for (let i = 1; i < gaps.length; i++) {
      assert.ok(gaps[i] > gaps[i - 1] * 1.4, `backoff grows: gaps ${gaps.map(Math.round).join(", ")} ms`);
    }
    assert.match(logger.text("error"), /cannot start a worker.*code 3[\s\S]*retrying in/);

    // Fixed: the next attempt (at most 5 s later, here ~1.6 s) brings the pool back.
    rmSync(flag);
    await waitFor(() => p.ready(), 4000, "the pool to recover");
    assert.equal((await call(p, "back")).body, "back");
  });
});
