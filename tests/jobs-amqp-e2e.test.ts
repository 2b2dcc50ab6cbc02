// The jobs plugin over RabbitMQ with a real `rr serve` and our PHP fixtures: 10,000 jobs with rr
// stopped and restarted midway (every job id consumed at least once, none lost), and a pipeline
// declared at runtime the way spiral/roadrunner-jobs declares one (every option as a string).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import * as amqplib from "amqplib";
import { freePort, makeTmpDir, ROOT, type RunningProcess, startRR, type TmpDir, waitFor } from "./helpers/index.ts";
import { AMQP_URL, type Broker, deleteQueues, ensureRabbit, queueDepth, restartBrokerApp } from "./jobs-rabbitmq.ts";

const PRODUCER = join(ROOT, "tests/fixtures/php/jobs/producer.php");
const CONSUMER = join(ROOT, "tests/fixtures/php/jobs/consumer.php");
const TOTAL = 10_000;

let broker: Broker;
let dir: TmpDir;
let rr: RunningProcess | undefined;
let rpcAddress: string;
let logFile: string;
const queue = `rr-test-restart-${randomUUID().slice(0, 8)}`;
const declared = `rr-test-declared-${randomUUID().slice(0, 8)}`;
const durable = `rr-test-durable-${randomUUID().slice(0, 8)}`;

function producer(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("php", [PRODUCER, ...args], { env: { ...process.env, RR_RPC: rpcAddress } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`producer ${args.join(" ")} failed: ${stderr}`));
      else resolve(String(stdout));
    });
  });
}

interface LoggedJob {
  id: string;
  pid: number;
  driver: string;
  queue: string;
  pipeline: string;
  headers: Record<string, string[]>;
  t: number;
}

function consumed(): LoggedJob[] {
  if (!existsSync(logFile)) return [];
  const jobs: LoggedJob[] = [];
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    if (line) jobs.push(JSON.parse(line) as LoggedJob);
  }
  return jobs;
}

