// The `server` plugin (shared/spec/plugins.md §7.3, goridge spec §2.6–2.7): builds worker
// commands and environments, owns the socket relays, runs on_init once, and hands out
// worker pools to the plugins that run PHP workers:
//   const pool = await server.newPool("http", config.http.pool, { RR_MODE: "http" });
import { readFileSync } from "node:fs";
import process from "node:process";
import * as v from "valibot";
import { expandString } from "../config/expand.ts";
import { type PoolConfig, PoolSchema } from "../config/sections/pool.ts";
import { type OnInitConfig, type ServerConfig, splitCommand } from "../config/sections/server.ts";
import { ConfigError, RRError } from "../errors.ts";
import type { Logger } from "../logs/types.ts";
import type { Platform } from "../platform/types.ts";
import { createPool, formatDuration } from "../pool/index.ts";
import type { Pool } from "../pool/types.ts";
import { openSocketRelay, type SocketRelayServer, spawnWorker } from "../worker/index.ts";
import type { Plugin, PluginContext } from "./types.ts";

/** The uid/gid workers run as (only when rr is root and server.user/group is set). */
export interface Credentials {
  uid?: number;
  gid?: number;
}

export class ServerPlugin implements Plugin {
  readonly name = "server";

  private ctx: PluginContext | undefined;
  private config: ServerConfig | undefined;
  private logger: Logger | undefined;
  private baseEnv: Record<string, string> = {};
  private credentials: Credentials = {};
  private readonly relays = new Map<string, Promise<SocketRelayServer>>();
  private readonly pools = new Set<Pool>();

  async start(ctx: PluginContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger("server");
    const config = ctx.config.server;
    if (!config) {
      throw new ConfigError("The server section is missing: add `server: { command: \"php worker.php\" }` to .rr.yaml");
    }
    this.config = config;
    this.credentials = await resolveCredentials(config.user, config.group, "server", ctx.platform);
    this.baseEnv = buildWorkerEnv(config, ctx);
    if (config.on_init) await runOnInit(config.on_init, ctx.platform, this.logger);
  }

  async stop(_force: boolean): Promise<void> {
    // Owners destroy their pools; this is the safety net so no worker outlives rr.
    await Promise.allSettled([...this.pools].map((pool) => pool.destroy()));
    this.pools.clear();
    const relays = await Promise.allSettled([...this.relays.values()]);
    this.relays.clear();
    await Promise.allSettled(relays.flatMap((r) => (r.status === "fulfilled" ? [r.value.close()] : [])));
  }

  /**
   * Start a pool of workers for a plugin. `<name>.pool.command` overrides server.command;
   * extraEnv (e.g. RR_MODE) is added last, keys upper-cased. Rejects with the real cause
   * (exit code, stderr) when the initial workers cannot start.
   */
  async newPool(name: string, poolConfig: PoolConfig | undefined, extraEnv: Record<string, string> = {}): Promise<Pool> {
    const ctx = this.ctx;
    const config = this.config;
    const logger = this.logger;
    if (!ctx || !config || !logger) throw new RRError(`Pool "${name}" was requested before the server plugin started`);
    const poolCfg = poolConfig ?? v.parse(PoolSchema, {});
    const command = poolCfg.command !== undefined ? splitCommand(poolCfg.command) : config.command;
    if (!command || command.length === 0) {
      throw new ConfigError(
        `No worker command for "${name}": set server.command (e.g. "php worker.php") or ${name}.pool.command in .rr.yaml`,
      );
    }
    const relay = config.relay === "pipes" ? "pipes" : await this.relay(config.relay, logger);
    const env: Record<string, string> = { ...this.baseEnv };
    // The bound address: with port 0 in server.relay, workers must learn the real port.
    if (relay !== "pipes") env.RR_RELAY = relay.address;
    for (const [key, value] of Object.entries(extraEnv)) env[key.toUpperCase()] = value;
    const workerLogger = logger;
    const credentials = this.credentials;
    const pool = await createPool({
      name,
      config: poolCfg,
      logger: ctx.logger(name),
      platform: ctx.platform,
      spawnWorker: () =>
        spawnWorker({
          command,
          env,
          uid: credentials.uid,
          gid: credentials.gid,
          relay,
          allocateTimeoutMs: poolCfg.allocate_timeout,
          logger: workerLogger,
        }),
    });
    // destroy() is idempotent: stop() destroys whatever its owner did not.
    this.pools.add(pool);
    logger.debug(`Pool "${name}" started`, {
      command: command.join(" "),
      relay: relay === "pipes" ? "pipes" : relay.address,
      workers: poolCfg.debug ? "debug: one per request" : Object.values(pool.stats().workersByState).reduce((sum, n) => sum + n, 0),
    });
    return pool;
  }

  /** One listening relay per address, shared by every pool. */
  private relay(address: string, logger: Logger): Promise<SocketRelayServer> {
    let relay = this.relays.get(address);
    if (!relay) {
      relay = openSocketRelay(address, logger).catch((error: unknown) => {
        const cause = error instanceof Error ? error.message : String(error);
        throw new RRError(
          `server.relay "${address}": ${cause}. ` +
            `Free that address, pick another one, or use relay: pipes`,
          { cause: error },
        );
      });
      this.relays.set(address, relay);
      relay.catch(() => this.relays.delete(address));
    }
    return relay;
  }
}

// ---- environment (goridge spec §2.7) -------------------------------------------------------------

