// The root config schema: one valibot schema per section, each in its own file under
// sections/. To add a section: create sections/<name>.ts and add one line to SECTIONS.
import * as v from "valibot";
import { ConfigError } from "../errors.ts";
import { type ConfigWarning, describeValue, suggest } from "./errors.ts";
import { coerce, findUnknownKeys } from "./weak.ts";
import { checkVersion } from "./sections/version.ts";
import { ServerSchema } from "./sections/server.ts";
import { RpcSchema } from "./sections/rpc.ts";
import { LogsSchema } from "./sections/logs.ts";
import { EndureSchema } from "./sections/endure.ts";
import { HttpSchema } from "./sections/http.ts";
import { StatusSchema } from "./sections/status.ts";
import { MetricsSchema } from "./sections/metrics.ts";
import { JobsSchema } from "./sections/jobs.ts";
import { AmqpSchema } from "./sections/amqp.ts";

export { loadConfig, type LoadConfigOptions, type LoadedConfig } from "./loader.ts";

/** Every section rr understands. Absent sections are undefined, except logs and endure (defaults). */
export const SECTIONS = {
  server: v.optional(ServerSchema),
  rpc: v.optional(RpcSchema),
  logs: v.optional(LogsSchema, {}),
  endure: v.optional(EndureSchema, {}),
  http: v.optional(HttpSchema),
  status: v.optional(StatusSchema),
  metrics: v.optional(MetricsSchema),
  jobs: v.optional(JobsSchema),
  amqp: v.optional(AmqpSchema),
};

export const RootSchema = v.object({ version: v.string(), ...SECTIONS });

/** The validated config: durations in ms, sizes in bytes, server.command as argv. */
export type RRConfig = v.InferOutput<typeof RootSchema>;

/** RoadRunner plugins rr does not implement (yet): their sections are ignored with a warning. */
export const UNSUPPORTED_SECTIONS = new Set([
  "grpc", "kv", "temporal", "centrifuge", "tcp", "service", "reload", "otel",
  "beanstalk", "boltdb", "nats", "sqs", "kafka", "google_pub_sub", "redis", "memcached", "memory",
  "fileserver", "websockets", "broadcast", "headers", "gzip", "static", "sendfile", "prometheus", "informer",
  "resetter", "lock", "appLogger", "app_logger", "envfile", "experimental", "proxy_ip_parser",
]);

/** Keys that RoadRunner removed: accepted and ignored, with a warning. */
const DEPRECATED_KEYS: Record<string, string> = {
  "server.relay_timeout": "server.relay_timeout was removed in RoadRunner v2024.1 and is ignored; remove it",
};

/** Sections whose plugin runs PHP workers, so they need server.command (or their own pool.command). */
const WORKER_SECTIONS = ["http", "jobs", "tcp", "grpc", "temporal", "centrifuge"];

/**
 * Validate the expanded, overridden tree. Throws ConfigError naming `file`, the key path,
 * what was expected and what was found. Unknown keys become warnings.
 */
export function validateConfig(raw: Record<string, unknown>, file: string): { config: RRConfig; warnings: ConfigWarning[] } {
  checkVersion(file, raw.version);
  const warnings: ConfigWarning[] = [];
  const known = Object.keys(SECTIONS);
  for (const key of Object.keys(raw)) {
    if (key === "version") continue;
    if (key in SECTIONS) {
      raw[key] = coerce(SECTIONS[key as keyof typeof SECTIONS], raw[key]);
      findUnknownKeys(SECTIONS[key as keyof typeof SECTIONS], raw[key], key, (path, hint) => {
        warnings.push({
          path,
          message: `unknown key ${path} in ${file} is ignored${hint ? `; did you mean ${parentOf(path)}${hint}?` : ""}`,
        });
      });
    } else if (key.startsWith("x-")) {
      // Extension keys (docker-compose style) hold YAML anchors for reuse; nothing to warn about.
      delete raw[key];
    } else if (UNSUPPORTED_SECTIONS.has(key)) {
      warnings.push({ path: key, message: `section ${key} is not supported by rr yet; it is ignored` });
      delete raw[key];
    } else {
      const hint = suggest(key, known);
      warnings.push({
        path: key,
        message: `unknown section ${key} in ${file} is ignored${hint ? `; did you mean ${hint}?` : ""}`,
      });
      delete raw[key];
    }
  }
  for (const path of Object.keys(DEPRECATED_KEYS)) {
    const [section, key] = path.split(".");
    const value = raw[section];
    if (value && typeof value === "object" && key in value) {
      warnings.push({ path, message: DEPRECATED_KEYS[path] });
    }
  }

  const result = v.safeParse(RootSchema, raw);
  if (!result.success) throw new ConfigError(formatIssues(file, result.issues));
  const config = result.output;
  checkWorkerCommand(file, raw, config);
  return { config, warnings };
}

function parentOf(path: string): string {
  const dot = path.lastIndexOf(".");
  return dot < 0 ? "" : path.slice(0, dot + 1);
}

function checkWorkerCommand(file: string, raw: Record<string, unknown>, config: RRConfig): void {
  for (const section of WORKER_SECTIONS) {
    const value = raw[section] as { pool?: { command?: unknown } } | undefined;
    if (value === undefined || value === null) continue;
    if (config.server?.command || value.pool?.command) continue;
    throw new ConfigError(
      `Cannot load config ${file}: server.command: ${section} runs PHP workers, so a worker command is required; add\n` +
        `  server:\n    command: "php worker.php"`,
    );
  }
}

/** Turn valibot issues into one line per problem: `key.path: expected X but found Y`. */
function formatIssues(file: string, issues: readonly v.BaseIssue<unknown>[]): string {
  const lines = issues.slice(0, 5).map((issue) => {
    const path = v.getDotPath(issue) ?? "";
    return `${path ? `${path}: ` : ""}${describeIssue(issue)}`;
  });
  const more = issues.length > 5 ? `\n  ... and ${issues.length - 5} more problems` : "";
  return `Cannot load config ${file}: ${lines.join(`\n  `)}${more}`;
}

const TYPE_WORDS: Record<string, string> = {
  number: "a number",
  string: "a string",
  boolean: "true or false",
  Object: "a map",
  Array: "a list",
  unknown: "a value",
};

function describeIssue(issue: v.BaseIssue<unknown>): string {
  const found = describeValue(issue.input);
  if (!isCustomMessage(issue)) {
    if (!issue.expected) return `expected ${issue.type.replace(/_/g, " ")} but found ${found}`;
    const expected = issue.expected
      .replace(/^\((.*)\)$/, "$1")
      .split(" | ")
      .map((word) => TYPE_WORDS[word] ?? word)
      .join(" or ");
    if (issue.input === undefined) return `the key is missing; expected ${expected}`;
    return `expected ${expected} but found ${found}`;
  }
  // Our own messages ("Expected a duration such as ..."): lower-case and say what was found.
  let message = issue.message.replace(/ but received .*$/, "");
  message = message.charAt(0).toLowerCase() + message.slice(1);
  if (issue.input === undefined) return `the key is missing; ${message}`;
  return message.startsWith("expected") ? `${message} but found ${found}` : message;
}

// valibot's default messages start with "Invalid "; anything else was written by us.
function isCustomMessage(issue: v.BaseIssue<unknown>): boolean {
  return !issue.message.startsWith("Invalid ");
}
