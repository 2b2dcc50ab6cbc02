// The rpc plugin: serves goridge RPC on rpc.listen (default tcp://127.0.0.1:6001).
// Services: rpc (Version, Config), informer, resetter, and every plugin's rpcService().
import { ConfigError, RRError } from "../../errors.ts";
import type { Plugin, PluginContext } from "../types.ts";
import { informerService, listPlugins } from "../informer.ts";
import { resetterService } from "../resetter.ts";
import { DEFAULT_RPC_LISTEN, formatRpcAddress, parseRpcAddress } from "./address.ts";
import { RpcServer } from "./server.ts";
import type { RpcService } from "./types.ts";

export interface RpcSection {
  listen?: string;
  /** Largest accepted request payload in bytes. */
  max_message_size?: number;
}

/** The rpc section of the validated config, or undefined when there is none. */
export function rpcSection(ctx: Pick<PluginContext, "config">): RpcSection | undefined {
  return (ctx.config as unknown as Record<string, RpcSection | undefined>).rpc ?? undefined;
}

export class RpcPlugin implements Plugin {
  readonly name = "rpc";
  private server: RpcServer | undefined;
  private readonly registered = new Map<string, RpcService>();

  /** Serve a service under `name` (for code that is not a plugin; plugins implement rpcService()). */
  register(name: string, service: RpcService): void {
    this.registered.set(name, service);
  }

  /** Where rpc listens, as tcp://host:port or unix://path (the real port when 0 was configured). */
  get address(): string | undefined {
    const address = this.server?.address;
    return address ? formatRpcAddress(address) : undefined;
  }

  async start(ctx: PluginContext): Promise<void> {
    const section = rpcSection(ctx) ?? {};
    const listen = section.listen || DEFAULT_RPC_LISTEN;
    let address;
    try {
      address = parseRpcAddress(listen);
    } catch (error) {
      throw new ConfigError(`Cannot start rpc: rpc.listen: ${(error as Error).message}`);
    }
    const logger = ctx.logger("rpc");
    const plugins = () => listPlugins(ctx);
    const builtins: Record<string, RpcService> = {
      rpc: {
        Version: () => ctx.version,
        Config: () => new TextEncoder().encode(JSON.stringify(ctx.config)),
      },
      informer: informerService(plugins),
      resetter: resetterService(plugins, logger),
    };
    const fromPlugins = new Map<string, RpcService>();
    this.server = new RpcServer({
      platform: ctx.platform,
      logger,
      maxMessageBytes: section.max_message_size,
      service: (name) => {
        const known = this.registered.get(name) ?? builtins[name] ?? fromPlugins.get(name);
        if (known) return known;
        const plugin = plugins().find((p) => p.name === name && p !== this);
        const service = plugin?.rpcService?.();
        if (service) fromPlugins.set(name, service);
        return service;
      },
    });
    try {
      await this.server.listen(address);
    } catch (error) {
      this.server = undefined;
      throw new RRError(
        `rpc cannot listen on ${listen}: ${(error as Error).message}. ` +
          "Stop whatever uses that address or set rpc.listen to a free one (e.g. tcp://127.0.0.1:6002).",
      );
    }
    logger.info(`rpc listening on ${this.address}`);
  }

  async stop(force: boolean): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.close(force ? 0 : 5000);
  }
}
