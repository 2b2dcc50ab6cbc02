// The `metrics` section (shared/spec/plugins.md §5): Prometheus endpoint and collectors
// declared up front (the same shape PHP's metrics.Declare sends).
import * as v from "valibot";

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export const CollectorSchema = v.object({
  type: v.picklist(["counter", "gauge", "histogram", "summary"], "Expected counter, gauge, histogram or summary"),
  help: v.optional(v.string(), ""),
  namespace: v.optional(v.string(), ""),
  subsystem: v.optional(v.string(), ""),
  labels: v.optional(v.array(v.string()), []),
  /** Histogram bucket upper bounds. Empty = Prometheus' defaults. */
  buckets: v.optional(v.array(v.number()), []),
  /** Summary quantiles → allowed error; a map or RoadRunner's list of one-entry maps. */
  objectives: v.optional(
    v.union([v.record(v.string(), v.number()), v.array(v.record(v.string(), v.number()))]),
  ),
});

export const MetricsSchema = v.object({
  /** host:port of the Prometheus endpoint (every path answers). */
  address: v.optional(
    v.pipe(v.string(), v.regex(/^(\[[^\]]*\]|[^:]*):\d{1,5}$/, 'Expected host:port such as "127.0.0.1:2112"')),
    "127.0.0.1:2112",
  ),
  collect: v.optional(
    v.record(v.pipe(v.string(), v.regex(NAME, "Expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")), CollectorSchema),
    {},
  ),
});

export type MetricsConfig = v.InferOutput<typeof MetricsSchema>;
export type CollectorConfig = v.InferOutput<typeof CollectorSchema>;
