// The AMQP 0-9-1 driver (RabbitMQ), over amqplib. Jobs travel as AMQP messages with
// RoadRunner's rr_* headers, so rr and RoadRunner can share queues. Pushes resolve only
// after the broker confirmed them (publisher confirms); consumed messages are acked after
// the worker's reply. After a connection loss the driver redials and resumes; unacked
// messages go back to the broker's queue, so nothing acknowledged-as-published is lost.
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import * as amqp from "amqplib";
import { ConfigError, RRError } from "../../../errors.ts";
import type { AmqpConfig } from "../../../config/sections/amqp.ts";
import type { Pipeline } from "../pipeline.ts";
import type {
  Driver,
  DriverContext,
  JobHeaders,
  JobMessage,
  PipelineState,
  QueuedJob,
} from "../types.ts";
import { mergeHeaders } from "../types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EXCHANGE_TYPES = new Set(["direct", "fanout", "topic", "headers"]);

/** Pipeline options with RoadRunner's defaults (amqp@v5.2.3:amqpjobs/config.go). */
interface AmqpPipelineOptions {
  prefetch: number;
  priority: number;
  queue: string;
  exchange: string;
  exchangeType: string;
  routingKey: string;
  exclusive: boolean;
  durable: boolean;
  deleteQueueOnStop: boolean;
  multipleAck: boolean;
  requeueOnFail: boolean;
  redialTimeoutMs: number;
  exchangeDurable: boolean;
  exchangeAutoDelete: boolean;
  queueAutoDelete: boolean;
  queueHeaders: Record<string, unknown>;
  consumerId: string;
}

function readOptions(p: Pipeline): AmqpPipelineOptions {
  const o: AmqpPipelineOptions = {
    prefetch: p.int("prefetch", 10),
    priority: p.priority(),
    queue: p.string("queue", ""),
    exchange: p.string("exchange", "amqp.default"),
    exchangeType: p.string("exchange_type", "direct"),
    routingKey: p.string("routing_key", ""),
    exclusive: p.bool("exclusive", false),
    durable: p.bool("durable", false),
    deleteQueueOnStop: p.bool("delete_queue_on_stop", false),
    multipleAck: p.bool("multiple_ack", false),
    requeueOnFail: p.bool("requeue_on_fail", false),
    redialTimeoutMs: p.int("redial_timeout", 60) * 1000,
    exchangeDurable: p.bool("exchange_durable", false),
    exchangeAutoDelete: p.bool("exchange_auto_delete", false),
    queueAutoDelete: p.bool("queue_auto_delete", false),
    queueHeaders: p.map("queue_headers"),
    consumerId: p.string("consumer_id", `roadrunner-${randomUUID()}`),
  };
  if (!EXCHANGE_TYPES.has(o.exchangeType)) {
    throw new ConfigError(
      `Invalid jobs pipeline "${p.name}": exchange_type must be direct, fanout, topic or headers, got "${o.exchangeType}"`,
    );
  }
  if (o.prefetch <= 0) throw new ConfigError(`Invalid jobs pipeline "${p.name}": prefetch must be greater than 0`);
  return o;
}

class AmqpJob implements QueuedJob {
  private ctx: Uint8Array | undefined;
  private settled = false;

  constructor(
    readonly owner: AmqpDriver,
    /** Which connection delivered the message; acks on a newer one are meaningless. */
    readonly generation: number,
    private readonly channel: amqp.Channel,
    readonly message: amqp.ConsumeMessage,
    readonly id: string,
    readonly job: string,
    readonly headers: JobHeaders,
    readonly pipeline: string,
    readonly priority: number,
    readonly autoAck: boolean,
  ) {}

  context(): Uint8Array {
    return this.ctx ??= encoder.encode(JSON.stringify({
      id: this.id,
      job: this.job,
      driver: "amqp",
      queue: this.owner.queueName,
      headers: this.headers,
      pipeline: this.pipeline,
    }));
  }

  body(): Uint8Array {
    return this.message.content;
  }

  ack(): Promise<void> {
    if (this.settle()) this.owner.settle(this, () => this.channel.ack(this.message, this.owner.options.multipleAck));
    return Promise.resolve();
  }

  nack(): Promise<void> {
    if (this.settle()) {
      const requeue = this.owner.options.requeueOnFail;
      this.owner.settle(this, () => this.channel.nack(this.message, false, requeue));
    }
    return Promise.resolve();
  }

  async nackWithOptions(requeue: boolean, delaySec: number): Promise<void> {
    if (requeue && delaySec > 0) return await this.requeue(undefined, delaySec);
    if (!this.settle()) return;
    this.owner.settle(this, () => this.channel.nack(this.message, false, requeue));
  }

