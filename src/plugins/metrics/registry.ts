// Collectors (counter, gauge, histogram, summary; plain or with labels) and their samples,
// for metrics declared in .rr.yaml or over RPC, and for rr's own http request metrics.
// Error texts follow RoadRunner's metrics plugin: PHP clients and users read them.
import { ExpositionWriter, type Labels } from "./exposition.ts";

export type CollectorType = "counter" | "gauge" | "histogram" | "summary";

export interface CollectorSpec {
  type: CollectorType;
  help?: string;
  namespace?: string;
  subsystem?: string;
  labels?: string[];
  buckets?: number[];
  /** quantile → allowed error (summaries). */
  objectives?: Record<string, number> | Array<Record<string, number>>;
}

/** Prometheus' default histogram buckets. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Observations a summary keeps to compute its quantiles. */
const SUMMARY_WINDOW = 1024;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricsError extends Error {
  override name = "MetricsError";
}

interface Series {
  labels: string[];
  /** counter/gauge value. */
  value: number;
  /** histogram: per-bucket (non-cumulative) counts; summary: recent observations (ring). */
  counts: number[];
  sum: number;
  count: number;
  next: number;
}

export class Collector {
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[];
  readonly quantiles: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(readonly key: string, readonly fullName: string, readonly type: CollectorType, readonly help: string, spec: CollectorSpec) {
    this.labelNames = spec.labels ?? [];
    const buckets = spec.buckets && spec.buckets.length ? [...spec.buckets].sort((a, b) => a - b) : DEFAULT_BUCKETS;
    this.buckets = type === "histogram" ? buckets : [];
    this.quantiles = type === "summary" ? parseObjectives(spec.objectives) : [];
    // A plain collector exists (with value 0) from the moment it is declared, as in Prometheus.
    if (this.labelNames.length === 0) this.get([]);
  }

  get isVector(): boolean {
    return this.labelNames.length > 0;
  }

  /** The series for these label values; throws when their count does not match. */
  get(values: readonly string[]): Series {
    if (values.length !== this.labelNames.length) {
      throw new MetricsError(
        `inconsistent label cardinality: expected ${this.labelNames.length} label values but got ${values.length} in [${values.join(" ")}]`,
      );
    }
    const id = values.join("\u0000");
    let series = this.series.get(id);
    if (!series) {
      const size = this.type === "histogram" ? this.buckets.length + 1 : 0;
      series = { labels: [...values], value: 0, counts: new Array<number>(size).fill(0), sum: 0, count: 0, next: 0 };
      this.series.set(id, series);
    }
    return series;
  }

  observe(series: Series, value: number): void {
    series.sum += value;
    series.count++;
    if (this.type === "histogram") {
      let i = 0;
      while (i < this.buckets.length && value > this.buckets[i]) i++;
      series.counts[i]++;
    } else if (this.quantiles.length) {
      if (series.counts.length < SUMMARY_WINDOW) series.counts.push(value);
      else series.counts[series.next] = value;
      series.next = (series.next + 1) % SUMMARY_WINDOW;
    }
  }

  write(out: ExpositionWriter): void {
    out.family(this.fullName, this.type, this.help || this.fullName);
    for (const series of this.series.values()) {
      const labels: Array<readonly [string, string]> = this.labelNames.map((name, i) => [name, series.labels[i]] as const);
      if (this.type === "counter" || this.type === "gauge") {
        out.sample(this.fullName, labels, series.value);
        continue;
      }
      if (this.type === "histogram") {
        let cumulative = 0;
        for (let i = 0; i < this.buckets.length; i++) {
          cumulative += series.counts[i];
          out.sample(`${this.fullName}_bucket`, [...labels, ["le", String(this.buckets[i])]], cumulative);
        }
        out.sample(`${this.fullName}_bucket`, [...labels, ["le", "+Inf"]], series.count);
      } else if (this.quantiles.length) {
        const sorted = [...series.counts].sort((a, b) => a - b);
        for (const q of this.quantiles) {
          const value = sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : NaN;
          out.sample(this.fullName, [...labels, ["quantile", String(q)]], value);
        }
      }
      out.sample(`${this.fullName}_sum`, labels, series.sum);
      out.sample(`${this.fullName}_count`, labels, series.count);
    }
  }
}

