// The `resetter` RPC service (shared/spec/goridge.md §4.5, §4.8): lists resettable plugins and
// resets one (every worker replaced, in-flight work allowed to finish). Built into the rpc plugin.
import type { Logger } from "../logs/types.ts";
import type { Plugin } from "./types.ts";
import { RpcError, type RpcService } from "./rpc/types.ts";

export function resettablePlugins(plugins: Plugin[]): Plugin[] {
  return plugins.filter((p) => typeof p.reset === "function");
}

export function resetterService(plugins: () => Plugin[], logger: Logger): RpcService {
  return {
    List: () => resettablePlugins(plugins()).map((p) => p.name),
    Reset: async (call) => {
      const name = call.json<unknown>();
      if (typeof name !== "string") throw new RpcError("resetter.Reset: expected a plugin name (a JSON string) as the argument");
      const plugin = resettablePlugins(plugins()).find((p) => p.name === name);
      if (!plugin?.reset) throw new RpcError(`no such plugin: ${name}`);
      const started = performance.now();
      logger.info(`resetting ${name}`);
      await plugin.reset();
      logger.info(`${name} reset`, { elapsed_ms: Math.round(performance.now() - started) });
      return true;
    },
  };
}
