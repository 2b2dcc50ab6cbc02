// The `endure` section (shared/spec/plugins.md §7.5): the plugin container's settings.
import * as v from "valibot";
import { duration } from "../valibot-units.ts";

export const EndureSchema = v.object({
  /** ms; bounds the graceful stop on the first signal, then plugins are stopped forcibly. */
  grace_period: v.optional(duration({ zeroMeans: 30_000 }), "30s"),
  log_level: v.optional(v.picklist(["debug", "info", "warn", "error"]), "error"),
  print_graph: v.optional(v.boolean(), false),
  /** systemd watchdog; accepted, not used. */
  watchdog_sec: v.optional(v.number(), 0),
});

export type EndureConfig = v.InferOutput<typeof EndureSchema>;
