// Shared by tests/pool*.test.ts and tests/server*.test.ts: pools of real PHP fixture workers.
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as v from "valibot";
import { PoolSchema } from "../src/config/sections/pool.ts";
import type { Logger } from "../src/logs/types.ts";
import { getPlatform } from "../src/platform/index.ts";
import { createPool } from "../src/pool/index.ts";
import type { Pool } from "../src/pool/types.ts";
import type { Payload, WorkerResponse } from "../src/worker/types.ts";
import { spawnWorker } from "../src/worker/index.ts";
import { procState } from "./helpers/proc.ts";

export const platform = getPlatform();

export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/php/${name}`, import.meta.url));
}

/** A logger that keeps every line, so tests can assert what the pool reported. */
export class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  debug(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: "debug", message, fields });
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: "error", message, fields });
  }
  raw(text: string): void {
    this.lines.push({ level: "raw", message: text });
  }
  child(): Logger {
    return this;
  }
  text(level?: string): string {
    return this.lines
      .filter((line) => level === undefined || line.level === level)
      .map((line) => `${line.message} ${line.fields ? JSON.stringify(line.fields) : ""}`)
      .join("\n");
  }
}

export function processEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, RR_RELAY: "pipes", ...extra };
}

export interface TestPoolOptions {
  script?: string;
  env?: Record<string, string>;
  logger?: RecordingLogger;
}

/** A pool of `php tests/fixtures/php/<script>` workers; `config` is raw `.rr.yaml`-style pool config. */
export async function testPool(config: Record<string, unknown>, options: TestPoolOptions = {}): Promise<Pool> {
  const poolConfig = v.parse(PoolSchema, config);
  const logger = options.logger ?? new RecordingLogger();
  const env = processEnv(options.env);
  const command = ["php", fixture(options.script ?? "pool-worker.php")];
  return await createPool({
    name: "test",
    config: poolConfig,
    logger,
    platform,
    spawnWorker: () =>
      spawnWorker({ command, env, relay: "pipes", allocateTimeoutMs: poolConfig.allocate_timeout, logger }),
  });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function request(body: string, context = ""): Payload {
  return { context: encoder.encode(context), body: encoder.encode(body), codec: 0 };
}

/** Context and body of a response as text. pool-worker.php puts its pid in the context. */
export function text(response: WorkerResponse): { context: string; body: string; pid: number } {
  const context = decoder.decode(response.context);
  return { context, body: decoder.decode(response.body), pid: Number(context) };
}

/** exec() and decode: pool-worker.php answers with its pid as context. */
export async function call(pool: Pool, body: string): Promise<{ pid: number; body: string }> {
  const { pid, body: out } = text(await pool.exec(request(body)));
  return { pid, body: out };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `check` every 25 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** True while the process exists and is not a zombie (Linux /proc). */
export function alive(pid: number): boolean {
  const state = procState(pid);
  return state !== null && state !== "Z";
}

/** Live pids of the pool's workers. */
export async function pids(pool: Pool): Promise<number[]> {
  return (await pool.workers()).map((w) => w.pid).sort((a, b) => a - b);
}