function parseObjectives(objectives: CollectorSpec["objectives"]): number[] {
  if (!objectives) return [];
  const maps = Array.isArray(objectives) ? objectives : [objectives];
  const quantiles: number[] = [];
  for (const map of maps) {
    for (const key of Object.keys(map)) {
      const q = Number(key);
      if (!(q >= 0 && q <= 1)) throw new MetricsError(`summary objective ${key} is not a quantile between 0 and 1`);
      quantiles.push(q);
    }
  }
  return quantiles.sort((a, b) => a - b);
}

export function fullMetricName(name: string, spec: CollectorSpec): string {
  return [spec.namespace, spec.subsystem, name].filter((part) => part).join("_");
}

/** Collectors by the bare name RPC calls use. */
export class Registry {
  private readonly collectors = new Map<string, Collector>();

  has(key: string): boolean {
    return this.collectors.has(key);
  }

  get(key: string): Collector | undefined {
    return this.collectors.get(key);
  }

  /** Declare a collector. Returns false (and changes nothing) when `key` already exists. */
  declare(key: string, spec: CollectorSpec): boolean {
    if (this.collectors.has(key)) return false;
    if (!["counter", "gauge", "histogram", "summary"].includes(spec.type)) {
      throw new MetricsError(`unknown collector type \`${String(spec.type)}\` for ${key}: use counter, gauge, histogram or summary`);
    }
    const fullName = fullMetricName(key, spec);
    if (!METRIC_NAME.test(fullName)) throw new MetricsError(`"${fullName}" is not a valid metric name`);
    for (const label of spec.labels ?? []) {
      if (!LABEL_NAME.test(label) || label.startsWith("__")) throw new MetricsError(`"${label}" is not a valid label name for metric "${fullName}"`);
    }
    for (const other of this.collectors.values()) {
      if (other.fullName === fullName) throw new MetricsError(`tried to register existing collector with the name \`${fullName}\``);
    }
    this.collectors.set(key, new Collector(key, fullName, spec.type, spec.help ?? "", spec));
    return true;
  }

  unregister(key: string): boolean {
    return this.collectors.delete(key);
  }

  /** counter/gauge += value. */
  add(key: string, value: number, labels: readonly string[] = []): void {
    const c = this.require(key, true);
    if (c.type !== "counter" && c.type !== "gauge") throw unsupported(key, "Add");
    if (c.type === "counter" && value < 0) throw new MetricsError(`counter cannot decrease in value (collector ${key}, value ${value})`);
    this.series(c, labels).value += value;
  }

  /** gauge -= value. */
  sub(key: string, value: number, labels: readonly string[] = []): void {
    const c = this.require(key, false);
    if (c.type !== "gauge") throw unsupported(key, "Sub");
    this.series(c, labels).value -= value;
  }

  /** gauge = value. */
  set(key: string, value: number, labels: readonly string[] = []): void {
    const c = this.require(key, false);
    if (c.type !== "gauge") throw unsupported(key, "Set");
    this.series(c, labels).value = value;
  }

  /** histogram/summary observation. */
  observe(key: string, value: number, labels: readonly string[] = []): void {
    const c = this.require(key, false);
    if (c.type !== "histogram" && c.type !== "summary") throw unsupported(key, "Observe");
    c.observe(this.series(c, labels), value);
  }

  write(out: ExpositionWriter): void {
    for (const collector of this.collectors.values()) collector.write(out);
  }

  private require(key: string, hint: boolean): Collector {
    const c = this.collectors.get(key);
    if (!c) throw new MetricsError(`undefined collector ${key}${hint ? ", try first Declare the desired collector" : ""}`);
    return c;
  }

  private series(c: Collector, labels: readonly string[]): Series {
    if (c.isVector && labels.length === 0) throw new MetricsError(`required labels for collector ${c.key}`);
    return c.get(c.isVector ? labels : []);
  }
}

function unsupported(key: string, method: string): MetricsError {
  return new MetricsError(`collector ${key} does not support method \`${method}\``);
}

/** Label pairs helper for callers writing their own samples. */
export function labelPairs(names: readonly string[], values: readonly string[]): Labels {
  return names.map((name, i) => [name, values[i]] as const);
}
