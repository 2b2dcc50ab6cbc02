// The contracts inside the jobs plugin: what a producer pushes, what the consumer
// takes from the priority queue, and what a queue driver (memory, amqp, ...) implements.
import type { Logger } from "../../logs/types.ts";
import type { RRConfig } from "../../config/schema.ts";
import type { Pipeline } from "./pipeline.ts";
import type { JobQueue } from "./queue.ts";

/** Job headers, as RoadRunner carries them: name → list of values. */
export type JobHeaders = Record<string, string[]>;

/** A requeue's headers merged into the job's (per-key replace); the job's own object when there is nothing to merge. */
export function mergeHeaders(base: JobHeaders, extra: JobHeaders | undefined): JobHeaders {
  return extra && Object.keys(extra).length > 0 ? { ...base, ...extra } : base;
}

/** A job as a producer pushes it (jobs.Push) or a driver receives it from its broker. */
export interface JobMessage {
  /** Producer-chosen id (PHP: a UUIDv4). */
  id: string;
  /** Job (task) name. */
  job: string;
  payload: Uint8Array;
  headers: JobHeaders;
  /** Target pipeline name. */
  pipeline: string;
  /** Lower runs first; 0 means "the pipeline's priority" and is resolved before the driver sees it. */
  priority: number;
  /** Seconds to wait before the job may run. */
  delaySec: number;
  /** Acknowledge on arrival instead of after the worker's reply. */
  autoAck: boolean;
}

/**
 * A job taken from a driver and sitting in the shared priority queue or running on a worker.
 * Exactly one of ack/nack/nackWithOptions/requeue/redeliver settles it; later calls are no-ops.
 */
export interface QueuedJob {
  readonly id: string;
  readonly job: string;
  readonly pipeline: string;
  readonly priority: number;
  readonly autoAck: boolean;
  /** The driver that owns the job (so destroy can drop its jobs from the queue). */
  readonly owner: object;
  /** Context JSON for the worker: {id, job, driver, headers, pipeline, queue}. */
  context(): Uint8Array;
  /** The raw payload, sent as the frame body. */
  body(): Uint8Array;
  /** Done: forget the job. */
  ack(): Promise<void>;
  /** Failed, no retry asked for (ERROR frame, or a nack without requeue). */
  nack(): Promise<void>;
  /** Nack with the worker's choice: requeue after delaySec, or drop. */
  nackWithOptions(requeue: boolean, delaySec: number): Promise<void>;
  /** Run again after delaySec, with these headers merged in (per-key replace). */
  requeue(headers: JobHeaders | undefined, delaySec: number): Promise<void>;
  /** No verdict was reached (worker crashed, exec_ttl, no free worker, shutdown): deliver again. */
  redeliver(): Promise<void>;
}

/** A pipeline's state for jobs.Stat, informer.Jobs and `rr workers`. */
export interface PipelineState {
  pipeline: string;
  driver: string;
  queue: string;
  /** Jobs ready to run or running (not yet acknowledged). */
  active: number;
  /** Jobs waiting for their delay to pass. */
  delayed: number;
  /** Jobs handed to the consumer and not yet acknowledged. */
  reserved: number;
  /** True while the pipeline is consuming. */
  ready: boolean;
  priority: number;
  errorMessage?: string;
}

/** One pipeline's queue backend. */
export interface Driver {
  readonly pipeline: Pipeline;
  /** Accept a job (its priority already resolved). Resolves once the job is stored (broker confirmed). */
  push(job: JobMessage): Promise<void>;
  /** Start consuming: move jobs into the shared priority queue. */
  run(): Promise<void>;
  /** Stop moving jobs into the queue; jobs already there still run. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  state(): Promise<PipelineState>;
  /** Stop for good (destroy or shutdown). */
  stop(): Promise<void>;
}

/** What a driver gets when it is created. */
export interface DriverContext {
  /** The shared priority queue the consumer reads from. */
  queue: JobQueue;
  logger: Logger;
  config: RRConfig;
  /** jobs.timeout in ms. */
  timeoutMs: number;
}

export interface DriverFactory {
  /** The name used in `driver:` ("memory", "amqp"). */
  readonly name: string;
  /** May load the driver's module lazily (amqplib is only loaded when an amqp pipeline exists). */
  create(pipeline: Pipeline, ctx: DriverContext): Driver | Promise<Driver>;
}
