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

/** Edit distance counting a swap of two neighbours as one edit (typos like "relya"), for "did you mean". */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0][j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i][j] = d;
    }
  }
  return rows[a.length][b.length];
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
