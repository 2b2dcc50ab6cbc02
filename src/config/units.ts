// Durations and sizes are parsed once, here, when the config is validated.
// Everything past config works with plain milliseconds and bytes.

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parse a Go-style duration ("60s", "1m30s", "500ms") into milliseconds.
 * A bare number (or numeric string) is taken as seconds when small and as
 * nanoseconds when large, the way RoadRunner configs are written in practice:
 * Go reads a bare integer as nanoseconds, but users write `ttl: 60` meaning seconds.
 * Returns undefined when the value is not a duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? bareNumberToMs(value) : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return bareNumberToMs(Number(text));
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    total += Number(match[1]) * DURATION_UNITS[match[2]];
    pos = re.lastIndex;
  }
  return pos === text.length && pos > 0 ? total : undefined;
}

// Numbers below 1e6 are seconds (`60` = one minute); bigger ones are Go nanoseconds.
function bareNumberToMs(n: number): number {
  return n >= 1e6 ? n / 1e6 : n * 1000;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parse a size ("10MB", "512k", 1048576) into a number of `defaultUnit`s-scaled bytes.
 * A bare number is multiplied by `bareMultiplier` (RoadRunner's max_request_size is in MB,
 * max_worker_memory is in MB).
 */
export function parseSize(value: unknown, bareMultiplier = 1): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * bareMultiplier : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!match) return undefined;
  const unit = match[2].toLowerCase();
  if (unit === "") return Number(match[1]) * bareMultiplier;
  const mult = SIZE_UNITS[unit];
  return mult === undefined ? undefined : Number(match[1]) * mult;
}
