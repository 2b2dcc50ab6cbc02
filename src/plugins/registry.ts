// Which plugin serves which config section. `rr serve` instantiates the plugin of every
// section present in .rr.yaml (and every always-on plugin whose dependencies run), then
// starts them in dependency order. To add a plugin: import its factory and add one line.
import type { Plugin } from "./types.ts";
import { RpcPlugin } from "./rpc/plugin.ts";
import { StatusPlugin } from "./status.ts";
import { MetricsPlugin } from "./metrics/plugin.ts";
import { JobsPlugin } from "./jobs/plugin.ts";
import { HttpPlugin } from "./http/plugin.ts";
import { ServerPlugin } from "./server.ts";

/** Creates a plugin for a config section (the argument is the section name). */
export type PluginFactory = (section: string) => Plugin;

/** Plugins started when their config section exists, keyed by section name. */
export const PLUGINS: Record<string, PluginFactory> = {
  server: () => new ServerPlugin(),
  rpc: () => new RpcPlugin(),
  status: () => new StatusPlugin(),
  metrics: () => new MetricsPlugin(),
  jobs: () => new JobsPlugin(),
  http: () => new HttpPlugin(),
};

/**
 * Plugins without a config section of their own (e.g. informer, resetter), keyed by plugin
 * name. Each starts when every plugin in its `dependsOn` is configured, and is skipped otherwise.
 */
export const ALWAYS_ON: Record<string, PluginFactory> = {};
