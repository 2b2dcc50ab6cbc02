// Shared test helpers: run the rr CLI as a real subprocess under the current runtime
// (bun or deno, or a compiled binary), temp dirs, polling, free ports.
// Everything here uses node built-ins so it works the same under `bun test` and `deno test`.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** True when the tests run under Deno (process.execPath is the deno binary). */
export const IS_DENO: boolean = basename(process.execPath).startsWith("deno");

/** argv that runs `rr <args>` from source under the current runtime, or with the given binary. */
export function rrArgv(args: readonly string[], bin?: string): string[] {
  if (bin) return [bin, ...args];
  const main = join(ROOT, "src/main.ts");
  if (IS_DENO) return [process.execPath, "run", "-A", "--quiet", "--config", join(ROOT, "deno.json"), main, ...args];
  return [process.execPath, main, ...args];
}

export interface RunOptions {
  cwd?: string;
  /** Added to (and overriding) the test process environment. NO_COLOR=1 is always set. */
  env?: Record<string, string | undefined>;
  /** Kill the process and fail after this long. Default 20 s. */
  timeoutMs?: number;
  /** Run this executable (e.g. dist/rr-linux-x64) instead of the sources. */
  bin?: string;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function childEnv(extra: RunOptions["env"]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, NO_COLOR: "1", ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** A running rr (or any) process with its output collected. */
export class RunningProcess {
  readonly child: ChildProcess;
  #stdout = "";
  #stderr = "";
  #listeners = new Set<() => void>();
  /** Resolves when the process has exited and its output is drained. */
  readonly exited: Promise<RunResult>;

  constructor(argv: string[], opts: RunOptions = {}) {
    this.child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: childEnv(opts.env), stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout?.setEncoding("utf8");
    this.child.stderr?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      this.#stdout += chunk;
      for (const notify of this.#listeners) notify();
    });
    this.child.stderr?.on("data", (chunk: string) => {
      this.#stderr += chunk;
      for (const notify of this.#listeners) notify();
    });
    this.exited = new Promise<RunResult>((resolveExit, reject) => {
      this.child.on("error", reject);
      this.child.on("close", (code: number | null, signal: string | null) => {
        for (const notify of this.#listeners) notify();
        resolveExit({ code, signal, stdout: this.#stdout, stderr: this.#stderr });
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }
  get stdout(): string {
    return this.#stdout;
  }
  get stderr(): string {
    return this.#stderr;
  }
  /** stdout + stderr, for matching log lines wherever they went. */
  get output(): string {
    return this.#stdout + this.#stderr;
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wait until the output matches; rejects with the output so far on timeout or exit. */
  waitForOutput(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const matches = () => (typeof pattern === "string" ? this.output.includes(pattern) : pattern.test(this.output));
    return new Promise<string>((resolveWait, reject) => {
      const check = () => {
        if (matches()) finish();
        else if (!this.running) finish(new Error(`process exited before printing ${pattern}; output:\n${this.output}`));
      };
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}; output:\n${this.output}`)), timeoutMs);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#listeners.delete(check);
        if (error) reject(error);
        else resolveWait(this.output);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Send a signal. Uses process.kill: Deno's child.kill() makes the exit look signal-killed even when the child exited cleanly. */
  signal(signal: NodeJS.Signals = "SIGTERM"): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGKILL if still running, then wait for exit. Safe to call in after() hooks. */
  async kill(): Promise<RunResult> {
    this.signal("SIGKILL");
    return await this.exited;
  }
}

/** Start `rr <args>` and return at once (use waitForOutput, signal, exited). */
export function startRR(args: readonly string[], opts: RunOptions = {}): RunningProcess {
  return new RunningProcess(rrArgv(args, opts.bin), opts);
}

/** Run `rr <args>` to completion. */
export async function runRR(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const proc = startRR(args, opts);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.signal("SIGKILL");
      reject(new Error(`rr ${args.join(" ")} did not exit within ${timeoutMs} ms; output:\n${proc.output}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
    if (proc.running) await proc.exited;
  }
}

/** A temp dir under os.tmpdir(); remove() deletes it with everything in it. */
export interface TmpDir {
  path: string;
  /** Write a file (creating parent dirs); returns its absolute path. */
  write(relativePath: string, content: string): string;
  remove(): void;
}

export function makeTmpDir(prefix = "rr-test-"): TmpDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(relativePath, content) {
      const file = join(path, relativePath);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Poll `condition` every `intervalMs` until it returns truthy; rejects after `timeoutMs`. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  timeoutMs = 5_000,
  intervalMs = 25,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** A TCP port that was free a moment ago on 127.0.0.1 (bind to port 0 where you can instead). */
export function freePort(): Promise<number> {
  return new Promise<number>((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Remove ANSI color codes. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
