// Pollers: take the next job from the shared priority queue and run it on the jobs pool
// (codec RAW; context = JSON, body = payload), then settle it from the worker's reply.
import { NoFreeWorkersError, PoolClosedError, QueueFullError, SoftJobError, SpawnError } from "../../errors.ts";
import type { Logger } from "../../logs/types.ts";
import type { Pool } from "../../pool/types.ts";
import type { Payload, WorkerResponse } from "../../worker/types.ts";
import { applyReply } from "./protocol.ts";
import type { JobQueue } from "./queue.ts";
import type { QueuedJob } from "./types.ts";

const CODEC_RAW = 0x04;
/** How long a poller rests after the pool refused a job (full queue, no worker), so it does not spin. */
const POOL_BACKOFF_MS = 100;

export interface ConsumerStats {
  /** Jobs the worker answered (whatever the verdict). */
  ok: number;
  /** Jobs whose exec failed (error frame, crash, timeout). */
  err: number;
}

export class Consumer {
  readonly stats: ConsumerStats = { ok: 0, err: 0 };
  private running: Promise<void>[] = [];
  private stopping = false;
  /** Jobs on a worker right now (for the plugin's stats). */
  executing = 0;

  constructor(
    private readonly queue: JobQueue,
    private readonly pool: Pool,
    private readonly logger: Logger,
  ) {}

  /** Start `pollers` loops (RoadRunner: num_workers + 2). */
  start(pollers: number): void {
    for (let i = 0; i < pollers; i++) this.running.push(this.poll());
  }

  /** Stop taking jobs; resolves once every poller has finished its current job. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.close();
    await Promise.all(this.running);
    this.running = [];
  }

  private async poll(): Promise<void> {
    for (;;) {
      const job = this.queue.take() ?? await this.queue.pop();
      if (!job) return;
      if (this.stopping) {
        await job.redeliver();
        return;
      }
      await this.run(job);
    }
  }

  private async run(job: QueuedJob): Promise<void> {
    if (job.autoAck) await job.ack();
    const payload: Payload = { context: job.context(), body: job.body(), codec: CODEC_RAW };
    this.executing++;
    let response: WorkerResponse;
    try {
      response = await this.pool.exec(payload);
    } catch (err) {
      this.executing--;
      this.stats.err++;
      return await this.failed(job, err);
    }
    try {
      if (response.stream) {
        // Jobs have no streamed replies: drain it away and treat the job as failed, as RoadRunner does.
        await response.stream.cancel();
        this.stats.err++;
        this.logger.error("A jobs worker answered with a streamed response, which jobs do not support; the job is nacked", {
          id: job.id,
          pipeline: job.pipeline,
        });
        await job.nack();
        return;
      }
      this.stats.ok++;
      await applyReply(job, response.body, this.logger);
    } catch (err) {
      // The worker answered; only settling failed (e.g. the broker went away: it redelivers).
      this.logger.error("Cannot settle a job after its worker answered", {
        id: job.id,
        pipeline: job.pipeline,
        error: err instanceof Error ? err.message : String(err),
      });
    } finally {
      this.executing--;
    }
  }

  /** The worker gave no verdict. An ERROR frame is a nack; anything else (crash, exec_ttl, no worker) redelivers. */
  private async failed(job: QueuedJob, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const fields = { id: job.id, job: job.job, pipeline: job.pipeline, error: message };
    try {
      if (err instanceof SoftJobError) {
        this.logger.error("Job failed: the worker answered with an error; the job is nacked", fields);
        await job.nack();
      } else if (
        err instanceof PoolClosedError || err instanceof QueueFullError || err instanceof NoFreeWorkersError ||
        err instanceof SpawnError
      ) {
        if (!(err instanceof PoolClosedError)) this.logger.warn("The jobs pool refused a job; it will be delivered again", fields);
        await job.redeliver();
        await new Promise((resolve) => setTimeout(resolve, POOL_BACKOFF_MS));
      } else {
        this.logger.warn("Job not finished (the worker crashed or hit exec_ttl); it will be delivered again", fields);
        await job.redeliver();
      }
    } catch (settleErr) {
      this.logger.error("Cannot settle a job after its worker failed", { ...fields, cause: String(settleErr) });
    }
  }
}
