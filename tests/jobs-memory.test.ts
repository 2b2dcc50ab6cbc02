// The memory driver and the shared priority queue, without workers: priorities, delays,
// prefetch, pause/resume, destroy, requeue/redeliver, and the worker reply protocol.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { JobQueue } from "../src/plugins/jobs/queue.ts";
import { Pipeline } from "../src/plugins/jobs/pipeline.ts";
import { MemoryDriver } from "../src/plugins/jobs/drivers/memory.ts";
import { applyReply } from "../src/plugins/jobs/protocol.ts";
import type { DriverContext, JobMessage, QueuedJob } from "../src/plugins/jobs/types.ts";
import type { Logger } from "../src/logs/types.ts";
import type { RRConfig } from "../src/config/schema.ts";

function collectingLogger(lines: string[] = []): Logger {
  const log = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    raw: (text: string) => void lines.push(text),
    child: () => logger,
  };
  return logger;
}

function setup(options: Record<string, unknown> = {}, name = "p") {
  const queue = new JobQueue(1_000_000);
  const ctx: DriverContext = { queue, logger: collectingLogger(), config: {} as RRConfig, timeoutMs: 1000 };
  const driver = new MemoryDriver(new Pipeline(name, { driver: "memory", ...options }), ctx);
  return { queue, driver };
}

function msg(id: string, extra: Partial<JobMessage> = {}): JobMessage {
  return {
    id,
    job: "task",
    payload: new TextEncoder().encode(`payload-${id}`),
    headers: {},
    pipeline: "p",
    priority: 10,
    delaySec: 0,
    autoAck: false,
    ...extra,
  };
}

function drain(queue: JobQueue): QueuedJob[] {
  const out: QueuedJob[] = [];
  for (let job = queue.take(); job; job = queue.take()) out.push(job);
  return out;
}

const context = (job: QueuedJob) => JSON.parse(new TextDecoder().decode(job.context()));

describe("jobs: memory driver", () => {
  it("serves lower priority values first, FIFO among equals", async () => {
    const { queue, driver } = setup();
    const pushes: Array<[string, number]> = [["a", 5], ["b", 1], ["c", 5], ["d", 3], ["e", 1]];
    for (const [id, priority] of pushes) await driver.push(msg(id, { priority }));
    await driver.run();
    assert.deepEqual(drain(queue).map((j) => j.id), ["b", "e", "d", "a", "c"]);
  });

  it("buffers pushes while not consuming, reports them in state, and pause/resume toggle consumption", async () => {
    const { queue, driver } = setup({ priority: 7 });
    await driver.push(msg("1"));
    await driver.push(msg("2"));
    assert.equal(queue.size, 0);
    let state = await driver.state();
    assert.deepEqual(
      { ready: state.ready, active: state.active, priority: state.priority, driver: state.driver, queue: state.queue },
      { ready: false, active: 2, priority: 7, driver: "memory", queue: "p" },
    );
    await assert.rejects(driver.pause(), /no active listeners/);
    await driver.resume();
    await assert.rejects(driver.resume(), /already in the active state/);
    assert.equal(queue.size, 2);
    await driver.pause();
    await driver.push(msg("3"));
    assert.equal(queue.size, 2, "a paused pipeline keeps new jobs in its buffer");
    state = await driver.state();
    assert.equal(state.ready, false);
    assert.equal(state.active, 3);
    assert.equal(state.reserved, 2);
  });

  it("moves at most `prefetch` jobs into the queue until they are acknowledged", async () => {
    const { queue, driver } = setup({ config: { prefetch: "2" } });
    for (let i = 0; i < 5; i++) await driver.push(msg(String(i)));
    await driver.run();
    const first = drain(queue);
    assert.deepEqual(first.map((j) => j.id), ["0", "1"]);
    await first[0].ack();
    await first[0].ack(); // a second settle is a no-op
    assert.deepEqual(drain(queue).map((j) => j.id), ["2"]);
  });

  it("waits while the shared queue is full (jobs.pipeline_size) and goes on as it drains", async () => {
    const queue = new JobQueue(2);
    const ctx: DriverContext = { queue, logger: collectingLogger(), config: {} as RRConfig, timeoutMs: 1000 };
    const driver = new MemoryDriver(new Pipeline("p", { driver: "memory" }), ctx);
    for (let i = 0; i < 5; i++) await driver.push(msg(String(i)));
    await driver.run();
    assert.equal(queue.size, 2);
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const job = queue.take();
      assert.ok(job, `job ${i} is in the queue`);
      seen.push(job.id);
      await job.ack();
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.ok(queue.size <= 2);
    }
    assert.deepEqual(seen, ["0", "1", "2", "3", "4"]);
  });

  it("holds delayed jobs back for their delay", async () => {
    const { queue, driver } = setup();
    await driver.run();
    const started = Date.now();
    await driver.push(msg("late", { delaySec: 1 }));
    await driver.push(msg("now"));
    assert.deepEqual(drain(queue).map((j) => j.id), ["now"]);
    assert.equal((await driver.state()).delayed, 1);
    const job = await queue.pop();
    assert.equal(job?.id, "late");
    assert.ok(Date.now() - started >= 950, `delivered after ${Date.now() - started} ms`);
    assert.equal((await driver.state()).delayed, 0);
  });

  it("redelivers a job whose worker gave no verdict (at-least-once), and drops a nacked one", async () => {
    const { queue, driver } = setup();
    await driver.run();
    await driver.push(msg("x"));
    const first = drain(queue);
    await first[0].redeliver();
    const again = drain(queue);
    assert.deepEqual(again.map((j) => j.id), ["x"]);
    await again[0].nack();
    assert.equal(queue.size, 0);
    assert.equal((await driver.state()).active, 0);
  });

  it("destroy drops the pipeline's queued and delayed jobs but not other pipelines' jobs", async () => {
    const queue = new JobQueue(100);
    const ctx: DriverContext = { queue, logger: collectingLogger(), config: {} as RRConfig, timeoutMs: 1000 };
    const a = new MemoryDriver(new Pipeline("a", { driver: "memory" }), ctx);
    const b = new MemoryDriver(new Pipeline("b", { driver: "memory" }), ctx);
    await a.run();
    await b.run();
    await a.push(msg("a1", { pipeline: "a" }));
    await a.push(msg("a2", { pipeline: "a", delaySec: 5 }));
    await b.push(msg("b1", { pipeline: "b" }));
    await a.stop();
    assert.deepEqual(drain(queue).map((j) => j.id), ["b1"]);
    await assert.rejects(a.push(msg("a3")), /stopped/);
  });

  it("builds the worker context JSON RoadRunner sends for memory jobs", async () => {
    const { queue, driver } = setup({}, "emails");
    await driver.run();
    await driver.push(msg("id-1", { job: "App\\SendMail", headers: { attempt: ["1"] }, pipeline: "emails" }));
    const [job] = drain(queue);
    assert.deepEqual(context(job), {
      id: "id-1",
      job: "App\\SendMail",
      driver: "memory",
      headers: { attempt: ["1"] },
      pipeline: "emails",
      queue: "emails",
    });
    assert.equal(new TextDecoder().decode(job.body()), "payload-id-1");
  });
});