/** Deliveries logged so far (cheap: counts lines). */
function deliveries(): number {
  if (!existsSync(logFile)) return 0;
  const text = readFileSync(logFile, "utf8");
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Ids the consumer logged (one JSON line per delivery). */
function consumedIds(): string[] {
  return consumed().map((j) => j.id);
}

/** Every rr this file started, so after() can stop any that a failed test left running. */
const started: RunningProcess[] = [];

async function startServer(): Promise<RunningProcess> {
  const proc = startRR(["serve", "-c", join(dir.path, ".rr.yaml")], { cwd: dir.path });
  started.push(proc);
  await proc.waitForOutput(/serve started/i, 20_000);
  return proc;
}

async function stopServer(proc: RunningProcess): Promise<void> {
  proc.signal("SIGTERM");
  await waitFor(() => !proc.running, 20_000, 25, "rr to stop").catch(() => proc.kill());
  await proc.exited;
}

before(async () => {
  broker = await ensureRabbit();
  dir = makeTmpDir("rr-jobs-amqp-");
  logFile = join(dir.path, "jobs.log");
  rpcAddress = `tcp://127.0.0.1:${await freePort()}`;
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
logs:
  level: info
amqp:
  addr: ${AMQP_URL}
jobs:
  pool:
    num_workers: 2
  consume: [bulk, durable]
  pipelines:
    durable:
      driver: amqp
      config:
        queue: ${durable}
        exchange: ${durable}
        routing_key: ${durable}
        durable: true
        exchange_durable: true
        prefetch: 20
    bulk:
      driver: amqp
      config:
        queue: ${queue}
        exchange: ${queue}
        routing_key: ${queue}
        prefetch: 100
`,
  );
});

after(async () => {
  for (const proc of started) if (proc.running) await stopServer(proc);
  await deleteQueues([queue, declared, durable], [queue, declared, durable]);
  dir?.remove();
  await broker?.release();
});

describe("jobs plugin (amqp) end to end", () => {
  it("consumes every one of 10,000 jobs at least once across an rr restart", async () => {
    rr = await startServer();
    const half = TOTAL / 2;
    // Queue the first half in the broker, then stop rr while it is still working through it.
    await producer("pause", "bulk");
    // 1 ms per job, so rr is surely stopped before the first half is done.
    await producer("push-batch", "bulk", "a-", String(half), "sleep:1", "500");
    await producer("resume", "bulk");
    await waitFor(() => deliveries() >= 1000, 20_000, 10, "1000 jobs consumed");
    await stopServer(rr);
    const consumedBeforeRestart = new Set(consumedIds()).size;
    assert.ok(consumedBeforeRestart < half, `rr should stop midway (consumed ${consumedBeforeRestart})`);

    rr = await startServer();
    await producer("push-batch", "bulk", "b-", String(half), "ack", "500");
    await waitFor(() => new Set(consumedIds()).size >= TOTAL, 25_000, 50, `${TOTAL} distinct jobs consumed`);
    const seen = new Set(consumedIds());
    for (let i = 0; i < half; i++) {
      assert.ok(seen.has(`a-${i}`), `a-${i} was lost`);
      assert.ok(seen.has(`b-${i}`), `b-${i} was lost`);
    }
    await waitFor(async () => (await queueDepth(queue)) === 0, 5_000, 50, "the broker queue to drain");
  });

  it("declares an amqp pipeline at runtime with string options, consumes, redelivers after a crash, delays", async () => {
    await producer(
      "declare",
      JSON.stringify({
        name: "declared",
        driver: "amqp",
        priority: "5",
        prefetch: "10",
        queue: declared,
        queue_auto_delete: "false",
        exchange: declared,
        exchange_durable: "false",
        exchange_type: "direct",
        exchange_auto_delete: "false",
        routing_key: declared,
        exclusive: "false",
        multiple_ack: "false",
        requeue_on_fail: "false",
        durable: "false",
        consume_all: "false",
        queue_headers: "[]",
        delete_queue_on_stop: "false",
        redial_timeout: "60",
      }),
    );
    const stats = JSON.parse(await producer("stat")) as Array<Record<string, unknown>>;
    const stat = stats.find((s) => s.pipeline === "declared");
    assert.deepEqual(
      { driver: stat?.driver, queue: stat?.queue, ready: stat?.ready, priority: stat?.priority },
      { driver: "amqp", queue: declared, ready: false, priority: 5 },
    );
    await producer("resume", "declared");
    const pushedAt = Date.now() / 1000;
    await producer("push", "declared", "dc-crash", "J", "crash-once");
    await producer("push", "declared", "dc-requeue", "J", "requeue-once");
    await producer("push", "declared", "dc-delay", "J", "ack", "0", "1");
    const runs = (id: string) => consumed().filter((j) => j.id === id);
    await waitFor(
      () => runs("dc-crash").length >= 2 && runs("dc-requeue").length >= 2 && runs("dc-delay").length >= 1,
      15_000,
      25,
      "the declared pipeline's jobs",
    );
    const [first, second] = runs("dc-crash");
    assert.notEqual(first.pid, second.pid, "redelivered to a fresh worker after the crash");
    assert.deepEqual(runs("dc-requeue")[1].headers, { attempts: ["1"] });
    const delayed = runs("dc-delay")[0];
    assert.ok(delayed.t - pushedAt >= 0.9, `the delayed job ran ${(delayed.t - pushedAt).toFixed(2)} s after push`);
    assert.deepEqual({ driver: delayed.driver, queue: delayed.queue, pipeline: delayed.pipeline }, {
      driver: "amqp",
      queue: declared,
      pipeline: "declared",
    });
    assert.equal(await producer("destroy", "declared"), '["declared"]\n');
  });

  it("keeps every pushed job across a RabbitMQ restart while rr runs (durable queue)", async () => {
    // Slow jobs (5 ms each) so the restart lands while some are queued and some are in flight.
    await producer("push-batch", "durable", "r1-", "300", "sleep:5", "100");
    await waitFor(() => consumed().filter((j) => j.id.startsWith("r1-")).length >= 50, 15_000, 10, "50 jobs consumed");
    restartBrokerApp();
    // rr redials; pushes made now wait for it and are confirmed by the restarted broker.
    await producer("push-batch", "durable", "r2-", "300", "ack", "100");
    await waitFor(() => {
      const ids = new Set(consumedIds());
      for (let i = 0; i < 300; i++) if (!ids.has(`r1-${i}`) || !ids.has(`r2-${i}`)) return false;
      return true;
    }, 30_000, 50, "all 600 jobs consumed after the broker restart");
    await waitFor(async () => (await queueDepth(durable)) === 0, 5_000, 50, "the durable queue to drain");
  });
});

describe("jobs plugin (amqp) without an rpc section", () => {
  it("consumes messages published by other AMQP clients, foreign ones included", async () => {
    const foreign = `rr-test-foreign-${randomUUID().slice(0, 8)}`;
    const sub = makeTmpDir("rr-jobs-amqp-norpc-");
    const log = join(sub.path, "jobs.log");
    sub.write(
      ".rr.yaml",
      `version: "3"
server:
  command: "php ${CONSUMER}"
  env:
    JOBS_LOG: ${log}
logs:
  level: info
amqp:
  addr: ${AMQP_URL}
jobs:
  pool:
    num_workers: 1
  consume: [foreign]
  pipelines:
    foreign:
      driver: amqp
      config:
        queue: ${foreign}
        exchange: ${foreign}
        routing_key: ${foreign}
`,
    );
    const proc = startRR(["serve", "-c", join(sub.path, ".rr.yaml")], { cwd: sub.path });
    started.push(proc);
    try {
      await proc.waitForOutput(/serve started/i, 20_000);
      const conn = await amqplib.connect(AMQP_URL);
      try {
        const ch = await conn.createConfirmChannel();
        // A plain message, as any AMQP client sends it.
        ch.publish(foreign, foreign, Buffer.from("ack"));
        // One with RoadRunner's headers, as another RoadRunner (or rr) publishes it.
        ch.publish(foreign, foreign, Buffer.from("ack"), {
          headers: { rr_id: "from-rr", rr_job: "App\\Job", rr_pipeline: "foreign", rr_headers: '{"k":["v"]}' },
        });
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }
      const lines = () =>
        existsSync(log)
          ? readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as LoggedJob & { job: string })
          : [];
      await waitFor(() => lines().length >= 2, 10_000, 25, "both messages consumed");
      const [plain, rrStyle] = [lines().find((j) => j.id !== "from-rr")!, lines().find((j) => j.id === "from-rr")!];
      assert.equal(plain.job, "deduced_by_rr");
      assert.match(plain.id, /^[0-9a-f-]{36}$/, "a foreign message gets a generated UUID");
      assert.equal(rrStyle.job, "App\\Job");
      assert.deepEqual(rrStyle.headers, { k: ["v"] });
    } finally {
      await stopServer(proc);
      await deleteQueues([foreign], [foreign]);
      sub.remove();
    }
  });
});
