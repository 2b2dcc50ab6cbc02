// The in-memory queue driver (RoadRunner's `memory`): jobs live in this process only.
// Each pipeline keeps a local priority buffer and moves jobs into the shared queue while
// fewer than `prefetch` of its jobs are in flight. Better than RoadRunner: a job whose
// worker crashed or hit exec_ttl is delivered again (at-least-once), not dropped.
import { RRError } from "../../../errors.ts";
import type { Pipeline } from "../pipeline.ts";
import { JobQueue } from "../queue.ts";
import type {
  Driver,
  DriverContext,
  DriverFactory,
  JobHeaders,
  JobMessage,
  PipelineState,
  QueuedJob,
} from "../types.ts";
import { mergeHeaders } from "../types.ts";

/** Jobs a pipeline may buffer before pushes wait (RoadRunner's local channel size). */
const BUFFER_SIZE = 100_000;
const encoder = new TextEncoder();

class MemoryJob implements QueuedJob {
  private ctx: Uint8Array | undefined;
  settled = false;

  constructor(
    readonly owner: MemoryDriver,
    readonly id: string,
    readonly job: string,
    private readonly payload: Uint8Array,
    private headers: JobHeaders,
    readonly pipeline: string,
    readonly priority: number,
    readonly autoAck: boolean,
  ) {}

  context(): Uint8Array {
    // Field order as RoadRunner writes it; `queue` added so PHP's getQueue() is useful.
    return this.ctx ??= encoder.encode(JSON.stringify({
      id: this.id,
      job: this.job,
      driver: "memory",
      headers: this.headers,
      pipeline: this.pipeline,
      queue: this.pipeline,
    }));
  }

  body(): Uint8Array {
    return this.payload;
  }

  ack(): Promise<void> {
    if (this.settle()) this.owner.release();
    return Promise.resolve();
  }

  nack(): Promise<void> {
    return this.ack();
  }

  nackWithOptions(requeue: boolean, delaySec: number): Promise<void> {
    return requeue ? this.requeue(undefined, delaySec) : this.nack();
  }

  requeue(headers: JobHeaders | undefined, delaySec: number): Promise<void> {
    if (!this.settle()) return Promise.resolve();
    const copy = new MemoryJob(
      this.owner,
      this.id,
      this.job,
      this.payload,
      mergeHeaders(this.headers, headers),
      this.pipeline,
      this.priority,
      this.autoAck,
    );
    this.owner.release();
    return this.owner.enqueue(copy, delaySec);
  }

  redeliver(): Promise<void> {
    return this.requeue(undefined, 0);
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }
}

export class MemoryDriver implements Driver {
  private readonly buffer = new JobQueue(BUFFER_SIZE);
  private readonly delayed = new Set<ReturnType<typeof setTimeout>>();
  private readonly prefetch: number;
  private readonly priority: number;
  private inFlight = 0;
  private consuming = false;
  private stopped = false;
  private pumping = false;

  constructor(readonly pipeline: Pipeline, private readonly ctx: DriverContext) {
    this.priority = pipeline.priority();
    this.prefetch = pipeline.int("prefetch", 100_000);
    if (this.prefetch <= 0) {
      throw new RRError(`Invalid jobs pipeline "${pipeline.name}": prefetch must be greater than 0`);
    }
  }

  push(msg: JobMessage): Promise<void> {
    if (this.stopped) {
      return Promise.reject(new RRError(`Cannot push to pipeline "${this.pipeline.name}": it is stopped`));
    }
    const job = new MemoryJob(
      this,
      msg.id,
      msg.job,
      msg.payload,
      msg.headers,
      this.pipeline.name,
      msg.priority,
      msg.autoAck,
    );
    return this.enqueue(job, msg.delaySec);
  }

  /** Store a job in the local buffer, after delaySec when given. */
  enqueue(job: MemoryJob, delaySec: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (delaySec > 0) {
      const timer = setTimeout(() => {
        this.delayed.delete(timer);
        void this.enqueue(job, 0).catch((err) => this.ctx.logger.error(String(err)));
      }, delaySec * 1000);
      this.delayed.add(timer);
      return Promise.resolve();
    }
    const wait = this.buffer.push(job);
    if (wait) return this.bufferFull(wait);
    this.pump();
    return Promise.resolve();
  }

  /** A job was settled: one more may move into the shared queue. */
  release(): void {
    this.inFlight--;
    this.pump();
  }

  run(): Promise<void> {
    this.consuming = true;
    this.pump();
    return Promise.resolve();
  }

  pause(): Promise<void> {
    if (!this.consuming) {
      return Promise.reject(new RRError(`Cannot pause pipeline "${this.pipeline.name}": no active listeners, nothing to pause`));
    }
    this.consuming = false;
    return Promise.resolve();
  }

  resume(): Promise<void> {
    if (this.consuming) {
      return Promise.reject(new RRError(`Cannot resume pipeline "${this.pipeline.name}": the listener is already in the active state`));
    }
    return this.run();
  }

  state(): Promise<PipelineState> {
    return Promise.resolve({
      pipeline: this.pipeline.name,
      driver: "memory",
      queue: this.pipeline.name,
      active: this.buffer.size + this.inFlight,
      delayed: this.delayed.size,
      reserved: this.inFlight,
      ready: this.consuming,
      priority: this.priority,
    });
  }

  /** Destroy: drop this pipeline's buffered, delayed and queued jobs (the memory queue is volatile). */
  stop(): Promise<void> {
    this.stopped = true;
    this.consuming = false;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    this.buffer.close();
    this.ctx.queue.removeWhere((job) => job.owner === this);
    return Promise.resolve();
  }

  private async bufferFull(wait: Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() =>
        reject(
          new RRError(
            `Cannot push to pipeline "${this.pipeline.name}": its local buffer of ${BUFFER_SIZE} jobs is full; ` +
              "consume faster (more workers) or push less",
          ),
        ), this.ctx.timeoutMs);
    });
    try {
      await Promise.race([wait, timeout]);
    } finally {
      clearTimeout(timer);
    }
    this.pump();
  }

  /** Move jobs from the local buffer into the shared queue while prefetch allows. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    while (this.consuming && this.inFlight < this.prefetch) {
      const job = this.buffer.take();
      if (!job) break;
      this.inFlight++;
      const wait = this.ctx.queue.push(job);
      if (wait) {
        // The shared queue is full (pipeline_size): go on once it has room.
        void wait.then(() => {
          this.pumping = false;
          this.pump();
        });
        return;
      }
    }
    this.pumping = false;
  }
}

export const memoryDriverFactory: DriverFactory = {
  name: "memory",
  create: (pipeline, ctx) => new MemoryDriver(pipeline, ctx),
};
