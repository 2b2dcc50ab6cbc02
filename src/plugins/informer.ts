// The `informer` RPC service (shared/spec/goridge.md §4.5): lists plugins that run workers and
// reports their workers, with the JSON shapes PHP's WorkerPool and our `rr workers` read.
// Built into the rpc plugin: always served when rpc is.
import type { Plugin, PluginContext, WorkerInfo } from "./types.ts";
import { RpcError, type RpcCall, type RpcService } from "./rpc/types.ts";

/** A worker as informer.Workers returns it; keys and order as RoadRunner's process.State. */
export interface InformerWorker {
  pid: number;
  status: number;
  numExecs: number;
  /** Unix nanoseconds. */
  created: number;
  memoryUsage: number;
  CPUPercent: number;
  command: string;
  statusStr: string;
}

/** Optional hooks a plugin may offer beyond the Plugin contract (jobs, dynamic pools). */
interface InformerExtras {
  /** Pipeline states for informer.Jobs (the jobs plugin). */
  jobsState?(): Promise<unknown[]>;
  /** Add one worker to the plugin's pool. */
  addWorker?(): Promise<void>;
  /** Gracefully remove one idle worker (never the last one). */
  removeWorker?(): Promise<void>;
}

export function toInformerWorker(w: WorkerInfo): InformerWorker {
  return {
    pid: w.pid,
    status: w.status,
    numExecs: w.numExecs,
    created: Math.round(w.created * 1e6),
    memoryUsage: w.memoryUsage,
    CPUPercent: w.CPUPercent,
    command: w.command,
    statusStr: w.statusStr,
  };
}

/** Plugins that expose workers, in start order. */
export function pluginsWithWorkers(plugins: Plugin[]): Plugin[] {
  return plugins.filter((p) => typeof p.workers === "function");
}

function pluginName(method: string, arg: unknown): string {
  if (typeof arg !== "string") throw new RpcError(`${method}: expected a plugin name (a JSON string) as the argument`);
  return arg;
}

export function informerService(plugins: () => Plugin[]): RpcService {
  const find = (name: string) => plugins().find((p) => p.name === name) as (Plugin & InformerExtras) | undefined;
  // AddWorker / RemoveWorker: one worker more or less in the named plugin's pool.
  const manageWorkers = async (call: RpcCall, hook: "addWorker" | "removeWorker"): Promise<true> => {
    const name = pluginName(call.method, call.json());
    const plugin = find(name);
    const run = plugin?.[hook];
    if (!run) throw new RpcError(`plugin ${name} does not support workers management`);
    await run.call(plugin);
    return true;
  };
  return {
    List: () => pluginsWithWorkers(plugins()).map((p) => p.name),
    // Unknown plugin: no error, {"workers":null}, as RoadRunner answers.
    Workers: async (call) => {
      const plugin = find(pluginName(call.method, call.json()));
      if (!plugin?.workers) return { workers: null };
      return { workers: (await plugin.workers()).map(toInformerWorker) };
    },
    // `rr workers` calls this for every plugin, so non-jobs plugins answer null rather than an error.
    Jobs: async (call) => {
      const plugin = find(pluginName(call.method, call.json()));
      return plugin?.jobsState ? await plugin.jobsState() : null;
    },
    AddWorker: (call) => manageWorkers(call, "addWorker"),
    RemoveWorker: (call) => manageWorkers(call, "removeWorker"),
  };
}

// Names tried when the host does not offer ctx.plugins() (an older host).
const KNOWN_PLUGIN_NAMES = ["server", "http", "jobs", "tcp", "grpc", "temporal", "centrifuge", "service", "kv", "status", "metrics"];

/** Every plugin of this rr, via ctx.plugins() when the host offers it. */
export function listPlugins(ctx: PluginContext): Plugin[] {
  if (ctx.plugins) return ctx.plugins();
  const found: Plugin[] = [];
  for (const name of KNOWN_PLUGIN_NAMES) {
    const plugin = ctx.plugin(name);
    if (plugin) found.push(plugin);
  }
  return found;
}
