// The metrics plugin: Prometheus text exposition on metrics.address, every path.
//
// Hooks for other plugins (all optional: a plugin must work without metrics):
//   const metrics = ctx.plugin<MetricsPlugin>("metrics");
//   metrics?.observeHttpRequest(status, seconds); // once per finished HTTP request
//   metrics?.countNoFreeWorkers();                  // a request found no free worker (queue full, allocate timeout)
// They feed rr_http_request_total{status}, rr_http_request_duration_seconds{status} and
// rr_http_no_free_workers_total. Pool metrics need nothing from plugins: they are read at
// scrape time from workers() and the pool's stats() (a `poolStats()` method or a `pool` property).
import { RRError } from "../../errors.ts";
import type { HttpServer } from "../../platform/types.ts";
import type { Plugin, PluginContext } from "../types.ts";
import { listPlugins, pluginsWithWorkers } from "../informer.ts";
import type { RpcService } from "../rpc/types.ts";
import { parseHostPort } from "./address.ts";
import { CONTENT_TYPE, ExpositionWriter } from "./exposition.ts";
import { poolStatsOf, writeJobMetrics, writePoolMetrics } from "./pools.ts";
import { type CollectorSpec, Registry } from "./registry.ts";
import { metricsRpcService } from "./rpc.ts";

/** Buckets of rr_http_request_duration_seconds, as RoadRunner's http_metrics middleware. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

interface MetricsSection {
  address?: string;
  collect?: Record<string, CollectorSpec>;
}

export class MetricsPlugin implements Plugin {
  readonly name = "metrics";
  /** Application metrics (metrics.collect and metrics.Declare). */
  readonly registry = new Registry();
  /** rr's own request metrics (not reachable over RPC). */
  private readonly builtin = new Registry();
  private server: HttpServer | undefined;
  private ctx: PluginContext | undefined;
  private readonly startedAt = Date.now();
  private httpObserved = false;

  constructor() {
    this.builtin.declare("rr_http_request_total", { type: "counter", help: "Total number of handled http requests after server restart.", labels: ["status"] });
    this.builtin.declare("rr_http_request_duration_seconds", {
      type: "histogram",
      help: "HTTP request duration.",
      labels: ["status"],
      buckets: HTTP_DURATION_BUCKETS,
    });
    this.builtin.declare("rr_http_no_free_workers_total", { type: "counter", help: "Total number of NoFreeWorkers occurrences." });
  }

  /** The port actually bound (the real one when 0 was configured). */
  get port(): number | undefined {
    return this.server?.port;
  }

  observeHttpRequest(status: number, seconds: number): void {
    this.httpObserved = true;
    const code = [String(status)];
    this.builtin.add("rr_http_request_total", 1, code);
    this.builtin.observe("rr_http_request_duration_seconds", seconds, code);
  }

  countNoFreeWorkers(): void {
    this.httpObserved = true;
    this.builtin.add("rr_http_no_free_workers_total", 1);
  }

  rpcService(): RpcService {
    return metricsRpcService(this.registry);
  }

  async start(ctx: PluginContext): Promise<void> {
    this.ctx = ctx;
    const section = (ctx.config as unknown as Record<string, MetricsSection | undefined>).metrics ?? {};
    for (const [name, spec] of Object.entries(section.collect ?? {})) {
      try {
        this.registry.declare(name, spec);
      } catch (error) {
        throw new RRError(`Cannot start metrics: metrics.collect.${name}: ${(error as Error).message}`);
      }
    }
    const address = section.address ?? "127.0.0.1:2112";
    let hostPort;
    try {
      hostPort = parseHostPort(address, "metrics.address");
    } catch (error) {
      throw new RRError(`Cannot start metrics: ${(error as Error).message}`);
    }
    try {
      this.server = await ctx.platform.serveHttp({ ...hostPort, handler: () => this.scrape() });
    } catch (error) {
      throw new RRError(
        `metrics cannot listen on ${address}: ${(error as Error).message}. Set metrics.address to a free host:port.`,
      );
    }
    ctx.logger("metrics").info(`metrics listening on http://${address.replace(/:\d+$/, `:${this.server.port}`)}/metrics`);
  }

  async stop(_force: boolean): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop(true);
  }

  /** The whole exposition text. */
  async render(): Promise<string> {
    const out = new ExpositionWriter();
    const ctx = this.ctx;
    if (ctx) {
      const rss = await ctx.platform.processMemory(ctx.platform.pid);
      out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.").sample("process_resident_memory_bytes", [], rss ?? 0);
      out.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.")
        .sample("process_start_time_seconds", [], Math.floor(this.startedAt / 1000));
      for (const plugin of pluginsWithWorkers(listPlugins(ctx))) {
        let workers;
        try {
          workers = await plugin.workers!();
        } catch {
          continue; // a pool that is restarting reports next time
        }
        writePoolMetrics(out, plugin.name, workers, poolStatsOf(plugin));
        writeJobMetrics(out, plugin);
      }
    }
    // Request metrics only where there is an http plugin to feed them.
    if (this.httpObserved || (ctx && listPlugins(ctx).some((p) => p.name === "http"))) this.builtin.write(out);
    this.registry.write(out);
    return out.text();
  }

  private async scrape(): Promise<Response> {
    return new Response(await this.render(), { headers: { "content-type": CONTENT_TYPE } });
  }
}