  /** Publish a copy (merged headers, new delay), then ack the original; nack-requeue it if the publish fails. */
  async requeue(headers: JobHeaders | undefined, delaySec: number): Promise<void> {
    if (!this.settle()) return;
    const merged = mergeHeaders(this.headers, headers);
    try {
      await this.owner.push({
        id: this.id,
        job: this.job,
        payload: this.message.content,
        headers: merged,
        pipeline: this.pipeline,
        priority: this.priority,
        delaySec,
        autoAck: this.autoAck,
      });
      this.owner.settle(this, () => this.channel.ack(this.message, false));
    } catch (err) {
      this.owner.settle(this, () => this.channel.nack(this.message, false, true));
      throw err;
    }
  }

  /** No verdict (crash, exec_ttl, shutdown): hand the message back to the broker. */
  redeliver(): Promise<void> {
    if (this.settle()) this.owner.settle(this, () => this.channel.nack(this.message, false, true));
    return Promise.resolve();
  }

  private settle(): boolean {
    if (this.settled || this.autoAck) {
      // With auto_ack the broker already forgot the message: only the first settle counts locally.
      if (!this.settled) {
        this.settled = true;
        this.owner.settle(this, undefined);
      }
      return false;
    }
    this.settled = true;
    return true;
  }
}

export class AmqpDriver implements Driver {
  readonly options: AmqpPipelineOptions;
  private readonly url: string;
  private readonly socketOptions: Record<string, unknown>;
  /** Consuming connection (deliveries, acks, state). */
  private conn: amqp.ChannelModel | undefined;
  /** Publishing connection: RabbitMQ throttles a connection that publishes fast, so acks travel on another. */
  private pubConn: amqp.ChannelModel | undefined;
  /** The generation whose connection loss is already being handled. */
  private lostGeneration = 0;
  private startingConsumer: Promise<void> | undefined;
  private publishCh: amqp.ConfirmChannel | undefined;
  private consumeCh: amqp.Channel | undefined;
  private generation = 0;
  private consumerTag: string | undefined;
  /** Whether the pipeline should consume (survives reconnects). */
  private consuming = false;
  private stopped = false;
  private connecting: Promise<void> | undefined;
  private readonly inFlight = new Set<AmqpJob>();
  private delayed = 0;
  private lastError = "";
  private readonly declaredDelayQueues = new Set<string>();

  constructor(readonly pipeline: Pipeline, private readonly ctx: DriverContext) {
    this.options = readOptions(pipeline);
    const global = (ctx.config as unknown as { amqp?: AmqpConfig }).amqp;
    if (!global) {
      throw new ConfigError(
        `Cannot start jobs pipeline "${pipeline.name}": no global amqp configuration; add\n` +
          `  amqp:\n    addr: "amqp://guest:guest@127.0.0.1:5672/"`,
      );
    }
    this.url = global.addr;
    this.socketOptions = tlsOptions(global);
    // Connect and declare the exchange and queue now, as RoadRunner does at pipeline init, so a
    // pipeline that only pushes (or is paused) shows its real state; failures are retried and logged.
    void this.ensureConnected().catch((err) =>
      this.stopped ? undefined : this.ctx.logger.error(errorText(err), { pipeline: this.pipeline.name })
    );
  }

  get queueName(): string {
    return this.options.queue;
  }

