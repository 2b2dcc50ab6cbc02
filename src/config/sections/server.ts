// The `server` section (shared/spec/plugins.md §7.3, spec/seed-server.txt): how worker
// processes are started. `command` is normalized to argv here, once.
import * as v from "valibot";
import { duration } from "../valibot-units.ts";

/** "php worker.php" → ["php", "worker.php"] (split on whitespace, like RoadRunner); a list is kept as is. */
export function splitCommand(command: string | readonly string[]): string[] {
  return typeof command === "string" ? command.trim().split(/\s+/).filter((part) => part !== "") : [...command];
}

const commandSchema = v.pipe(
  v.union([v.string(), v.array(v.string())], 'Expected a command such as "php worker.php" or a list of arguments'),
  v.transform((command: string | string[]) => splitCommand(command)),
  v.check((argv: string[]) => argv.length > 0, 'Expected a command such as "php worker.php" but found an empty one'),
);

/** Environment for workers: keys upper-cased (RoadRunner does), values as strings. */
const envSchema = v.pipe(
  v.record(v.string(), v.union([v.string(), v.number(), v.boolean()], "Expected a string value")),
  v.transform((env: Record<string, string | number | boolean>) => {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) out[key.toUpperCase()] = String(value);
    return out;
  }),
);

/** pipes | tcp://host:port | unix:///path. */
export function relayProblem(relay: string): string | undefined {
  if (relay === "pipes") return undefined;
  if (relay.startsWith("tcp://")) {
    const match = /^tcp:\/\/(.*):(\d+)$/.exec(relay);
    if (!match) return `expected tcp://host:port but found "${relay}"`;
    if (match[1] === "") return `"${relay}" has no host: write tcp://127.0.0.1:${match[2]} (or the address to listen on)`;
    if (Number(match[2]) > 65535) return `"${relay}" has an invalid port (1-65535, or 0 for any free port)`;
    return undefined;
  }
  if (relay.startsWith("unix://")) {
    return relay.length > "unix://".length ? undefined : `expected unix:///path/to/socket but found "${relay}"`;
  }
  return `expected pipes, tcp://host:port or unix:///path/to/socket but found "${relay}"`;
}

const relaySchema = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = relayProblem(dataset.value);
    if (problem) addIssue({ message: problem });
  }),
);

export const OnInitSchema = v.object({
  command: commandSchema,
  /** ms; the command is killed after it (an error only with exit_on_error). */
  exec_timeout: v.optional(duration({ zeroMeans: 60_000 }), "60s"),
  env: v.optional(envSchema, {}),
  user: v.optional(v.string()),
  exit_on_error: v.optional(v.boolean(), false),
});

export const ServerSchema = v.object({
  /** argv of the worker command; required when a plugin runs workers (checked in schema.ts). */
  command: v.optional(commandSchema),
  user: v.optional(v.string()),
  group: v.optional(v.string()),
  env: v.optional(envSchema, {}),
  relay: v.optional(relaySchema, "pipes"),
  /** Removed in RoadRunner v2024.1; accepted and ignored with a warning. */
  relay_timeout: v.optional(v.unknown()),
  on_init: v.optional(OnInitSchema),
});

export type ServerConfig = v.InferOutput<typeof ServerSchema>;
export type OnInitConfig = v.InferOutput<typeof OnInitSchema>;
