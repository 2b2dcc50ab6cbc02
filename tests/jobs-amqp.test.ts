// The amqp driver against a real RabbitMQ, without workers: publish with confirms, consume,
// ack, requeue, redeliver, delays, pause/resume, and redialing after a broker restart.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { JobQueue } from "../src/plugins/jobs/queue.ts";
import { Pipeline } from "../src/plugins/jobs/pipeline.ts";
import { AmqpDriver } from "../src/plugins/jobs/drivers/amqp.ts";
import type { DriverContext, JobMessage, QueuedJob } from "../src/plugins/jobs/types.ts";
import type { Logger } from "../src/logs/types.ts";
import type { RRConfig } from "../src/config/schema.ts";
import { AMQP_URL, type Broker, deleteQueues, ensureRabbit, queueDepth, restartBrokerApp } from "./jobs-rabbitmq.ts";

const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  raw: () => {},
  child: () => quiet,
};

const run = randomUUID().slice(0, 8);
const queues: string[] = [];
const exchanges: string[] = [];
const drivers: AmqpDriver[] = [];

function makeDriver(options: Record<string, unknown> = {}) {
  const name = `t${queues.length}`;
  const queue = `rr-test-${run}-${name}`;
  const exchange = `rr-test-${run}-${name}`;
  queues.push(queue);
  exchanges.push(exchange);
  const jobQueue = new JobQueue(1000);
  const ctx: DriverContext = {
    queue: jobQueue,
    logger: quiet,
    config: { amqp: { addr: AMQP_URL } } as unknown as RRConfig,
    timeoutMs: 10_000,
  };
  const driver = new AmqpDriver(
    new Pipeline(name, { driver: "amqp", queue, exchange, routing_key: queue, prefetch: 50, ...options }),
    ctx,
  );
  drivers.push(driver);
  return { driver, jobQueue, queue, name };
}

function msg(id: string, pipeline: string, extra: Partial<JobMessage> = {}): JobMessage {
  return {
    id,
    job: "task",
    payload: new TextEncoder().encode(`body-${id}`),
    headers: {},
    pipeline,
    priority: 10,
    delaySec: 0,
    autoAck: false,
    ...extra,
  };
}

