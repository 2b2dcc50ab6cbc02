// The `logs` section (shared/spec/plugins.md §7.4). Every key is optional here;
// src/logs/ applies the defaults (which depend on the mode) and channel overrides.
import * as v from "valibot";

export const LOG_MODES = ["development", "production", "raw", "off", "none"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "warning", "error", "panic", "dpanic", "fatal"] as const;

/** "stderr" or ["stderr", "/var/log/rr.log"] → a list. */
const outputList = v.pipe(
  v.union([v.string(), v.array(v.string())], "Expected stderr, stdout, a file path or a list of them"),
  v.transform((out: string | string[]) => (typeof out === "string" ? [out] : out)),
);

const lowerPicklist = <const T extends readonly string[]>(options: T) =>
  v.pipe(
    v.string(),
    v.transform((text: string) => text.toLowerCase()),
    v.picklist(options, `Expected one of ${options.filter((o) => o !== "warning" && o !== "none").join(", ")}`),
  );

export const FileLoggerSchema = v.object({
  log_output: v.optional(v.string()),
  max_size: v.optional(v.number(), 100),
  max_age: v.optional(v.number(), 24),
  max_backups: v.optional(v.number(), 10),
  compress: v.optional(v.boolean(), false),
});

const channelEntries = {
  mode: v.optional(lowerPicklist(LOG_MODES)),
  level: v.optional(lowerPicklist(LOG_LEVELS)),
  encoding: v.optional(lowerPicklist(["console", "json"] as const)),
  line_ending: v.optional(v.string()),
  output: v.optional(outputList),
  err_output: v.optional(outputList),
  file_logger_options: v.optional(FileLoggerSchema),
};

export const LogsChannelSchema = v.object(channelEntries);

export const LogsSchema = v.object({
  ...channelEntries,
  channels: v.optional(v.record(v.string(), LogsChannelSchema), {}),
});

export type LogsChannelConfig = v.InferOutput<typeof LogsChannelSchema>;
export type LogsConfig = v.InferOutput<typeof LogsSchema>;
