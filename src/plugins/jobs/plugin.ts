// The jobs plugin: pipelines backed by queue drivers (memory, amqp), one shared priority
// queue, pollers executing jobs on the jobs worker pool, and the `jobs` RPC service
// spoken by spiral/roadrunner-jobs producers (shared/spec/plugins.md §1).
import { ConfigError, RRError } from "../../errors.ts";
import type { Logger } from "../../logs/types.ts";
import type { Pool } from "../../pool/types.ts";
import type { PoolConfig } from "../../config/sections/pool.ts";
import type { JobsConfig } from "../../config/sections/jobs.ts";
import type { Plugin, PluginContext, WorkerInfo } from "../types.ts";
import type { RpcService } from "../rpc/types.ts";
import { Consumer } from "./consumer.ts";
import { Pipeline } from "./pipeline.ts";
import { JobQueue } from "./queue.ts";
import { jobsRpcService } from "./rpc.ts";
import { DRIVERS } from "./drivers/index.ts";
import type { Driver, DriverContext, JobMessage, PipelineState } from "./types.ts";

/** What jobs needs from the server plugin. */
interface PoolProvider extends Plugin {
  newPool(name: string, config: PoolConfig, env: Record<string, string>): Promise<Pool>;
}

/** A pipeline's state as informer.Jobs and `rr workers` show it (Go field names, no JSON tags). */
export interface JobsStateJson {
  Pipeline: string;
  Driver: string;
  Queue: string;
  Active: number;
  Delayed: number;
  Reserved: number;
  Ready: boolean;
  Priority: number;
  ErrorMessage: string;
}

export class JobsPlugin implements Plugin {
  readonly name = "jobs";
  readonly dependsOn = ["server"] as const;

  private logger!: Logger;
  private config!: JobsConfig;
  private driverCtx!: DriverContext;
  private queue!: JobQueue;
  private pool: Pool | undefined;
  private consumer: Consumer | undefined;
  private readonly drivers = new Map<string, Driver>();
  private readonly declaring = new Set<string>();
  private pushOk = 0;
  private pushErr = 0;
  private readonly factories = new Map(DRIVERS.map((f) => [f.name, f]));

  async start(ctx: PluginContext): Promise<void> {
    try {
      await this.startPipelinesAndPool(ctx);
    } catch (err) {
      // The host only stops plugins that started: close what we opened (broker connections).
      await this.stop(true).catch(() => undefined);
      throw err;
    }
  }

  private async startPipelinesAndPool(ctx: PluginContext): Promise<void> {
    this.logger = ctx.logger("jobs");
    const config = (ctx.config as unknown as { jobs?: JobsConfig }).jobs;
    if (!config) throw new ConfigError("the config has no jobs section");
    this.config = config;
    this.queue = new JobQueue(config.pipeline_size);
    this.driverCtx = { queue: this.queue, logger: this.logger, config: ctx.config, timeoutMs: config.timeout };

    for (const [name, options] of Object.entries(config.pipelines)) {
      const pipeline = new Pipeline(name, options as Record<string, unknown>);
      const factory = this.factories.get(pipeline.driver);
      if (!factory) {
        this.logger.error(
          `Pipeline "${name}" uses the unknown driver "${pipeline.driver}" and is skipped; ` +
            `available drivers: ${[...this.factories.keys()].join(", ")}`,
        );
        continue;
      }
      this.drivers.set(name, await factory.create(pipeline, this.driverCtx));
    }
    for (const name of config.consume) {
      const driver = this.drivers.get(name);
      if (driver) await this.withTimeout(`start pipeline "${name}"`, driver.run());
      else {
        // Allowed: a pipeline declared later over RPC starts consuming at once.
        this.logger.info(`jobs.consume names "${name}", which is not under jobs.pipelines; it starts when declared`);
      }
    }

    const server = ctx.plugin<PoolProvider>("server");
    if (!server?.newPool) throw new RRError("the server plugin is not running; add a server section with a worker command");
    this.pool = await server.newPool("jobs", config.pool, { RR_MODE: "jobs" });
    this.consumer = new Consumer(this.queue, this.pool, this.logger);
    this.consumer.start(pollerCount(config.pool, ctx.platform.cpuCount()));
    this.logger.debug("jobs started", { pipelines: [...this.drivers.keys()], consume: config.consume });
  }

