// The `status` section (shared/spec/plugins.md §4): health and readiness endpoints.
import * as v from "valibot";
import { duration } from "../valibot-units.ts";

export const StatusSchema = v.object({
  /** host:port for /health, /ready and /jobs; required, as in RoadRunner. */
  address: v.pipe(
    v.string('status.address is required, e.g. address: "127.0.0.1:2114"'),
    v.regex(/^(\[[^\]]*\]|[^:]*):\d{1,5}$/, 'Expected host:port such as "127.0.0.1:2114"'),
  ),
  /** HTTP code answered when a checked plugin is not healthy/ready. */
  unavailable_status_code: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(599)), 503),
  /** ms; bounds each plugin check. RoadRunner reads bare seconds (check_timeout: 60). */
  check_timeout: v.optional(duration({ zeroMeans: 60_000 }), "60s"),
});

export type StatusConfig = v.InferOutput<typeof StatusSchema>;
