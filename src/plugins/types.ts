// The contract between `rr serve` (the plugin host) and each plugin.
import type { Platform } from "../platform/types.ts";
import type { Logger } from "../logs/types.ts";
import type { RRConfig } from "../config/schema.ts";
import type { RpcService } from "./rpc/types.ts";

export interface PluginContext {
  /** The validated config (durations in ms, sizes in bytes, paths resolved against the workdir). */
  config: RRConfig;
  platform: Platform;
  /** A logger for a channel (plugin name); honours logs.channels. */
  logger(channel: string): Logger;
  /** Other plugins, by name (only those this one depends on are guaranteed started). */
  plugin<T extends Plugin>(name: string): T | undefined;
  /** Every plugin instantiated for this config (started or not), in start order (informer, resetter, status, metrics). */
  plugins?(): Plugin[];
  /** rr's version (package.json). */
  version: string;
}

/** Per-worker information shown by `rr workers` and informer.Workers. */
export interface WorkerInfo {
  pid: number;
  status: number;
  statusStr: string;
  numExecs: number;
  /** Unix ms. */
  created: number;
  /** RSS bytes. */
  memoryUsage: number;
  CPUPercent: number;
  command: string;
}

export interface Plugin {
  readonly name: string;
  /** Plugins that must be started before this one. */
  readonly dependsOn?: readonly string[];
  /** Start serving. Resolves once the plugin is ready (listening, workers allocated). */
  start(ctx: PluginContext): Promise<void>;
  /** Stop. force=false: drain in-flight work first; force=true: as fast as possible. */
  stop(force: boolean): Promise<void>;
  /** Plugins that run workers expose them. */
  workers?(): Promise<WorkerInfo[]>;
  /** Plugins that can be reset (rr reset). */
  reset?(): Promise<void>;
  /** Health for the status plugin: true when the plugin can serve. */
  ready?(): boolean;
  /** Methods served over goridge RPC as "<name>.<Method>" when the rpc plugin runs (e.g. metrics.Add). */
  rpcService?(): RpcService;
}
