// The worker pool section, `<plugin>.pool` (shared/spec/seed-pool.md).
// Note: optional() defaults pass through the pipe, so they are written in config units ("60s").
import * as v from "valibot";
import { duration } from "../valibot-units.ts";

export const SupervisorSchema = v.object({
  /** How often the supervisor checks the workers (ms). */
  watch_tick: v.optional(duration(), "5s"),
  /** Max worker lifetime (ms), soft: finishes the current job first. 0 = unlimited. */
  ttl: v.optional(duration(), 0),
  /** Max idle time after first use (ms), soft. 0 = unlimited. */
  idle_ttl: v.optional(duration(), 0),
  /** Max RSS in MB, soft. 0 = unlimited. */
  max_worker_memory: v.optional(v.pipe(v.number(), v.minValue(0)), 0),
  /** Max execution time of one job (ms), hard: the worker is killed. 0 = unlimited. */
  exec_ttl: v.optional(duration(), 0),
});

export const DynamicAllocatorSchema = v.object({
  max_workers: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10),
  spawn_rate: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 5),
  idle_timeout: v.optional(duration(), "60s"),
});

export const PoolSchema = v.object({
  debug: v.optional(v.boolean(), false),
  /** Overrides server.command for this pool. */
  command: v.optional(v.union([v.string(), v.array(v.string())])),
  /** 0 = number of logical CPUs. */
  num_workers: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  max_jobs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  max_queue_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  allocate_timeout: v.optional(duration({ zeroMeans: 60_000 }), "60s"),
  reset_timeout: v.optional(duration({ zeroMeans: 60_000 }), "60s"),
  stream_timeout: v.optional(duration({ zeroMeans: 60_000 }), "60s"),
  destroy_timeout: v.optional(duration({ zeroMeans: 60_000 }), "60s"),
  dynamic_allocator: v.optional(DynamicAllocatorSchema),
  supervisor: v.optional(SupervisorSchema),
});

export type PoolConfig = v.InferOutput<typeof PoolSchema>;
export type SupervisorConfig = v.InferOutput<typeof SupervisorSchema>;
export type DynamicAllocatorConfig = v.InferOutput<typeof DynamicAllocatorSchema>;
