// Worker pool metrics, computed at scrape time from each plugin's workers() and pool stats,
// named as RoadRunner names them (rr_<plugin>_total_workers, rr_<plugin>_worker_state, ...).
import type { PoolStats } from "../../pool/types.ts";
import type { Plugin, WorkerInfo } from "../types.ts";
import type { ExpositionWriter } from "./exposition.ts";

/** A plugin's pool stats: its poolStats() if it has one, else its `pool` property's stats(). */
export function poolStatsOf(plugin: Plugin): PoolStats | undefined {
  const p = plugin as Plugin & { poolStats?: () => PoolStats | undefined; pool?: { stats?: () => PoolStats } };
  try {
    if (typeof p.poolStats === "function") return p.poolStats();
    if (p.pool && typeof p.pool.stats === "function") return p.pool.stats();
  } catch {
    // A pool being replaced or destroyed has no stats for this scrape.
  }
  return undefined;
}

// Metric names use the plugin name; a name Prometheus would reject is sanitised.
function metricPrefix(plugin: string): string {
  return `rr_${plugin.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

export function writePoolMetrics(out: ExpositionWriter, plugin: string, workers: WorkerInfo[], stats: PoolStats | undefined): void {
  const p = metricPrefix(plugin);
  let memory = 0;
  let ready = 0;
  let working = 0;
  let invalid = 0;
  for (const w of workers) {
    memory += w.memoryUsage;
    if (w.statusStr === "ready") ready++;
    else if (w.statusStr === "working") working++;
    else if (w.statusStr === "invalid") invalid++;
  }
  out.family(`${p}_total_workers`, "gauge", `Total number of workers used by the ${plugin} plugin`)
    .sample(`${p}_total_workers`, [], workers.length);
  out.family(`${p}_workers_memory_bytes`, "gauge", "Memory usage by workers")
    .sample(`${p}_workers_memory_bytes`, [], memory);
  out.family(`${p}_worker_state`, "gauge", "Worker current state");
  for (const w of workers) out.sample(`${p}_worker_state`, [["state", w.statusStr], ["pid", String(w.pid)]], 1);
  out.family(`${p}_worker_memory_bytes`, "gauge", "Worker current memory usage");
  for (const w of workers) out.sample(`${p}_worker_memory_bytes`, [["pid", String(w.pid)]], w.memoryUsage);
  out.family(`${p}_workers_ready`, "gauge", "Workers currently in ready state").sample(`${p}_workers_ready`, [], ready);
  out.family(`${p}_workers_working`, "gauge", "Workers currently in working state").sample(`${p}_workers_working`, [], working);
  out.family(`${p}_workers_invalid`, "gauge", "Workers currently in invalid,killing,destroyed,errored,inactive states")
    .sample(`${p}_workers_invalid`, [], invalid);
  if (!stats) return;
  out.family(`${p}_requests_queue`, "gauge", "Requests waiting for a free worker").sample(`${p}_requests_queue`, [], stats.queueDepth);
  out.family(`${p}_execs_total`, "counter", "Requests executed by the pool's workers").sample(`${p}_execs_total`, [], stats.totalExecs);
  out.family(`${p}_errors_total`, "counter", "Requests that ended in an error").sample(`${p}_errors_total`, [], stats.totalErrors);
  out.family(`${p}_pool_workers`, "gauge", "Workers by state, as the pool counts them");
  for (const [state, count] of Object.entries(stats.workersByState)) out.sample(`${p}_pool_workers`, [["state", state]], count);
}

/** Counters a jobs-like plugin keeps (src/plugins/jobs/plugin.ts `counters()`). */
interface JobCounters {
  ok: number;
  err: number;
  pushOk: number;
  pushErr: number;
}

/** rr_<plugin>_jobs_ok, _jobs_err, _push_ok, _push_err: gauges, as RoadRunner exports them. */
export function writeJobMetrics(out: ExpositionWriter, plugin: Plugin): void {
  const counters = (plugin as Plugin & { counters?: () => JobCounters }).counters;
  if (typeof counters !== "function") return;
  const c = counters.call(plugin);
  const p = metricPrefix(plugin.name);
  out.family(`${p}_jobs_ok`, "gauge", "Number of successfully processed jobs").sample(`${p}_jobs_ok`, [], c.ok);
  out.family(`${p}_jobs_err`, "gauge", "Number of jobs error while processing in the worker").sample(`${p}_jobs_err`, [], c.err);
  out.family(`${p}_push_ok`, "gauge", "Number of job push").sample(`${p}_push_ok`, [], c.pushOk);
  out.family(`${p}_push_err`, "gauge", "Number of jobs push which was failed").sample(`${p}_push_err`, [], c.pushErr);
}
