// Entry point of the platform layer: picks the adapter for the runtime we run
// on, once. Everything else in rr reaches Bun/Deno only through this.

import { BunPlatform } from "./bun.ts";
import { DenoPlatform } from "./deno.ts";
import type { Platform } from "./types.ts";

export type * from "./types.ts";

let platform: Platform | undefined;

/** The platform for the current runtime (a cached singleton). */
export function getPlatform(): Platform {
  if (platform) return platform;
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (typeof g.Bun !== "undefined") platform = new BunPlatform();
  else if (typeof g.Deno !== "undefined") platform = new DenoPlatform();
  else throw new Error("Unsupported runtime: rr runs under Bun or Deno (run `bun src/main.ts` or `deno run -A src/main.ts`).");
  return platform;
}

// Shorthands for the most used capabilities (bound to the singleton).
export const spawn: Platform["spawn"] = (options) => getPlatform().spawn(options);
export const kill: Platform["kill"] = (pid, signal) => getPlatform().kill(pid, signal);
export const listen: Platform["listen"] = (address, handlers) => getPlatform().listen(address, handlers);
export const connect: Platform["connect"] = (address, handlers) => getPlatform().connect(address, handlers);
