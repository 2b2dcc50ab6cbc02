// Runtime-independent helpers shared by the Bun and Deno adapters: /proc
// parsing, process memory, unix socket files, the target triple, zombie reaping.
// Only node built-ins here.

import { lstatSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { createConnection } from "node:net";
import type { Signal, SocketAddress } from "./types.ts";

/** "linux-x64", "darwin-arm64", ...: the naming used for our binaries. */
export function targetName(): string {
  const os = process.platform === "darwin" ? "darwin" : process.platform;
  const arch = process.arch === "x64" ? "x64" : process.arch === "arm64" ? "arm64" : process.arch;
  return `${os}-${arch}`;
}

/** The C library to dlopen for waitpid. */
export function libcPath(): string | null {
  if (process.platform === "linux") return "libc.so.6";
  if (process.platform === "darwin") return "/usr/lib/libSystem.B.dylib";
  return null;
}

/** After a child exits, how long to wait for its pipes to reach EOF (a grandchild may hold them open). */
export const DRAIN_GRACE_MS = 1000;

/**
 * After a child exited: call `giveUp` once its pipes have delivered nothing for
 * DRAIN_GRACE_MS (output still flowing keeps us waiting). Returns a canceller.
 */
export function whenPipesSilent(activity: () => number, giveUp: () => void): () => void {
  let seen = activity();
  const check = () => {
    const now = activity();
    if (now === seen) return giveUp();
    seen = now;
    timer = setTimeout(check, DRAIN_GRACE_MS);
  };
  let timer = setTimeout(check, DRAIN_GRACE_MS);
  return () => clearTimeout(timer);
}

/** waitpid's WNOHANG: 1 on Linux and macOS. */
export const WNOHANG = 1;

/** Resident set size in bytes; null when the process is gone (or a zombie). */
export async function processMemory(pid: number): Promise<number | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (process.platform === "linux") {
    let status: string;
    try {
      status = await readFile(`/proc/${pid}/status`, "utf8");
    } catch {
      return null;
    }
    // VmRSS is in kB; zombies have no VmRSS line.
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : null;
  }
  // macOS (and other unixes): ps prints RSS in KiB, nothing for a dead pid.
  return await new Promise<number | null>((resolve) => {
    execFile("ps", ["-o", "rss=", "-p", String(pid)], (error, stdout) => {
      const kib = Number.parseInt(String(stdout).trim(), 10);
      resolve(error || !Number.isFinite(kib) ? null : kib * 1024);
    });
  });
}

/** Fields of /proc/<pid>/stat we care about, or null when the pid is gone. */
export function readProcStat(pid: number): { state: string; ppid: number; pgrp: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // "pid (comm) S ppid pgrp ...": comm may contain spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]) };
}

/**
 * Pids of zombie children of `parent` that we did not spawn ourselves. Reaping
 * with waitpid(-1) would steal the exit status of our own children from the
 * runtime, so callers reap exactly these pids one by one.
 */
export function orphanZombies(parent: number, ours: ReadonlySet<number>): number[] {
  if (process.platform !== "linux") return [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const zombies: number[] = [];
  for (const entry of entries) {
    const code = entry.charCodeAt(0);
    if (code < 48 || code > 57) continue;
    const pid = Number(entry);
    if (ours.has(pid)) continue;
    const stat = readProcStat(pid);
    if (stat && stat.state === "Z" && stat.ppid === parent) zombies.push(pid);
  }
  return zombies;
}

/** True when something accepts connections on the unix socket at `path`. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => {
      probe.destroy();
      resolve(false);
    });
  });
}

/**
 * Before binding a unix socket: remove a stale socket file left by a process
 * that is gone. A socket someone still listens on is refused with a clear
 * error; anything that is not a socket is left alone (bind then fails).
 */
export async function prepareUnixSocketPath(path: string): Promise<void> {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // Not there: nothing to do.
  }
  if (!isSocket) return;
  if (await socketInUse(path)) {
    throw new Error(`another process is listening on it; stop it or choose another socket path`);
  }
  try {
    unlinkSync(path);
  } catch {
    // Gone meanwhile.
  }
}

