// Line formats: console (development), JSON (production, one object per line) and raw.
export type LevelName = "debug" | "info" | "warn" | "error";

const COLORS: Record<LevelName, string> = { debug: "\x1b[35m", info: "\x1b[34m", warn: "\x1b[33m", error: "\x1b[31m" };
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";

/** JSON.stringify that survives Errors, bigints and cycles. */
export function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Error) return v.message;
      if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[circular]";
        seen.add(v);
      }
      return v;
    }) ?? "null";
  } catch {
    return '"[unserializable]"';
  }
}

function hasFields(fields: Record<string, unknown> | undefined): fields is Record<string, unknown> {
  if (!fields) return false;
  for (const _ in fields) return true;
  return false;
}

/** `2026-01-02T03:04:05.678Z  INFO  http  message  {"k":1}` (zap's development layout). */
export function formatConsole(
  level: LevelName,
  date: Date,
  channel: string,
  message: string,
  fields: Record<string, unknown> | undefined,
  color: boolean,
): string {
  const tag = level.toUpperCase().padEnd(5);
  const time = date.toISOString();
  const extra = hasFields(fields) ? `\t${safeJson(fields)}` : "";
  if (!color) return `${time}\t${tag}\t${channel}\t${message}${extra}`;
  return `${DIM}${time}${RESET}\t${COLORS[level]}${tag}${RESET}\t${DIM}${channel}${RESET}\t${message}${extra}`;
}

/** `{"level":"info","ts":<epoch ns>,"logger":"http","msg":"...",...fields}` */
export function formatJson(
  level: LevelName,
  date: Date,
  channel: string,
  message: string,
  fields: Record<string, unknown> | undefined,
): string {
  // Epoch nanoseconds (as RoadRunner's production encoder) exceed 2^53, so build the digits as text.
  const ts = `${date.getTime()}000000`;
  let line = `{"level":"${level}","ts":${ts},"logger":${JSON.stringify(channel)},"msg":${JSON.stringify(message)}`;
  if (hasFields(fields)) {
    for (const key of Object.keys(fields)) {
      if (key === "level" || key === "ts" || key === "logger" || key === "msg") continue;
      line += `,${JSON.stringify(key)}:${safeJson(fields[key])}`;
    }
  }
  return `${line}}`;
}