  async stop(force: boolean): Promise<void> {
    // Stop taking jobs first so in-flight ones can finish, then close the brokers, then the workers.
    if (this.consumer) {
      if (force) void this.consumer.stop();
      else await this.consumer.stop();
    }
    await this.warnAboutDroppedJobs();
    await Promise.allSettled([...this.drivers.values()].map((d) => this.withTimeout("stop pipeline", d.stop())));
    this.drivers.clear();
    await this.pool?.destroy();
    this.pool = undefined;
  }

  /** The memory queue is volatile: say how many jobs a shutdown loses. */
  private async warnAboutDroppedJobs(): Promise<void> {
    for (const driver of this.drivers.values()) {
      if (driver.pipeline.driver !== "memory") continue;
      const state = await driver.state().catch(() => undefined);
      const left = state ? state.active + state.delayed : 0;
      if (left > 0) {
        this.logger.warn(
          `Pipeline "${driver.pipeline.name}" still held ${left} jobs in memory; they are dropped at shutdown ` +
            "(use a broker such as amqp for jobs that must survive a restart)",
        );
      }
    }
  }

  workers(): Promise<WorkerInfo[]> {
    return this.pool ? this.pool.workers() : Promise.resolve([]);
  }

  reset(): Promise<void> {
    return this.pool ? this.pool.reset() : Promise.resolve();
  }

  ready(): boolean {
    return this.pool?.ready() ?? false;
  }

  rpcService(): RpcService {
    return jobsRpcService(this);
  }

  /** Pipelines' states for informer.Jobs and `rr workers`. */
  async jobsState(): Promise<JobsStateJson[]> {
    const states = await this.stat();
    return states.map((s) => ({
      Pipeline: s.pipeline,
      Driver: s.driver,
      Queue: s.queue,
      Active: s.active,
      Delayed: s.delayed,
      Reserved: s.reserved,
      Ready: s.ready,
      Priority: s.priority,
      ErrorMessage: s.errorMessage ?? "",
    }));
  }

  /**
   * Since start, for metrics (RoadRunner's rr_jobs_jobs_ok/err, rr_jobs_push_ok/err): jobs a
   * worker answered / whose exec failed, and jobs pushed / refused.
   */
  counters(): { ok: number; err: number; pushOk: number; pushErr: number } {
    const stats = this.consumer?.stats ?? { ok: 0, err: 0 };
    return { ok: stats.ok, err: stats.err, pushOk: this.pushOk, pushErr: this.pushErr };
  }

  // ---- operations behind the RPC service ----

  /** Push one job; priority 0 takes the pipeline's. */
  push(job: JobMessage): Promise<void> {
    return this.pushBatch([job]);
  }

