// The plugin host behind `rr serve`: instantiates the plugin of every configured section,
// starts them in dependency order, stops them in reverse, and turns signals into a
// graceful (first signal) or forced (second signal) stop.
import { RRError } from "../errors.ts";
import type { Logger } from "../logs/types.ts";
import type { Platform, Signal } from "../platform/types.ts";
import type { RRConfig } from "../config/schema.ts";
import { ALWAYS_ON, PLUGINS, type PluginFactory } from "../plugins/registry.ts";
import type { Plugin, PluginContext } from "../plugins/types.ts";

export interface HostOptions {
  config: RRConfig;
  platform: Platform;
  logger(channel: string): Logger;
  version: string;
  /** Defaults to the registry; tests and embedders may pass their own. */
  plugins?: Record<string, PluginFactory>;
  alwaysOn?: Record<string, PluginFactory>;
  /** Config file name, for messages. */
  file?: string;
}

/** Sections that configure rr itself rather than a plugin. */
const HOST_SECTIONS = new Set(["version", "logs", "endure"]);

export class PluginHost {
  readonly #opts: HostOptions;
  readonly #log: Logger;
  /** Plugins in start order. */
  readonly #ordered: Plugin[];
  readonly #started: Plugin[] = [];
  #stopping: Promise<void> | undefined;
  /** Set by stop(): a start() still running starts nothing more. */
  #closing = false;

  constructor(opts: HostOptions) {
    this.#opts = opts;
    this.#log = opts.logger("rr");
    this.#ordered = orderPlugins(instantiate(opts), opts.file ?? ".rr.yaml");
  }

  /** Plugin names in start order. */
  get names(): string[] {
    return this.#ordered.map((plugin) => plugin.name);
  }

  plugin<T extends Plugin>(name: string): T | undefined {
    return this.#ordered.find((plugin) => plugin.name === name) as T | undefined;
  }

