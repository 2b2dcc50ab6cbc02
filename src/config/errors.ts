// How config problems are reported: one sentence naming the file, the key path,
// what was expected and what was found. Thrown as ConfigError (no stack trace shown).
import { ConfigError } from "../errors.ts";

/** A non-fatal config finding (unknown key, deprecated option, unsupported section). */
export interface ConfigWarning {
  /** Dotted key path, e.g. "http.pool.num_wrkers"; "" for the whole file. */
  path: string;
  message: string;
}

/** `Cannot load config .rr.yaml: http.pool.num_workers: expected a number but found "two"`. */
export function configError(file: string, path: string, problem: string): ConfigError {
  const where = path ? `${path}: ` : "";
  return new ConfigError(`Cannot load config ${file}: ${where}${problem}`);
}

/** A short, quoted rendering of a config value for messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a map";
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The closest candidate within a distance proportional to the word's length, or undefined. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
