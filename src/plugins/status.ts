// The status plugin (shared/spec/plugins.md §4): GET /health (liveness), /ready (readiness)
// and /jobs on status.address, for orchestrators. `?plugin=` may repeat; none = every plugin
// with workers. health: ≥1 worker ready or working; ready: ≥1 worker ready (idle).
import { RRError } from "../errors.ts";
import type { HttpServer } from "../platform/types.ts";
import { WorkerState } from "../worker/types.ts";
import type { Plugin, PluginContext } from "./types.ts";
import { listPlugins } from "./informer.ts";
import { parseHostPort } from "./metrics/address.ts";
import { ProtoReader, ProtoWriter } from "../goridge/proto.ts";
import { RpcError, type RpcCall, type RpcService } from "./rpc/types.ts";

interface StatusSection {
  address: string;
  unavailable_status_code?: number;
  /** ms */
  check_timeout?: number;
}

/** One entry of the /health and /ready body. */
export interface StatusEntry {
  plugin_name: string;
  error_message: string;
  status_code: number;
}

type Check = "health" | "ready";

/** Plugins the status endpoints check: those with workers or a ready() probe. */
function providers(plugins: Plugin[]): Plugin[] {
  return plugins.filter((p) => typeof p.workers === "function" || typeof p.ready === "function");
}

async function probe(plugin: Plugin, check: Check): Promise<boolean> {
  if (plugin.workers) {
    const workers = await plugin.workers();
    return workers.some((w) => w.status === WorkerState.Ready || (check === "health" && w.status === WorkerState.Working));
  }
  return plugin.ready ? plugin.ready() : false;
}

export class StatusPlugin implements Plugin {
  readonly name = "status";
  private server: HttpServer | undefined;
  private shuttingDown = false;
  private readonly removeSignalHandlers: Array<() => void> = [];
  private drainWatch: ReturnType<typeof setInterval> | undefined;
  private drainLimitMs = 60_000;
  private ctx: PluginContext | undefined;
  private unavailable = 503;

  /** The port actually bound (the real one when 0 was configured). */
  get port(): number | undefined {
    return this.server?.port;
  }

  async start(ctx: PluginContext): Promise<void> {
    const section = (ctx.config as unknown as Record<string, StatusSection | undefined>).status;
    if (!section?.address) throw new RRError('Cannot start status: status.address is required, e.g. address: "127.0.0.1:2114"');
    const unavailable = section.unavailable_status_code ?? 503;
    const timeoutMs = section.check_timeout ?? 60_000;
    this.ctx = ctx;
    this.drainLimitMs = timeoutMs;
    this.unavailable = unavailable;
    let hostPort;
    try {
      hostPort = parseHostPort(section.address, "status.address");
    } catch (error) {
      throw new RRError(`Cannot start status: ${(error as Error).message}`);
    }
    // rr is stopping once a stop signal arrives, before this plugin's own stop() runs.
    for (const signal of ["SIGINT", "SIGTERM", "SIGQUIT"] as const) {
      this.removeSignalHandlers.push(ctx.platform.onSignal(signal, () => (this.shuttingDown = true)));
    }
    const handler = (request: Request) => this.handle(ctx, request, unavailable, timeoutMs);
    try {
      this.server = await ctx.platform.serveHttp({ ...hostPort, handler });
    } catch (error) {
      this.removeSignals();
      throw new RRError(`status cannot listen on ${section.address}: ${(error as Error).message}. Set status.address to a free host:port.`);
    }
    ctx.logger("status").info(`status listening on http://${section.address.replace(/:\d+$/, `:${this.server.port}`)}`);
  }

  /**
   * Plugins stop in reverse start order, so status would go first; but orchestrators must see
   * "shutting down" while the worker plugins drain. Unless forced, the endpoint stays up (answering
   * 200/503 "service is shutting down") until no plugin has workers left, bounded by check_timeout.
   */
  async stop(force: boolean): Promise<void> {
    this.shuttingDown = true;
    this.removeSignals();
    const server = this.server;
    if (!server) return;
    if (force) {
      this.server = undefined;
      clearInterval(this.drainWatch);
      await server.stop(true);
      return;
    }
    if (this.drainWatch !== undefined) return;
    const deadline = Date.now() + this.drainLimitMs;
    this.drainWatch = setInterval(async () => {
      const busy = await this.anyWorkers().catch(() => false);
      if (busy && Date.now() < deadline) return;
      clearInterval(this.drainWatch);
      if (this.server === server) this.server = undefined;
      await server.stop(true);
    }, 100);
  }

