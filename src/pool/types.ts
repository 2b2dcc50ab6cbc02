// What plugins see of a worker pool. Implemented in src/pool/.
import type { Payload, WorkerResponse } from "../worker/types.ts";
import type { WorkerInfo } from "../plugins/types.ts";

export interface PoolStats {
  /** Worker counts by state name ("ready", "working", ...). */
  workersByState: Record<string, number>;
  /** Callers waiting for a free worker. */
  queueDepth: number;
  totalExecs: number;
  totalErrors: number;
}

export interface Pool {
  /** The plugin that owns the pool ("http", "jobs", ...). */
  readonly name: string;
  /**
   * Run one request on a free worker. A worker that asks to stop is replaced and the
   * request retried elsewhere. Rejects with QueueFullError, NoFreeWorkersError, SoftJobError,
   * ExecTTLError, WorkerCrashedError, PoolClosedError, SpawnError.
   * For a streamed response the worker stays busy until the stream ends or is cancelled.
   */
  exec(payload: Payload, signal?: AbortSignal): Promise<WorkerResponse>;
  /** Replace every worker, letting in-flight work finish (bounded by reset_timeout). */
  reset(): Promise<void>;
  /** Stop accepting, drain in-flight work, stop workers (bounded by destroy_timeout). */
  destroy(): Promise<void>;
  /** Per-worker state for `rr workers`, informer and metrics. */
  workers(): Promise<WorkerInfo[]>;
  stats(): PoolStats;
  /** True when at least one worker is ready or working (status plugin). */
  ready(): boolean;
}