/** Take the next job within `ms` (polling, so no waiter is left behind in the queue). */
async function popWithin(queue: JobQueue, ms: number): Promise<QueuedJob | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const job = queue.take();
    if (job || Date.now() > deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const ctxOf = (job: QueuedJob) => JSON.parse(new TextDecoder().decode(job.context()));

let broker: Broker;
before(async () => {
  broker = await ensureRabbit();
});
after(async () => {
  for (const d of drivers) await d.stop().catch(() => undefined);
  await deleteQueues(queues, exchanges);
  await broker.release();
});

describe("jobs: amqp driver", () => {
  it("publishes with confirms and delivers the job with RoadRunner's context and headers", async () => {
    const { driver, jobQueue, queue, name } = makeDriver();
    await driver.push(msg("a", name, { headers: { tenant: ["acme"] }, job: "App\\Mail" }));
    assert.equal(await queueDepth(queue), 1, "the message is in the broker once push resolved");
    const state = await driver.state();
    assert.equal(state.ready, false);
    assert.equal(state.active, 1);
    await driver.run();
    const job = await popWithin(jobQueue, 5000);
    assert.ok(job);
    assert.deepEqual(ctxOf(job), {
      id: "a",
      job: "App\\Mail",
      driver: "amqp",
      queue,
      headers: { tenant: ["acme"] },
      pipeline: name,
    });
    assert.equal(new TextDecoder().decode(job.body()), "body-a");
    assert.equal((await driver.state()).reserved, 1);
    await job.ack();
    assert.equal((await driver.state()).reserved, 0);
  });

  it("requeue publishes a copy with merged headers; redeliver hands the message back to the broker", async () => {
    const { driver, jobQueue, name } = makeDriver();
    await driver.run();
    await driver.push(msg("r", name, { headers: { a: ["1"] } }));
    const first = await popWithin(jobQueue, 5000);
    assert.ok(first);
    await first.requeue({ attempt: ["2"] }, 0);
    const second = await popWithin(jobQueue, 5000);
    assert.ok(second);
    assert.equal(second.id, "r");
    assert.deepEqual(ctxOf(second).headers, { a: ["1"], attempt: ["2"] });
    await second.redeliver();
    const third = await popWithin(jobQueue, 5000);
    assert.ok(third);
    assert.equal(third.id, "r");
    await third.ack();
    assert.equal(await popWithin(jobQueue, 300), undefined);
  });

  it("holds a delayed job back (dead-letter queue with a TTL) and counts it as delayed", async () => {
    const { driver, jobQueue, name } = makeDriver();
    await driver.run();
    const started = Date.now();
    await driver.push(msg("d", name, { delaySec: 1 }));
    assert.equal((await driver.state()).delayed, 1);
    const job = await popWithin(jobQueue, 5000);
    assert.ok(job, "the delayed job arrives");
    assert.ok(Date.now() - started >= 900, `arrived after ${Date.now() - started} ms`);
    assert.equal((await driver.state()).delayed, 0);
    await job.ack();
  });

  it("pause stops deliveries and resume restarts them", async () => {
    const { driver, jobQueue, name } = makeDriver();
    await driver.run();
    await driver.pause();
    await assert.rejects(driver.pause(), /nothing to pause/);
    await driver.push(msg("p", name));
    assert.equal(await popWithin(jobQueue, 300), undefined);
    await driver.resume();
    const job = await popWithin(jobQueue, 5000);
    assert.equal(job?.id, "p");
    await job?.ack();
  });

  it("consumes from an exclusive queue (declared on the consuming connection)", async () => {
    const { driver, jobQueue, name } = makeDriver({ exclusive: true });
    await driver.run();
    await driver.push(msg("x1", name));
    const job = await popWithin(jobQueue, 5000);
    assert.equal(job?.id, "x1");
    await job?.ack();
  });

  it("nack (a worker's ERROR frame) requeues only with requeue_on_fail", async () => {
    const dropping = makeDriver();
    await dropping.driver.run();
    await dropping.driver.push(msg("n1", dropping.name));
    await (await popWithin(dropping.jobQueue, 5000))?.nack();
    assert.equal(await popWithin(dropping.jobQueue, 300), undefined, "dropped without requeue_on_fail");
    const requeueing = makeDriver({ requeue_on_fail: "true" });
    await requeueing.driver.run();
    await requeueing.driver.push(msg("n2", requeueing.name));
    await (await popWithin(requeueing.jobQueue, 5000))?.nack();
    const again = await popWithin(requeueing.jobQueue, 5000);
    assert.equal(again?.id, "n2", "requeued with requeue_on_fail");
    await again?.ack();
  });

  it("fanout exchanges need no routing key; a job's x-routing-key header overrides the pipeline's", async () => {
    const fanout = makeDriver({ exchange_type: "fanout", routing_key: "" });
    await fanout.driver.run();
    await fanout.driver.push(msg("f1", fanout.name));
    assert.equal((await popWithin(fanout.jobQueue, 5000))?.id, "f1");
    const direct = makeDriver({ routing_key: "nowhere" });
    await direct.driver.run();
    // The queue is bound with "nowhere". r1's x-routing-key (the queue's name) matches no binding,
    // so the broker drops r1: proof that the header, not the pipeline's key, was used.
    await direct.driver.push(msg("r1", direct.name, { headers: { "x-routing-key": [direct.queue] } }));
    await direct.driver.push(msg("r2", direct.name));
    const got = await popWithin(direct.jobQueue, 5000);
    assert.equal(got?.id, "r2");
    assert.equal(await popWithin(direct.jobQueue, 300), undefined);
  });

  it("survives a broker restart: confirmed jobs are kept and consumption resumes", async () => {
    const { driver, jobQueue, name } = makeDriver({ durable: true, exchange_durable: true, redial_timeout: 30 });
    await driver.run();
    await driver.pause();
    const ids = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const id of ids.slice(0, 20)) await driver.push(msg(id, name));
    restartBrokerApp();
    // Pushes wait for the redial, then succeed.
    for (const id of ids.slice(20)) await driver.push(msg(id, name));
    await driver.resume();
    const seen = new Set<string>();
    while (seen.size < ids.length) {
      const job = await popWithin(jobQueue, 10_000);
      assert.ok(job, `only ${seen.size} of ${ids.length} jobs arrived`);
      seen.add(job.id);
      await job.ack();
    }
    assert.deepEqual([...seen].sort(), [...ids].sort());
  });
});