  async push(msg: JobMessage): Promise<void> {
    if (this.stopped) throw new RRError(`Cannot push to pipeline "${this.pipeline.name}": it is stopped`);
    const o = this.options;
    // A job header x-routing-key overrides the pipeline's routing key, as in RoadRunner. An empty
    // key is fine: the queue is bound with the same (empty) key.
    const routingKey = msg.headers["x-routing-key"]?.[0] ?? o.routingKey;
    const headers: Record<string, unknown> = {
      rr_id: msg.id,
      rr_job: msg.job,
      rr_pipeline: msg.pipeline,
      rr_headers: JSON.stringify(msg.headers),
      rr_delay: msg.delaySec,
      rr_priority: msg.priority,
      rr_auto_ack: msg.autoAck,
    };
    const content = Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength);
    const options: amqp.Options.Publish = {
      headers,
      persistent: true,
      contentType: "application/octet-stream",
      messageId: msg.id,
      priority: clampPriority(msg.priority),
    };
    // A publish cut by a connection loss is retried after the redial (at-least-once).
    for (let attempt = 0;; attempt++) {
      const ch = await this.publisher();
      try {
        if (msg.delaySec > 0) {
          const delayQueue = await this.declareDelayQueue(ch, msg.delaySec * 1000, routingKey);
          await confirmPublish(ch, "", delayQueue, content, options);
          this.delayed++;
        } else {
          await confirmPublish(ch, o.exchange, routingKey, content, options);
        }
        return;
      } catch (err) {
        if (this.stopped || attempt >= 20 || !isConnectionError(err, ch, this.publishCh)) throw wrap(this.pipeline.name, err);
        await sleep(Math.min(100 * 2 ** attempt, 2000));
      }
    }
  }

  async run(): Promise<void> {
    if (!this.options.queue) {
      throw new ConfigError(`Cannot consume jobs pipeline "${this.pipeline.name}": the amqp pipeline needs a queue`);
    }
    this.consuming = true;
    await this.ensureConnected();
    await this.startConsumer();
  }

  async pause(): Promise<void> {
    if (!this.consuming) {
      throw new RRError(`Cannot pause pipeline "${this.pipeline.name}": no active listeners, nothing to pause`);
    }
    this.consuming = false;
    const tag = this.consumerTag;
    this.consumerTag = undefined;
    if (tag && this.consumeCh) await this.consumeCh.cancel(tag).catch(() => undefined);
  }

  async resume(): Promise<void> {
    if (this.consuming) {
      throw new RRError(`Cannot resume pipeline "${this.pipeline.name}": the listener is already in the active state`);
    }
    await this.run();
  }

  async state(): Promise<PipelineState> {
    const o = this.options;
    const state: PipelineState = {
      pipeline: this.pipeline.name,
      driver: "amqp",
      queue: o.queue,
      active: 0,
      delayed: this.delayed,
      reserved: this.inFlight.size,
      ready: this.consuming && this.consumerTag !== undefined,
      priority: o.priority,
    };
    if (o.queue && this.conn) {
      // A throwaway channel: checkQueue on a missing queue closes its channel.
      let ch: amqp.Channel | undefined;
      try {
        ch = await this.conn.createChannel();
        ch.on("error", () => undefined);
        const q = await ch.checkQueue(o.queue);
        state.active = q.messageCount + this.inFlight.size;
      } catch (err) {
        state.errorMessage = errorText(err);
      } finally {
        await ch?.close().catch(() => undefined);
      }
    } else if (!this.conn) {
      state.errorMessage = this.lastError || "not connected";
    }
    return state;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.consuming = false;
    // Jobs still waiting in the shared queue go back to the broker untouched.
    for (const job of this.ctx.queue.removeWhere((j) => j.owner === this)) await job.redeliver();
    const conn = this.conn;
    const pubConn = this.pubConn;
    if (!conn) return;
    try {
      if (this.consumerTag && this.consumeCh) await this.consumeCh.cancel(this.consumerTag).catch(() => undefined);
      if (this.options.deleteQueueOnStop && this.options.queue && this.consumeCh) {
        await this.consumeCh.deleteQueue(this.options.queue).catch(() => undefined);
      }
      await this.publishCh?.waitForConfirms().catch(() => undefined);
    } finally {
      this.conn = undefined;
      this.pubConn = undefined;
      await Promise.all([conn.close().catch(() => undefined), pubConn?.close().catch(() => undefined)]);
    }
  }

  /** Called by a job once settled: run the broker call if its channel is still the live one. */
  settle(job: AmqpJob, brokerCall: (() => void) | undefined): void {
    this.inFlight.delete(job);
    if (!brokerCall || job.generation !== this.generation || !this.consumeCh) return;
    try {
      brokerCall();
    } catch (err) {
      // The channel died: the broker will redeliver the message anyway.
      this.ctx.logger.debug("Cannot settle an amqp job; the broker will redeliver it", { id: job.id, error: errorText(err) });
    }
  }

  private async publisher(): Promise<amqp.ConfirmChannel> {
    await this.ensureConnected();
    return this.publishCh!;
  }

  private ensureConnected(): Promise<void> {
    if (this.conn && this.publishCh && this.consumeCh) return Promise.resolve();
    return this.connecting ??= this.dial().finally(() => (this.connecting = undefined));
  }

  /** Connect, retrying until redial_timeout; each success rebuilds the channels and topology. */
  private async dial(): Promise<void> {
    const started = Date.now();
    for (let attempt = 0;; attempt++) {
      if (this.stopped) throw new RRError(`Cannot connect pipeline "${this.pipeline.name}": it is stopped`);
      try {
        await this.connectOnce();
        if (attempt > 0) this.ctx.logger.info("Reconnected to AMQP", { pipeline: this.pipeline.name });
        return;
      } catch (err) {
        this.lastError = errorText(err);
        if (isTopologyError(err)) {
          // The broker answered but refused our exchange/queue declaration: retrying cannot help.
          throw new RRError(
            `Cannot set up amqp pipeline "${this.pipeline.name}": ${this.lastError}; ` +
              "the exchange or queue already exists with other options: delete it or match its options",
          );
        }
        if (Date.now() - started >= this.options.redialTimeoutMs) {
          throw new RRError(
            `Cannot connect pipeline "${this.pipeline.name}" to AMQP at ${redact(this.url)}: ${this.lastError} ` +
              `(gave up after redial_timeout ${this.options.redialTimeoutMs / 1000}s); is RabbitMQ running?`,
          );
        }
        if (attempt === 0 || attempt % 20 === 0) {
          this.ctx.logger.warn("Cannot connect to AMQP, retrying", { pipeline: this.pipeline.name, error: this.lastError });
        }
        await sleep(Math.min(100 * 2 ** attempt, 1000));
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const generation = ++this.generation;
    const conn = await amqp.connect(this.url, this.socketOptions);
    conn.on("error", (err: Error) => (this.lastError = errorText(err)));
    conn.on("close", () => this.onConnectionLost(generation));
    let pubConn: amqp.ChannelModel | undefined;
    try {
      pubConn = await amqp.connect(this.url, this.socketOptions);
      pubConn.on("error", (err: Error) => (this.lastError = errorText(err)));
      pubConn.on("close", () => this.onConnectionLost(generation));
      const publishCh = await pubConn.createConfirmChannel();
      publishCh.on("error", (err: Error) => (this.lastError = errorText(err)));
      publishCh.on("close", () => this.onChannelClosed(generation));
      const consumeCh = await conn.createChannel();
      consumeCh.on("error", (err: Error) => (this.lastError = errorText(err)));
      consumeCh.on("close", () => this.onChannelClosed(generation));
      const o = this.options;
      await publishCh.assertExchange(o.exchange, o.exchangeType, {
        durable: o.exchangeDurable,
        autoDelete: o.exchangeAutoDelete,
      });
      if (o.queue) {
        // Declared on the consuming connection: an exclusive queue belongs to the connection that declares it.
        await consumeCh.assertQueue(o.queue, {
          durable: o.durable,
          exclusive: o.exclusive,
          autoDelete: o.queueAutoDelete,
          arguments: o.queueHeaders,
        });
        await consumeCh.bindQueue(o.queue, o.exchange, o.routingKey);
      }
      await consumeCh.prefetch(o.prefetch);
      this.conn = conn;
      this.pubConn = pubConn;
      this.publishCh = publishCh;
      this.consumeCh = consumeCh;
      this.declaredDelayQueues.clear();
    } catch (err) {
      this.lostGeneration = generation; // a half-built connection is not "lost": dial() retries
      await Promise.all([conn.close().catch(() => undefined), pubConn?.close().catch(() => undefined)]);
      throw err;
    }
  }

  /**
   * The broker closed one of our channels (e.g. a publish to an exchange that was deleted):
   * start over with a fresh connection, so every channel and declaration is rebuilt.
   */
  private onChannelClosed(generation: number): void {
    if (generation !== this.generation || this.stopped || !this.conn) return;
    this.ctx.logger.warn("The broker closed an AMQP channel; reconnecting", {
      pipeline: this.pipeline.name,
      error: this.lastError,
    });
    void this.conn.close().catch(() => undefined);
  }

  private onConnectionLost(generation: number): void {
    if (generation !== this.generation || generation === this.lostGeneration) return;
    this.lostGeneration = generation;
    // Both connections go together: close the survivor so nothing of this generation lingers.
    void this.conn?.close().catch(() => undefined);
    void this.pubConn?.close().catch(() => undefined);
    this.conn = undefined;
    this.pubConn = undefined;
    this.publishCh = undefined;
    this.consumeCh = undefined;
    this.consumerTag = undefined;
    // Deliveries of the dead connection are back in the broker's queue: drop our copies.
    const dropped = this.ctx.queue.removeWhere((j) => j.owner === this);
    for (const job of dropped) this.inFlight.delete(job as AmqpJob);
    if (this.stopped) return;
    this.ctx.logger.warn("Lost the AMQP connection; redialing", { pipeline: this.pipeline.name, error: this.lastError });
    void this.ensureConnected()
      .then(() => (this.consuming ? this.startConsumer() : undefined))
      .catch((err) => this.ctx.logger.error(errorText(err), { pipeline: this.pipeline.name }));
  }

  private startConsumer(): Promise<void> {
    return this.startingConsumer ??= this.consume().finally(() => (this.startingConsumer = undefined));
  }

  private async consume(): Promise<void> {
    const ch = this.consumeCh;
    if (!ch || this.consumerTag || !this.consuming) return;
    const generation = this.generation;
    const reply = await ch.consume(
      this.options.queue,
      (msg) => {
        if (msg) this.onDelivery(ch, generation, msg);
      },
      { noAck: false, consumerTag: `${this.options.consumerId}-${generation}`, exclusive: this.options.exclusive },
    );
    this.consumerTag = reply.consumerTag;
  }

  private onDelivery(ch: amqp.Channel, generation: number, msg: amqp.ConsumeMessage): void {
    const h = (msg.properties.headers ?? {}) as Record<string, unknown>;
    const delay = toNumber(h.rr_delay);
    if (delay > 0 && this.delayed > 0) this.delayed--;
    const autoAck = h.rr_auto_ack === true || h.rr_auto_ack === "true";
    const job = new AmqpJob(
      this,
      generation,
      ch,
      msg,
      stringOf(h.rr_id) || stringOf(msg.properties.messageId) || randomUUID(),
      stringOf(h.rr_job) || "deduced_by_rr",
      parseHeaders(h.rr_headers),
      this.pipeline.name,
      toNumber(h.rr_priority) || this.options.priority,
      autoAck,
    );
    if (autoAck) {
      try {
        ch.ack(msg, false);
      } catch { /* channel gone: the broker redelivers */ }
    }
    this.inFlight.add(job);
    void this.ctx.queue.push(job);
  }

  /** RoadRunner's delayed jobs: a per-delay queue whose messages dead-letter back to the exchange. */
  private async declareDelayQueue(ch: amqp.ConfirmChannel, delayMs: number, routingKey: string): Promise<string> {
    const o = this.options;
    const name = `delayed-${delayMs}.${o.exchange}.${o.queue || routingKey}`;
    if (this.declaredDelayQueues.has(name)) return name;
    await ch.assertQueue(name, {
      durable: o.durable,
      autoDelete: o.queueAutoDelete,
      exclusive: o.exclusive,
      arguments: {
        "x-dead-letter-exchange": o.exchange,
        "x-dead-letter-routing-key": routingKey,
        "x-message-ttl": delayMs,
        "x-expires": delayMs * 2,
      },
    });
    this.declaredDelayQueues.add(name);
    return name;
  }
}

function confirmPublish(
  ch: amqp.ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: amqp.Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      ch.publish(exchange, routingKey, content, options, (err: unknown) => {
        if (err) reject(err instanceof Error ? err : new RRError("the broker refused the message (nack)"));
        else resolve();
      });
    } catch (err) {
      reject(err);
    }
  });
}

