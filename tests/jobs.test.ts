// The jobs plugin end to end: a real `rr serve`, our PHP consumer (tests/fixtures/php/jobs/consumer.php)
// answering like spiral/roadrunner-jobs 4.x, and our PHP producer calling the jobs RPC with protobuf.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getPlatform } from "../src/platform/index.ts";
import { RpcClient } from "../src/plugins/rpc/client.ts";
import { freePort, makeTmpDir, ROOT, runRR, type RunningProcess, startRR, type TmpDir, waitFor } from "./helpers/index.ts";

const PRODUCER = join(ROOT, "tests/fixtures/php/jobs/producer.php");
const CONSUMER = join(ROOT, "tests/fixtures/php/jobs/consumer.php");

interface LoggedJob {
  pid: number;
  id: string;
  job: string;
  pipeline: string;
  queue: string;
  driver: string;
  headers: Record<string, string[]>;
  payload: string;
  t: number;
}

let dir: TmpDir;
let rr: RunningProcess;
let rpcAddress: string;
let logFile: string;

function producer(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("php", [PRODUCER, ...args], { env: { ...process.env, RR_RPC: rpcAddress } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const result = await producer(...args);
  assert.equal(result.code, 0, `producer ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

function logged(): LoggedJob[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as LoggedJob);
}

const loggedIn = (pipeline: string) => logged().filter((j) => j.pipeline === pipeline);

interface Stat {
  pipeline: string;
  driver: string;
  queue: string;
  active: number;
  delayed: number;
  reserved: number;
  ready: boolean;
  priority: number;
}

async function stat(pipeline: string): Promise<Stat | undefined> {
  const all = JSON.parse(await ok("stat")) as Stat[];
  return all.find((s) => s.pipeline === pipeline);
}

let metricsPort = 0;

before(async () => {
  dir = makeTmpDir("rr-jobs-");
  logFile = join(dir.path, "jobs.log");
  const port = await freePort();
  rpcAddress = `tcp://127.0.0.1:${port}`;
  metricsPort = await freePort();
  dir.write(
    ".rr.yaml",
    `version: "3"
rpc:
  listen: ${rpcAddress}
server:
  command: "php ${CONSUMER}"
  env:
    JOBS_LOG: ${logFile}
    JOBS_MARKERS: ${dir.path}
metrics:
  address: 127.0.0.1:${metricsPort}
logs:
  level: info
jobs:
  pool:
    num_workers: 1
    supervisor:
      exec_ttl: 1s
  consume: [replies, delays, crashes, dyn_consumed]
  pipelines:
    prio:
      driver: memory
      config:
        priority: 3
    replies:
      driver: memory
    delays:
      driver: memory
      priority: 10
    crashes:
      driver: memory
      prefetch: 5
`,
  );
  rr = startRR(["serve", "-c", join(dir.path, ".rr.yaml")], { cwd: dir.path });
  await rr.waitForOutput(/rr serve started|serve started/i, 20_000);
});

after(async () => {
  if (rr?.running) {
    rr.signal("SIGTERM");
    await waitFor(() => !rr.running, 15_000).catch(() => rr.kill());
  }
  await rr?.exited;
  dir?.remove();
});

describe("jobs plugin (memory) end to end", () => {
  it("runs lower priority values first; priority 0 takes the pipeline's; pause/resume", async () => {
    assert.equal((await stat("prio"))?.ready, false, "prio is not in jobs.consume");
    await ok("push", "prio", "p5", "J", "ack", "5");
    await ok("push", "prio", "p9", "J", "ack", "9");
    await ok("push", "prio", "p0", "J", "ack", "0"); // pipeline priority 3
    await ok("push", "prio", "p1", "J", "ack", "1");
    const before = await stat("prio");
    assert.deepEqual(
      { active: before?.active, ready: before?.ready, priority: before?.priority, driver: before?.driver },
      { active: 4, ready: false, priority: 3, driver: "memory" },
    );
    assert.equal(loggedIn("prio").length, 0);
    await ok("resume", "prio");
    await waitFor(() => loggedIn("prio").length === 4, 10_000, 25, "4 prio jobs");
    assert.deepEqual(loggedIn("prio").map((j) => j.id), ["p1", "p0", "p5", "p9"]);
    assert.equal((await stat("prio"))?.ready, true);
    await ok("pause", "prio");
    assert.equal((await stat("prio"))?.ready, false);
    const again = await producer("pause", "prio");
    assert.equal(again.code, 3);
    assert.match(again.stderr, /nothing to pause/);
  });

  it("sends RoadRunner's context (id, job, driver, headers, pipeline, queue) and the raw payload", async () => {
    await ok("push", "replies", "ctx-1", "App\\Jobs\\Mail", "ack", "0", "0", JSON.stringify({ tenant: ["acme", "b"] }));
    const job = (await waitFor(() => loggedIn("replies").find((j) => j.id === "ctx-1"), 10_000))!;
    assert.deepEqual(
      { job: job.job, driver: job.driver, headers: job.headers, pipeline: job.pipeline, queue: job.queue, payload: job.payload },
      { job: "App\\Jobs\\Mail", driver: "memory", headers: { tenant: ["acme", "b"] }, pipeline: "replies", queue: "replies", payload: "ack" },
    );
  });

  it("handles every reply type: complete/ack once, fail and nack without requeue once, requeues again", async () => {
    const cases: Array<[string, number]> = [
      ["complete", 1],
      ["ack", 1],
      ["fail", 1],
      ["nack", 1],
      ["error", 1],
      ["fail-requeue-once", 2],
      ["requeue-once", 2],
      ["nack-requeue-once", 2],
    ];
    for (const [action] of cases) await ok("push", "replies", `r-${action}`, "J", action);
    const count = (id: string) => loggedIn("replies").filter((j) => j.id === id).length;
    await waitFor(() => cases.every(([action, n]) => count(`r-${action}`) >= n), 10_000, 25, "all replies");
    // Give a wrongly requeued job time to show up again.
    await new Promise((r) => setTimeout(r, 300));
    for (const [action, n] of cases) assert.equal(count(`r-${action}`), n, `${action} delivered ${count(`r-${action}`)} times`);
    const requeued = loggedIn("replies").filter((j) => j.id === "r-requeue-once");
    assert.deepEqual(requeued[1].headers, { attempts: ["1"] }, "requeue carries the worker's headers");
    const failed = loggedIn("replies").filter((j) => j.id === "r-fail-requeue-once");
    assert.deepEqual(failed[1].headers, { attempts: ["1"] });
    const s = await stat("replies");
    assert.equal(s?.active, 0);
  });

  it("holds delayed jobs back and reports them as delayed; a requeue with delay_seconds waits too", async () => {
    const pushed = Date.now() / 1000;
    await ok("push", "delays", "d-1", "J", "ack", "0", "1");
    assert.equal((await stat("delays"))?.delayed, 1);
    await ok("push", "delays", "d-2", "J", "delay-once:1");
    await waitFor(() => loggedIn("delays").filter((j) => j.id === "d-2").length === 2, 10_000, 25, "d-2 twice");
    await waitFor(() => loggedIn("delays").some((j) => j.id === "d-1"), 10_000, 25, "d-1");
    const d1 = loggedIn("delays").find((j) => j.id === "d-1")!;
    assert.ok(d1.t - pushed >= 0.95, `delayed job ran ${(d1.t - pushed).toFixed(2)} s after push`);
    const [first, second] = loggedIn("delays").filter((j) => j.id === "d-2");
    assert.ok(second.t - first.t >= 0.95, `requeued job ran ${(second.t - first.t).toFixed(2)} s later`);
    assert.equal((await stat("delays"))?.delayed, 0);
  });

  it("delivers a job again when its worker crashes mid-job (at-least-once)", async () => {
    await ok("push", "crashes", "c-1", "J", "crash-once");
    await waitFor(() => loggedIn("crashes").filter((j) => j.id === "c-1").length === 2, 15_000, 25, "c-1 twice");
    const runs = loggedIn("crashes").filter((j) => j.id === "c-1");
    assert.notEqual(runs[0].pid, runs[1].pid, "the second delivery ran on a fresh worker");
    await waitFor(async () => (await stat("crashes"))?.active === 0, 5_000, 50, "crashes drained");
  });

  it("does not deliver an auto_ack job again: it was acknowledged before it ran", async () => {
    await ok("push", "crashes", "aa-1", "J", "crash-once", "0", "0", "{}", "true");
    await waitFor(() => loggedIn("crashes").some((j) => j.id === "aa-1"), 10_000, 25, "aa-1");
    await waitFor(async () => (await stat("crashes"))?.active === 0, 5_000, 50, "crashes drained");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(loggedIn("crashes").filter((j) => j.id === "aa-1").length, 1);
  });

  it("delivers a job again when its worker hits exec_ttl and is killed", async () => {
    await ok("push", "crashes", "h-1", "J", "hang-once");
    await waitFor(() => loggedIn("crashes").filter((j) => j.id === "h-1").length === 2, 15_000, 25, "h-1 twice");
    const runs = loggedIn("crashes").filter((j) => j.id === "h-1");
    assert.notEqual(runs[0].pid, runs[1].pid, "the killed worker was replaced");
    assert.ok(runs[1].t - runs[0].t >= 0.9, "the first run was cut at exec_ttl (1s)");
    await waitFor(async () => (await stat("crashes"))?.active === 0, 5_000, 50, "crashes drained");
  });

  it("declares, lists and destroys pipelines at runtime", async () => {
    await ok("declare", JSON.stringify({ name: "dyn", driver: "memory", priority: "2", prefetch: "10" }));
    assert.ok((JSON.parse(await ok("list")) as string[]).includes("dyn"));
    const dup = await producer("declare", JSON.stringify({ name: "dyn", driver: "memory" }));
    assert.equal(dup.code, 3);
    assert.match(dup.stderr, /pipeline already exists/);
    const s = await stat("dyn");
    assert.deepEqual({ ready: s?.ready, priority: s?.priority }, { ready: false, priority: 2 });
    await ok("push", "dyn", "dyn-1", "J", "ack");
    await ok("resume", "dyn");
    await waitFor(() => loggedIn("dyn").some((j) => j.id === "dyn-1"), 10_000, 25, "dyn-1");
    // A declared pipeline named in jobs.consume starts consuming at once.
    await ok("declare", JSON.stringify({ name: "dyn_consumed", driver: "memory" }));
    assert.equal((await stat("dyn_consumed"))?.ready, true);
    assert.equal(await ok("destroy", "dyn"), '["dyn"]\n');
    assert.ok(!(JSON.parse(await ok("list")) as string[]).includes("dyn"));
    const gone = await producer("push", "dyn", "dyn-2", "J", "ack");
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /no such pipeline, requested: dyn/);
    const noDriver = await producer("declare", JSON.stringify({ name: "x" }));
    assert.match(noDriver.stderr, /no associated driver/);
  });

  it("refuses a job without an id, as RoadRunner does", async () => {
    const result = await producer("push", "replies", "", "J", "ack");
    assert.equal(result.code, 3);
    assert.match(result.stderr, /empty ID field not allowed/);
  });

  it("shows pipelines through informer.Jobs and `rr workers`", async () => {
    const client = await RpcClient.connect(getPlatform(), rpcAddress);
    try {
      const states = await client.call<Array<Record<string, unknown>>>("informer.Jobs", "jobs");
      const prio = states.find((s) => s.Pipeline === "prio");
      assert.deepEqual(prio, {
        Pipeline: "prio",
        Driver: "memory",
        Queue: "prio",
        Active: 0,
        Delayed: 0,
        Reserved: 0,
        Ready: false,
        Priority: 3,
        ErrorMessage: "",
      });
      assert.equal(await client.call("informer.Jobs", "http"), null);
    } finally {
      client.close();
    }
    const out = await runRR(["workers", "-c", join(dir.path, ".rr.yaml")], { cwd: dir.path });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /prio/);
    assert.match(out.stdout, /memory/);
  });

  it("rr jobs --list/--pause/--resume/--destroy manage pipelines over RPC", async () => {
    const cfg = ["-c", join(dir.path, ".rr.yaml")];
    const resumed = await runRR(["jobs", "--resume", "prio", ...cfg], { cwd: dir.path });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, "resumed: prio\n");
    const listed = await runRR(["jobs", "--list", ...cfg], { cwd: dir.path });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^Status +\| Pipeline +\| Driver +\| Queue +\| Priority \| Active \| Delayed \| Reserved$/m);
    assert.match(listed.stdout, /^active +\| prio +\| memory +\| prio +\| 3 /m);
    const paused = await runRR(["jobs", "--pause=prio", "--list", ...cfg], { cwd: dir.path });
    assert.match(paused.stdout, /^paused: prio$/m);
    assert.match(paused.stdout, /^paused +\| prio /m);
    const missing = await runRR(["jobs", "--destroy", "nope", ...cfg], { cwd: dir.path });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr + missing.stdout, /no such pipeline, requested: nope/);
  });

  // Last: it stops rr.
  it("exports the pool and job counters to the metrics plugin (rr_jobs_*)", async () => {
    await ok("push", "replies", "metric-1", "J", "ack");
    await waitFor(() => loggedIn("replies").some((j) => j.id === "metric-1"), 10_000);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
    assert.equal(value("rr_jobs_total_workers"), 1);
    assert.ok(value("rr_jobs_push_ok") >= 1, "pushes are counted");
    assert.ok(value("rr_jobs_jobs_ok") >= 1, "acknowledged jobs are counted");
    assert.ok(value("rr_jobs_jobs_err") >= 0);
  });

  it("says at shutdown how many memory jobs are dropped", async () => {
    await ok("push", "prio", "left-1", "J", "ack");
    await ok("push", "prio", "left-2", "J", "ack", "0", "60");
    rr.signal("SIGTERM");
    const result = await rr.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(rr.output, /Pipeline "prio" still held 2 jobs in memory; they are dropped at shutdown/);
  });
});
