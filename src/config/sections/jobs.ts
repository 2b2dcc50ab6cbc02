// The `jobs` section (shared/spec/plugins.md §1.1). Driver options stay loose here:
// each driver reads its own keys (top level first, then `config.<key>`) and reports bad values itself.
import * as v from "valibot";
import { duration } from "../valibot-units.ts";
import { PoolSchema } from "./pool.ts";

/** One pipeline: `driver` plus driver-specific keys, at the top level or under `config`. */
const NEEDS_DRIVER = 'Every jobs pipeline needs a "driver" (memory or amqp)';

export const PipelineSchema = v.looseObject({
  driver: v.pipe(v.string(NEEDS_DRIVER), v.nonEmpty(NEEDS_DRIVER)),
  config: v.optional(v.record(v.string(), v.unknown())),
}, NEEDS_DRIVER);

export const JobsSchema = v.object({
  /** Deprecated in RoadRunner and ignored: pollers = workers + 2. */
  num_pollers: v.optional(v.unknown()),
  /** Per-operation timeout (push, pause, resume, declare, destroy, stat), ms. */
  timeout: v.optional(duration({ zeroMeans: 60_000 }), 60),
  /** Capacity of the shared priority queue; pushes into it wait while it is full. */
  pipeline_size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 1_000_000),
  options: v.optional(
    v.object({ parallelism: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 5) }),
  ),
  pool: v.optional(PoolSchema, {}),
  /** Pipelines consumed at boot, and pipelines auto-started when declared at runtime. */
  consume: v.optional(v.union([v.array(v.string()), v.pipe(v.string(), v.transform((s) => [s]))]), []),
  pipelines: v.optional(v.record(v.string(), PipelineSchema), {}),
});

export type JobsConfig = v.InferOutput<typeof JobsSchema>;
export type PipelineConfig = v.InferOutput<typeof PipelineSchema>;