/** After closing a unix listener: remove the socket file we created. */
export function removeOwnSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function describeAddress(address: SocketAddress): string {
  return address.transport === "unix" ? `unix:${address.path}` : `tcp://${address.hostname}:${address.port}`;
}

/** Turn a runtime error from listen/connect into one that says where and why. */
export function socketError(action: "listen on" | "connect to", address: SocketAddress, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const error = new Error(`Cannot ${action} ${describeAddress(address)}: ${reason}`);
  (error as Error & { cause?: unknown }).cause = cause;
  return error;
}

/** Error for a child that could not be started: says whether the directory or the command is at fault. */
export function spawnError(cmd: readonly string[], cause: unknown, cwd?: string): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  let hint = "Check that the command exists, is executable and is on PATH.";
  if (cmd.length === 0) hint = "The command is empty.";
  else if (cwd !== undefined && !isDirectory(cwd)) hint = `The working directory "${cwd}" does not exist or is not a directory.`;
  const error = new Error(`Cannot start "${cmd.join(" ")}": ${reason}. ${hint}`);
  (error as Error & { cause?: unknown }).cause = cause;
  return error;
}

/** Signal numbers for exit statuses that report a number. */
const SIGNAL_NAMES: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  6: "SIGABRT",
  9: "SIGKILL",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
};

export function signalName(signal: number | string | null | undefined): string | null {
  if (signal === null || signal === undefined) return null;
  if (typeof signal === "string") return signal;
  if (process.platform === "darwin") {
    if (signal === 30) return "SIGUSR1";
    if (signal === 31) return "SIGUSR2";
  } else {
    if (signal === 10) return "SIGUSR1";
    if (signal === 12) return "SIGUSR2";
  }
  return SIGNAL_NAMES[signal] ?? `SIG${signal}`;
}

/** True when a kill() error means "no such process". */
export function isNoSuchProcess(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: string; name?: string; message?: string };
  return e.code === "ESRCH" || e.name === "NotFound" || /ESRCH|No such process/i.test(e.message ?? "");
}

/** A loaded waitpid(2): returns the pid it reaped, 0 or -1. */
export type Waitpid = (pid: number, status: Int32Array, options: number) => number;

/**
 * A lazy, cached waitpid from libc: `open` does the runtime's FFI dlopen of the
 * given library path. Null when there is no libc, no FFI or no permission.
 */
export function lazyWaitpid(open: (libc: string) => Waitpid | null): () => Waitpid | null {
  let waitpid: Waitpid | null | undefined;
  return () => {
    if (waitpid !== undefined) return waitpid;
    waitpid = null;
    const path = libcPath();
    if (!path) return null;
    try {
      waitpid = open(path);
    } catch {
      // No FFI (or no permission, or no libc): nothing we can reap.
    }
    return waitpid;
  };
}

/**
 * Reap zombie orphans reparented to us (only PID 1 inherits them; anyone
 * else's zombie children are ours or the runtime's), never one of `ours`.
 */
export function reapOrphanZombies(self: number, ours: ReadonlySet<number>, loadWaitpid: () => Waitpid | null): number {
  if (self !== 1) return 0;
  const waitpid = loadWaitpid();
  if (!waitpid) return 0;
  const status = new Int32Array(1);
  let reaped = 0;
  for (const pid of orphanZombies(self, ours)) {
    if (waitpid(pid, status, WNOHANG) === pid) reaped++;
  }
  return reaped;
}

/** Platform.kill on top of the runtime's kill: false when the process is gone, other errors thrown. */
export function killPid(kill: (pid: number, signal: Signal) => void, pid: number, signal: Signal): boolean {
  try {
    kill(pid, signal);
    return true;
  } catch (error) {
    if (isNoSuchProcess(error)) return false;
    throw error;
  }
}

/** A handler that throws answers 500 without leaking a stack trace to the client. */
export function internalServerError(): Response {
  return new Response("Internal Server Error", { status: 500 });
}

/** The error for an HTTP server that could not bind. */
export function httpListenError(options: { hostname: string; port: number }, cause: unknown): Error {
  return socketError("listen on", { transport: "tcp", hostname: options.hostname, port: options.port }, cause);
}