  /**
   * Push many jobs. Unlike RoadRunner (one by one), all are handed to their drivers at once so
   * broker confirms overlap; pipelines are checked first, so an unknown one pushes nothing.
   */
  async pushBatch(jobs: JobMessage[]): Promise<void> {
    let drivers: Driver[];
    try {
      drivers = jobs.map((job) => this.driver(job.pipeline));
    } catch (err) {
      this.pushErr += jobs.length;
      throw err;
    }
    const pushes: Promise<void>[] = [];
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i];
      if (job.priority === 0) job.priority = drivers[i].pipeline.priority();
      pushes.push(drivers[i].push(job).then(() => void this.pushOk++, (err) => {
        this.pushErr++;
        throw err;
      }));
    }
    const what = jobs.length === 1 ? `push to pipeline "${jobs[0].pipeline}"` : `push ${jobs.length} jobs`;
    await this.withTimeout(what, Promise.all(pushes));
  }

  async pause(names: readonly string[]): Promise<void> {
    for (const name of names) await this.withTimeout(`pause pipeline "${name}"`, this.driver(name).pause());
  }

  async resume(names: readonly string[]): Promise<void> {
    for (const name of names) await this.withTimeout(`resume pipeline "${name}"`, this.driver(name).resume());
  }

  list(): string[] {
    return [...this.drivers.keys()];
  }

  /** Create a pipeline at runtime; it consumes at once only when jobs.consume names it. */
  async declare(options: Record<string, string>): Promise<void> {
    const pipeline = new Pipeline(options.name ?? "", options);
    if (!pipeline.name) throw new RRError("Cannot declare a pipeline: the name is missing");
    if (!pipeline.driver) {
      throw new RRError(`Cannot declare pipeline "${pipeline.name}": no associated driver (set "driver")`);
    }
    if (this.declaring.has(pipeline.name)) {
      throw new RRError(`Cannot declare pipeline "${pipeline.name}": it is being declared right now`);
    }
    const existing = this.drivers.get(pipeline.name);
    if (existing) {
      throw new RRError(
        `Cannot declare pipeline "${pipeline.name}": pipeline already exists, name: ${pipeline.name}, driver: ${existing.pipeline.driver}`,
      );
    }
    const factory = this.factories.get(pipeline.driver);
    if (!factory) {
      // RoadRunner v5 silently succeeds here; saying so is kinder.
      throw new RRError(
        `Cannot declare pipeline "${pipeline.name}": unknown driver "${pipeline.driver}"; ` +
          `available drivers: ${[...this.factories.keys()].join(", ")}`,
      );
    }
    // Reserve the name while the driver loads, so a concurrent Declare of it is refused.
    this.declaring.add(pipeline.name);
    let driver: Driver;
    try {
      driver = await factory.create(pipeline, this.driverCtx);
    } finally {
      this.declaring.delete(pipeline.name);
    }
    this.drivers.set(pipeline.name, driver);
    if (this.config.consume.includes(pipeline.name)) {
      await this.withTimeout(`start pipeline "${pipeline.name}"`, driver.run());
    }
  }

  /** Remove pipelines; returns the names actually destroyed. */
  async destroy(names: readonly string[]): Promise<string[]> {
    const destroyed: string[] = [];
    for (const name of names) {
      const driver = this.driver(name);
      this.drivers.delete(name);
      await this.withTimeout(`destroy pipeline "${name}"`, driver.stop());
      destroyed.push(name);
    }
    return destroyed;
  }

  async stat(): Promise<PipelineState[]> {
    return await Promise.all(
      [...this.drivers.values()].map((d) => this.withTimeout(`read the state of pipeline "${d.pipeline.name}"`, d.state())),
    );
  }

  private driver(name: string): Driver {
    const driver = this.drivers.get(name);
    if (!driver) throw new RRError(`no such pipeline, requested: ${name}`);
    return driver;
  }

  /** Every driver operation is bounded by jobs.timeout. */
  private withTimeout<T>(what: string, op: Promise<T>): Promise<T> {
    const ms = this.config?.timeout ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RRError(`Cannot ${what}: no answer within jobs.timeout (${ms / 1000}s)`)),
        ms,
      );
    });
    return Promise.race([op, timeout]).finally(() => clearTimeout(timer));
  }
}

/** RoadRunner: pollers = num_workers + 2 (user's num_pollers is ignored). */
function pollerCount(pool: PoolConfig, cpus: number): number {
  const workers = pool.num_workers > 0 ? pool.num_workers : cpus;
  const extra = pool.dynamic_allocator ? pool.dynamic_allocator.max_workers : 0;
  return workers + extra + 2;
}
