// 10,000 jobs through RabbitMQ with rr stopped and restarted midway: every job id is consumed
// at least once and none is lost (the jobs plugin, the amqp driver and our PHP fixtures, for real).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { freePort, makeTmpDir, ROOT, type RunningProcess, startRR, type TmpDir, waitFor } from "./helpers/index.ts";
import { AMQP_URL, type Broker, deleteQueues, ensureRabbit, queueDepth } from "./jobs-rabbitmq.ts";

const PRODUCER = join(ROOT, "tests/fixtures/php/jobs/producer.php");
const CONSUMER = join(ROOT, "tests/fixtures/php/jobs/consumer.php");
const TOTAL = 10_000;

let broker: Broker;
let dir: TmpDir;
let rr: RunningProcess | undefined;
let rpcAddress: string;
let logFile: string;
const queue = `rr-test-restart-${randomUUID().slice(0, 8)}`;

function producer(...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("php", [PRODUCER, ...args], { env: { ...process.env, RR_RPC: rpcAddress } }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`producer ${args.join(" ")} failed: ${stderr}`));
      else resolve();
    });
  });
}

/** Ids the consumer logged (one JSON line per delivery). */
function consumedIds(): string[] {
  if (!existsSync(logFile)) return [];
  const ids: string[] = [];
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    if (line) ids.push((JSON.parse(line) as { id: string }).id);
  }
  return ids;
}

async function startServer(): Promise<RunningProcess> {
  const proc = startRR(["serve", "-c", join(dir.path, ".rr.yaml")], { cwd: dir.path });
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
logs:
  level: info
amqp:
  addr: ${AMQP_URL}
jobs:
  pool:
    num_workers: 2
  consume: [bulk]
  pipelines:
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
  if (rr?.running) await stopServer(rr);
  await deleteQueues([queue], [queue]);
  dir?.remove();
  await broker?.release();
});

describe("jobs plugin (amqp) end to end", () => {
  it("consumes every one of 10,000 jobs at least once across an rr restart", async () => {
    rr = await startServer();
    const half = TOTAL / 2;
    // Queue the first half in the broker, then stop rr while it is still working through it.
    await producer("pause", "bulk");
    await producer("push-batch", "bulk", "a-", String(half), "ack", "500");
    await producer("resume", "bulk");
    await waitFor(() => consumedIds().length >= 1000, 20_000, 10, "1000 jobs consumed");
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
});