  /** Start every plugin in dependency order. On failure, stops what started and throws RRError. */
  async start(): Promise<void> {
    const ctx: PluginContext = {
      config: this.#opts.config,
      platform: this.#opts.platform,
      logger: this.#opts.logger,
      plugin: <T extends Plugin>(name: string) => this.plugin<T>(name),
      plugins: () => [...this.#ordered],
      version: this.#opts.version,
    };
    for (const plugin of this.#ordered) {
      if (this.#closing) return;
      try {
        await plugin.start(ctx);
      } catch (error) {
        this.#log.error(`plugin ${plugin.name} failed to start; stopping the others`, { error: errorText(error) });
        await this.stop(true);
        // Plugins' own messages often already say "Cannot start ..."; do not say it twice.
        const text = errorText(error);
        throw new RRError(/^Cannot /.test(text) ? text : `Cannot start plugin ${plugin.name}: ${text}`);
      }
      if (this.#closing) {
        // A signal arrived while this plugin was starting; stop() did not see it.
        await plugin.stop(true).catch(() => {});
        return;
      }
      this.#started.push(plugin);
      this.#log.debug(`plugin ${plugin.name} started`);
    }
  }

  /** True once stop() was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Stop started plugins in reverse order. force=false lets them drain. A forced stop
   * while a graceful one runs asks the plugins not yet stopped again, with force=true.
   */
  stop(force: boolean): Promise<void> {
    this.#closing = true;
    if (this.#stopping && !force) return this.#stopping;
    const run = async () => {
      for (const plugin of [...this.#started].reverse()) {
        try {
          await plugin.stop(force);
          this.#log.debug(`plugin ${plugin.name} stopped`);
        } catch (error) {
          this.#log.error(`plugin ${plugin.name} failed to stop`, { error: errorText(error) });
        }
        const index = this.#started.indexOf(plugin);
        if (index >= 0) this.#started.splice(index, 1);
      }
    };
    const done = run();
    this.#stopping = done;
    return done;
  }
}

/** Last resort before exiting with plugins that would not stop: SIGKILL every worker's process group. */
export async function killAllWorkers(host: PluginHost, platform: Platform): Promise<number> {
  let killed = 0;
  for (const name of host.names) {
    const plugin = host.plugin(name);
    if (!plugin?.workers) continue;
    let workers: Awaited<ReturnType<NonNullable<Plugin["workers"]>>> = [];
    const listed = plugin.workers().then((list) => {
      workers = list;
    });
    await within(listed, 1_000);
    for (const worker of workers) {
      // Workers run in their own process group (goridge spec §2.6); fall back to the pid alone.
      if (platform.kill(-worker.pid, "SIGKILL") || platform.kill(worker.pid, "SIGKILL")) killed++;
    }
  }
  return killed;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function instantiate(opts: HostOptions): Map<string, Plugin> {
  const factories = opts.plugins ?? PLUGINS;
  const alwaysOn = opts.alwaysOn ?? ALWAYS_ON;
  const plugins = new Map<string, Plugin>();
  const config = opts.config as Record<string, unknown>;
  for (const section of Object.keys(config)) {
    if (HOST_SECTIONS.has(section) || config[section] === undefined) continue;
    const factory = factories[section];
    if (factory) plugins.set(section, factory(section));
  }
  // Always-on plugins join once all their dependencies are present (repeat: they may depend on each other).
  const pending = new Map(Object.entries(alwaysOn).filter(([name]) => !plugins.has(name)).map(([name, f]) => [name, f(name)]));
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, plugin] of pending) {
      if ((plugin.dependsOn ?? []).every((dep) => plugins.has(dep))) {
        plugins.set(name, plugin);
        pending.delete(name);
        changed = true;
      }
    }
  }
  const file = opts.file ?? ".rr.yaml";
  for (const plugin of plugins.values()) {
    for (const dep of plugin.dependsOn ?? []) {
      if (plugins.has(dep)) continue;
      const fix = dep in factories ? `add a \`${dep}:\` section to ${file}` : `rr has no plugin named ${dep}`;
      throw new RRError(`Cannot start plugin ${plugin.name}: it needs the ${dep} plugin; ${fix}`);
    }
  }
  return plugins;
}

/** Topological order (dependencies first), keeping config order among independent plugins. */
export function orderPlugins(plugins: Map<string, Plugin>, file = ".rr.yaml"): Plugin[] {
  const ordered: Plugin[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (plugin: Plugin, trail: string[]) => {
    const seen = state.get(plugin.name);
    if (seen === "done") return;
    if (seen === "visiting") {
      const cycle = [...trail.slice(trail.indexOf(plugin.name)), plugin.name].join(" → ");
      throw new RRError(`Cannot start plugins from ${file}: their dependencies form a cycle: ${cycle}`);
    }
    state.set(plugin.name, "visiting");
    for (const dep of plugin.dependsOn ?? []) {
      const target = plugins.get(dep);
      if (!target) throw new RRError(`Cannot start plugin ${plugin.name}: it needs the ${dep} plugin, which is not configured in ${file}`);
      visit(target, [...trail, plugin.name]);
    }
    state.set(plugin.name, "done");
    ordered.push(plugin);
  };
  for (const plugin of plugins.values()) visit(plugin, []);
  return ordered;
}

export interface ServeOptions {
  host: PluginHost;
  platform: Platform;
  logger: Logger;
  /** endure.grace_period in ms: how long the first signal's graceful stop may take. */
  gracePeriodMs: number;
}

const STOP_SIGNALS: Signal[] = ["SIGINT", "SIGTERM", "SIGQUIT"];

/**
 * How long a forced stop may take before rr kills the workers itself and exits:
 * the grace period, clamped to 1-5 s (a forced stop should be quick).
 */
export function forcedStopTimeoutMs(gracePeriodMs: number): number {
  return Math.min(5_000, Math.max(1_000, gracePeriodMs));
}

/** Resolves true when `work` settles within `ms`, false otherwise. */
function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<boolean>((done) => {
    timer = setTimeout(() => done(false), ms);
  });
  return Promise.race([work.then(() => true, () => true), expired]).finally(() => clearTimeout(timer));
}

/**
 * Run until SIGINT/SIGTERM/SIGQUIT. The first signal stops the plugins gracefully within the
 * grace period, then forcibly, and resolves 0; a second signal forces the stop and resolves 1.
 * A forced stop that does not finish within forcedStopTimeoutMs() kills the workers and resolves 1.
 */
export function serveUntilSignal(opts: ServeOptions): Promise<number> {
  const { host, platform, logger, gracePeriodMs } = opts;
  const forcedMs = forcedStopTimeoutMs(gracePeriodMs);
  return new Promise<number>((resolve) => {
    // Signal handlers alone do not keep every runtime's event loop alive.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const removers: Array<() => void> = [];
    let signals = 0;
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      clearInterval(keepAlive);
      for (const remove of removers.splice(0)) remove();
      resolve(code);
    };
    const forceStop = async (): Promise<boolean> => {
      const done = await within(host.stop(true), forcedMs);
      if (!done) {
        const killed = await killAllWorkers(host, platform);
        logger.error(`plugins did not stop within ${forcedMs / 1000}s of a forced stop; killed ${killed} workers, exiting anyway`);
      }
      return done;
    };
    const onSignal = async (signal: Signal) => {
      signals++;
      if (signals === 1) {
        logger.info(`received ${signal}; stopping gracefully (grace period ${gracePeriodMs / 1000}s, send it again to force)`);
        const graceful = await within(host.stop(false), gracePeriodMs);
        if (signals > 1) return;
        if (!graceful) {
          logger.warn(`grace period of ${gracePeriodMs / 1000}s expired; stopping forcibly`);
          if (!(await forceStop())) return finish(1);
        }
        logger.info("rr stopped");
        finish(0);
      } else if (signals === 2) {
        logger.warn(`received ${signal} again; stopping forcibly`);
        await forceStop();
        finish(1);
      }
    };
    for (const signal of STOP_SIGNALS) removers.push(platform.onSignal(signal, () => void onSignal(signal)));
  });
}