/** rr's env, RR_RELAY, RR_RPC (only when rpc.listen is explicit), server.env, RR_VERSION. */
export function buildWorkerEnv(config: ServerConfig, ctx: Pick<PluginContext, "config" | "version">): Record<string, string> {
  const env = processEnv();
  const own = { ...env };
  env.RR_RELAY = config.relay;
  const rpc = ctx.config.rpc;
  if (rpc?.listenExplicit) env.RR_RPC = rpc.listen;
  for (const [key, value] of Object.entries(config.env ?? {})) env[key.toUpperCase()] = expandString(value, own);
  env.RR_VERSION = ctx.version;
  return env;
}

function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return env;
}

// ---- user and group -------------------------------------------------------------------------------

/**
 * Resolve server.user / server.group (names or numeric ids) to uid/gid. Needs root: only root
 * may start processes as another user. The gid defaults to the user's primary group.
 */
export async function resolveCredentials(
  user: string | undefined,
  group: string | undefined,
  section: string,
  platform: Platform,
): Promise<Credentials> {
  if (!user && !group) return {};
  const key = user ? `${section}.user` : `${section}.group`;
  const myUid = typeof process.getuid === "function" ? process.getuid() : -1;
  if (myUid !== 0) {
    throw new ConfigError(
      `${key} is set to "${user ?? group}", but rr runs as uid ${myUid}: only root can start workers as another ` +
        `user or group. Run rr as root or remove ${key} from .rr.yaml`,
    );
  }
  const credentials: Credentials = {};
  if (user) {
    const entry = lookupPasswd(user) ?? (await lookupWithId(user, platform));
    if (!entry) {
      throw new ConfigError(
        `${section}.user: there is no user "${user}" on this system (checked /etc/passwd and \`id ${user}\`); ` +
          `create the user or fix ${section}.user`,
      );
    }
    credentials.uid = entry.uid;
    credentials.gid = entry.gid;
  }
  if (group) {
    const gid = lookupGroup(group);
    if (gid === undefined) {
      throw new ConfigError(
        `${section}.group: there is no group "${group}" on this system (checked /etc/group); create it or fix ${section}.group`,
      );
    }
    credentials.gid = gid;
  }
  return credentials;
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch {
    return [];
  }
}

function lookupPasswd(user: string): { uid: number; gid: number } | undefined {
  const numeric = /^\d+$/.test(user) ? Number(user) : undefined;
  for (const line of readLines("/etc/passwd")) {
    const fields = line.split(":");
    if (fields.length < 4) continue;
    const uid = Number(fields[2]);
    if (fields[0] === user || uid === numeric) return { uid, gid: Number(fields[3]) };
  }
  return undefined;
}

function lookupGroup(group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readLines("/etc/group")) {
    const fields = line.split(":");
    if (fields.length >= 3 && fields[0] === group) return Number(fields[2]);
  }
  return undefined;
}

// Users from NSS (LDAP, sssd) are not in /etc/passwd: ask `id`.
async function lookupWithId(user: string, platform: Platform): Promise<{ uid: number; gid: number } | undefined> {
  const uid = await runId(["id", "-u", user], platform);
  const gid = await runId(["id", "-g", user], platform);
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

async function runId(cmd: string[], platform: Platform): Promise<number | undefined> {
  let out = "";
  try {
    const child = platform.spawn({
      cmd,
      env: processEnv(),
      stdin: "ignore",
      stdout: "pipe",
      stderr: "ignore",
      newProcessGroup: false,
      onStdout: (chunk) => {
        out += new TextDecoder().decode(chunk);
      },
    });
    const status = await child.exited;
    if (status.code !== 0) return undefined;
  } catch {
    return undefined;
  }
  const id = out.trim();
  return /^\d+$/.test(id) ? Number(id) : undefined;
}

// ---- on_init --------------------------------------------------------------------------------------

/**
 * Run server.on_init once, before any worker starts. A failure or timeout is logged and
 * startup continues, unless exit_on_error is set.
 */
export async function runOnInit(onInit: OnInitConfig, platform: Platform, logger: Logger): Promise<void> {
  const credentials = await resolveCredentials(onInit.user, undefined, "server.on_init", platform);
  // RoadRunner lets rr's env override on_init.env (a Go quirk); we let the config win, as users expect.
  const env = processEnv();
  for (const [key, value] of Object.entries(onInit.env ?? {})) env[key.toUpperCase()] = value;
  const commandText = onInit.command.join(" ");
  const decoder = new TextDecoder();
  const log = (chunk: Uint8Array): void => {
    const text = decoder.decode(chunk).trimEnd();
    if (text) logger.info(text, { on_init: commandText });
  };
  let failure: string | undefined;
  const started = Date.now();
  try {
    const child = platform.spawn({
      cmd: onInit.command,
      env,
      uid: credentials.uid,
      gid: credentials.gid,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      onStdout: log,
      onStderr: log,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.killGroup("SIGKILL");
    }, onInit.exec_timeout);
    const status = await child.exited;
    clearTimeout(timer);
    if (timedOut) {
      failure = `did not finish within exec_timeout (${formatDuration(onInit.exec_timeout)}) and was killed`;
    } else if (status.code !== 0) {
      failure = status.code === null ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    }
  } catch (error) {
    failure = `could not be started: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (failure === undefined) {
    logger.debug("on_init finished", { command: commandText, elapsed_ms: Date.now() - started });
    return;
  }
  const message = `server.on_init command "${commandText}" ${failure}`;
  if (onInit.exit_on_error) {
    throw new RRError(`${message}; stopping because server.on_init.exit_on_error is true`);
  }
  logger.error(`${message}; starting the workers anyway (set server.on_init.exit_on_error: true to stop instead)`);
}