function isConnectionError(err: unknown, used: amqp.Channel, current: amqp.Channel | undefined): boolean {
  // The channel we published on was replaced or closed under us: the message may not have been stored.
  const text = errorText(err);
  return used !== current || /closed|ECONNRESET|EPIPE|connection/i.test(text);
}

/** AMQP 403/404/405/406 replies: access refused, not found, locked, precondition failed. */
function isTopologyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" && code >= 403 && code <= 406;
}

function tlsOptions(global: AmqpConfig): Record<string, unknown> {
  const tls = global.tls;
  if (!tls) return {};
  const read = (path: string | undefined, what: string): Buffer | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`Cannot read amqp.tls.${what} "${path}": ${errorText(err)}`);
    }
  };
  return {
    cert: read(tls.cert, "cert"),
    key: read(tls.key, "key"),
    ca: tls.root_ca ? [read(tls.root_ca, "root_ca")] : undefined,
  };
}

function parseHeaders(value: unknown): JobHeaders {
  const text = Buffer.isBuffer(value) ? value.toString("utf8") : typeof value === "string" ? value : "";
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      const out: JobHeaders = {};
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        out[k] = Array.isArray(v) ? v.map(String) : [String(v)];
      }
      return out;
    }
  } catch { /* foreign message: no headers */ }
  return {};
}

function stringOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return decoder.decode(value);
  return value === undefined || value === null ? "" : String(value);
}

function toNumber(value: unknown): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function clampPriority(priority: number): number {
  return Math.max(0, Math.min(255, Math.trunc(priority)));
}

function wrap(pipeline: string, err: unknown): Error {
  return err instanceof RRError ? err : new RRError(`Cannot push to amqp pipeline "${pipeline}": ${errorText(err)}`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]*)@/, "//$1:***@");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