describe("jobs: worker reply protocol", () => {
  const enc = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  async function replyTo(body: Uint8Array, lines: string[] = []) {
    const { queue, driver } = setup();
    await driver.run();
    await driver.push(msg("j", { headers: { a: ["1"] } }));
    const [job] = drain(queue);
    await applyReply(job, body, collectingLogger(lines));
    return { queue, driver, lines };
  }

  for (const type of [0, 2]) {
    it(`type ${type} acknowledges`, async () => {
      const { queue, driver } = await replyTo(enc({ type, data: [] }));
      assert.equal(queue.size, 0);
      assert.equal((await driver.state()).active, 0);
    });
  }

  it("type 1 without requeue acknowledges and logs the failure; with requeue it runs again", async () => {
    const failed = await replyTo(enc({ type: 1, data: { message: "boom", requeue: false, delay_seconds: 0 } }));
    assert.equal(failed.queue.size, 0);
    assert.ok(failed.lines.some((l) => l.startsWith("error: Job failed")));
    const retried = await replyTo(enc({ type: 1, data: { message: "boom", requeue: true, delay_seconds: 0, headers: { b: ["2"] } } }));
    const [again] = drain(retried.queue);
    assert.deepEqual(context(again).headers, { a: ["1"], b: ["2"] });
  });

  it("type 3 nack: requeue=false drops, requeue=true with a delay runs again later", async () => {
    const dropped = await replyTo(enc({ type: 3, data: { message: "no", requeue: false, delay_seconds: 0 } }));
    assert.equal(dropped.queue.size, 0);
    const delayed = await replyTo(enc({ type: 3, data: { message: "later", requeue: true, delay_seconds: 1 } }));
    assert.equal(delayed.queue.size, 0);
    assert.equal((await delayed.driver.state()).delayed, 1);
    await delayed.driver.stop();
  });

  it("type 4 requeues with merged headers", async () => {
    const { queue } = await replyTo(enc({ type: 4, data: { message: "again", delay_seconds: 0, headers: { a: ["9"] } } }));
    const [again] = drain(queue);
    assert.equal(again.id, "j");
    assert.deepEqual(context(again).headers, { a: ["9"] });
  });

  it("an empty or unreadable reply acknowledges (no loops)", async () => {
    assert.equal((await replyTo(new Uint8Array(0))).queue.size, 0);
    const bad = await replyTo(new TextEncoder().encode("not json"));
    assert.equal(bad.queue.size, 0);
    assert.ok(bad.lines.some((l) => l.includes("not JSON")));
  });
});