  private async anyWorkers(): Promise<boolean> {
    if (!this.ctx) return false;
    for (const plugin of listPlugins(this.ctx)) {
      if (plugin.workers && (await plugin.workers()).length > 0) return true;
    }
    return false;
  }

  /**
   * status.Status / status.Ready (protobuf status.v1: Request{plugin=1} → Response{code=1, message=2};
   * JSON callers send {"plugin": "http"} and get {"code", "message"}). Unknown plugin: "no such plugin: X".
   */
  rpcService(): RpcService {
    const answer = async (call: RpcCall, check: Check) => {
      const plugin = rpcPluginArg(call);
      const target = this.ctx ? providers(listPlugins(this.ctx)).find((p) => p.name === plugin) : undefined;
      if (!target) throw new RpcError(`no such plugin: ${plugin}`);
      const ok = await probe(target, check).catch(() => false);
      const code = ok ? 200 : this.unavailable;
      const message = ok ? "" : "internal server error, see logs";
      if (call.codec !== 0x80) return { code, message };
      const w = new ProtoWriter().int(1, code);
      if (message) w.string(2, message);
      return w.finish();
    };
    return { Status: (call) => answer(call, "health"), Ready: (call) => answer(call, "ready") };
  }

  private removeSignals(): void {
    for (const remove of this.removeSignalHandlers.splice(0)) remove();
  }

  private async handle(ctx: PluginContext, request: Request, unavailable: number, timeoutMs: number): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "");
    if (path !== "/health" && path !== "/ready" && path !== "/jobs") {
      return new Response("not found: use /health, /ready or /jobs\n", { status: 404 });
    }
    if (this.shuttingDown) {
      return path === "/health"
        ? new Response("service is shutting down", { status: 200 })
        : new Response("service is shutting down", { status: 503 });
    }
    if (path === "/jobs") return this.jobs(ctx);
    const check: Check = path === "/health" ? "health" : "ready";
    const all = providers(listPlugins(ctx));
    const names = url.searchParams.getAll("plugin");
    // Unknown names are left out, as RoadRunner does.
    const selected = names.length ? names.flatMap((n) => all.filter((p) => p.name === n)) : all;
    let status = 200;
    const entries: StatusEntry[] = await Promise.all(selected.map(async (plugin): Promise<StatusEntry> => {
      let ok: boolean;
      let error = "";
      try {
        ok = await withTimeout(probe(plugin, check), timeoutMs);
      } catch (e) {
        ok = false;
        error = (e as Error).message;
      }
      if (ok) return { plugin_name: plugin.name, error_message: "", status_code: 200 };
      status = unavailable;
      return { plugin_name: plugin.name, error_message: error || "internal server error, see logs", status_code: unavailable };
    }));
    return Response.json(entries, { status });
  }

  private async jobs(ctx: PluginContext): Promise<Response> {
    const out: unknown[] = [];
    for (const plugin of listPlugins(ctx)) {
      const p = plugin as Plugin & { jobsState?: () => Promise<Array<Record<string, unknown>>> };
      if (typeof p.jobsState !== "function") continue;
      for (const s of await p.jobsState()) {
        out.push({
          pipeline: s.Pipeline,
          priority: s.Priority,
          ready: s.Ready,
          queue: s.Queue,
          active: s.Active,
          delayed: s.Delayed,
          reserved: s.Reserved,
          driver: s.Driver,
          error_message: s.ErrorMessage ?? "",
        });
      }
    }
    return Response.json(out);
  }
}

function rpcPluginArg(call: RpcCall): string {
  if (call.codec === 0x80) {
    const r = new ProtoReader(call.body);
    let plugin = "";
    while (r.next()) {
      if (r.field === 1) plugin = r.string();
      else r.skip();
    }
    return plugin;
  }
  const arg = call.json<{ plugin?: unknown } | string | undefined>();
  const plugin = typeof arg === "string" ? arg : arg?.plugin;
  if (typeof plugin !== "string") throw new RpcError(`${call.method}: expected {"plugin": "<name>"} as the argument`);
  return plugin;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`check timed out after ${ms} ms (status.check_timeout)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
