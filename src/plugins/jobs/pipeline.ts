// A pipeline definition: its name, driver and options. RoadRunner reads each option
// from the pipeline's top level first, then from its `config` map; values may be YAML
// scalars or strings (jobs.Declare sends every value as a string).
import { ConfigError } from "../../errors.ts";

export class Pipeline {
  readonly name: string;
  readonly driver: string;
  private readonly options: Record<string, unknown>;
  private readonly nested: Record<string, unknown>;

  constructor(name: string, options: Record<string, unknown>) {
    const nested = options.config;
    this.options = options;
    this.nested = nested !== null && typeof nested === "object" && !Array.isArray(nested)
      ? nested as Record<string, unknown>
      : {};
    // RoadRunner's Name() falls back to `queue` (a legacy PHP CreateInfo quirk).
    this.name = name || this.string("name", "") || this.string("queue", "");
    this.driver = this.string("driver", "");
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined;
  }

  raw(key: string): unknown {
    const top = this.options[key];
    return top !== undefined && top !== null ? top : this.nested[key] ?? undefined;
  }

  string(key: string, fallback: string): string {
    const value = this.raw(key);
    if (value === undefined || value === "") return fallback;
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    throw this.invalid(key, value, "a string");
  }

  int(key: string, fallback: number): number {
    const value = this.raw(key);
    if (value === undefined || value === "") return fallback;
    const n = typeof value === "string" ? Number(value.trim()) : value;
    if (typeof n === "number" && Number.isInteger(n)) return n;
    throw this.invalid(key, value, "an integer");
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined || value === "") return fallback;
    if (typeof value === "boolean") return value;
    if (value === "true") return true;
    if (value === "false") return false;
    throw this.invalid(key, value, 'true or false');
  }

  /** A map option; Declare sends it as a JSON string. */
  map(key: string): Record<string, unknown> {
    const value = this.raw(key);
    if (value === undefined || value === "") return {};
    if (typeof value === "string") {
      try {
        const parsed: unknown = JSON.parse(value);
        // PHP's json_encode([]) gives "[]" for an empty map.
        if (Array.isArray(parsed) && parsed.length === 0) return {};
        if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
          return parsed as Record<string, unknown>;
        }
      } catch { /* reported below */ }
    } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
    throw this.invalid(key, value, "a map (or a JSON object string)");
  }

  /** The pipeline priority (default 10). */
  priority(): number {
    return this.int("priority", 10);
  }

  private invalid(key: string, value: unknown, expected: string): ConfigError {
    return new ConfigError(
      `Invalid jobs pipeline "${this.name}": option "${key}" must be ${expected}, got ${JSON.stringify(value)}`,
    );
  }
}
