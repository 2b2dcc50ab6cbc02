// Per-worker information for `rr workers`, informer and metrics.
import { readFileSync } from "node:fs";
import type { Platform } from "../platform/types.ts";
import type { WorkerInfo } from "../plugins/types.ts";
import { WORKER_STATE_NAMES, type Worker } from "../worker/types.ts";

// USER_HZ is 100 on every Linux architecture rr targets.
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU use over the worker's lifetime, in percent of one core: (utime+stime) from
 * /proc/<pid>/stat against the time since the worker was created. 0 where /proc is absent.
 */
export function cpuPercent(pid: number, createdMs: number, now = Date.now()): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const ageSeconds = (now - createdMs) / 1000;
  if (!Number.isFinite(ticks) || ageSeconds <= 0) return 0;
  return Math.round((ticks / CLOCK_TICKS_PER_SECOND / ageSeconds) * 10000) / 100;
}

export async function describeWorker(worker: Worker, platform: Platform): Promise<WorkerInfo> {
  const memory = await platform.processMemory(worker.pid);
  return {
    pid: worker.pid,
    status: worker.state,
    statusStr: WORKER_STATE_NAMES[worker.state] ?? "undefined",
    numExecs: worker.numExecs,
    created: worker.created,
    memoryUsage: memory ?? 0,
    CPUPercent: cpuPercent(worker.pid, worker.created),
    command: "",
  };
}
