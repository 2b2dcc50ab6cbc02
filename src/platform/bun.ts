// The Bun adapter. The Bun API surface we use is typed locally (below) so that
// `deno check` can type-check this file without bun-types.

import { cpus } from "node:os";
import {
  httpListenError,
  internalServerError,
  killPid,
  lazyWaitpid,
  processMemory,
  prepareUnixSocketPath,
  reapOrphanZombies,
  removeOwnSocket,
  signalName,
  socketError,
  spawnError,
  targetName,
  whenPipesSilent,
} from "./common.ts";
import type {
  ChildProcess,
  Conn,
  ConnHandlers,
  ExitStatus,
  HttpRequestInfo,
  HttpServeOptions,
  HttpServer,
  ListenHandlers,
  Listener,
  Platform,
  RuntimeInfo,
  Signal,
  SocketAddress,
  SpawnOptions,
} from "./types.ts";

// ---- the subset of Bun's API used here ----

interface BunFileSink {
  write(chunk: Uint8Array): number;
  flush(): number | Promise<number>;
  end(): number | Promise<number>;
}

interface BunSubprocess {
  readonly pid: number;
  readonly stdin: BunFileSink | null | undefined;
  readonly stdout: ReadableStream<Uint8Array> | null | undefined;
  readonly stderr: ReadableStream<Uint8Array> | null | undefined;
  readonly exited: Promise<number>;
  readonly exitCode: number | null;
  readonly signalCode: string | null;
  kill(signal?: string | number): void;
}

interface BunSpawnOptions {
  cmd: string[];
  cwd?: string;
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  detached?: boolean;
  stdin?: "pipe" | "ignore";
  stdout?: "pipe" | "ignore";
  stderr?: "pipe" | "ignore" | "inherit";
}

interface BunSocket {
  data: SocketState;
  readonly remoteAddress: string | undefined;
  write(data: Uint8Array): number;
  end(): void;
  setNoDelay?(noDelay?: boolean): boolean;
}

interface BunSocketHandler {
  open?(socket: BunSocket): void;
  data?(socket: BunSocket, data: Uint8Array): void;
  drain?(socket: BunSocket): void;
  close?(socket: BunSocket, error?: Error): void;
  error?(socket: BunSocket, error: Error): void;
  end?(socket: BunSocket): void;
  connectError?(socket: BunSocket, error: Error): void;
}

interface BunTCPListener {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): void;
}

interface BunServer {
  readonly port: number;
  readonly hostname: string;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
  requestIP(request: Request): { address: string; port: number } | null;
  readonly pendingRequests: number;
}

interface BunServeOptions {
  hostname: string;
  port: number;
  tls?: { cert: string; key: string; ca?: string };
  maxRequestBodySize?: number;
  idleTimeout?: number;
  development?: boolean;
  fetch(request: Request, server: BunServer): Response | Promise<Response>;
  error?(error: Error): Response;
}

interface BunApi {
  readonly version: string;
  readonly main: string;
  spawn(options: BunSpawnOptions): BunSubprocess;
  listen(options: {
    hostname?: string;
    port?: number;
    unix?: string;
    socket: BunSocketHandler;
  }): BunTCPListener;
  connect(options: {
    hostname?: string;
    port?: number;
    unix?: string;
    socket: BunSocketHandler;
  }): Promise<BunSocket>;
  serve(options: BunServeOptions): BunServer;
}

interface BunFFI {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => number>; close(): void };
}

const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;

// ---- processes ----

/** Drain a child's output stream into a callback; resolves when the stream ends. */
async function pump(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  onChunk: ((chunk: Uint8Array) => void) | undefined,
  activity: { chunks: number },
): Promise<void> {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      activity.chunks++;
      if (onChunk && value.byteLength > 0) onChunk(value);
    }
  } catch {
    // The pipe broke because the child died: its exit status tells the story.
  } finally {
    reader.releaseLock();
  }
}

class BunChild implements ChildProcess {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  #proc: BunSubprocess;
  #stdin: BunFileSink | null;
  #done = false;

  constructor(proc: BunSubprocess, options: SpawnOptions, ours: Set<number>) {
    this.#proc = proc;
    this.pid = proc.pid;
    this.#stdin = proc.stdin ?? null;
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    const drains: Promise<void>[] = [];
    const activity = { chunks: 0 };
    if (proc.stdout) {
      const reader = proc.stdout.getReader();
      readers.push(reader);
      drains.push(pump(reader, options.onStdout, activity));
    }
    if (proc.stderr) {
      const reader = proc.stderr.getReader();
      readers.push(reader);
      drains.push(pump(reader, options.onStderr, activity));
    }
    ours.add(proc.pid);
    this.exited = proc.exited.then(async () => {
      // A grandchild that inherited our pipes must not keep `exited` pending forever.
      const cancel = readers.length === 0 ? () => {} : whenPipesSilent(() => activity.chunks, () => {
        for (const reader of readers) reader.cancel().catch(() => {});
      });
      await Promise.all(drains);
      cancel();
      this.#done = true;
      this.#stdin = null;
      ours.delete(proc.pid);
      const signal = signalName(proc.signalCode);
      return { code: signal ? null : proc.exitCode, signal };
    });
  }

  write(data: Uint8Array): void {
    const sink = this.#stdin;
    if (!sink) return;
    try {
      sink.write(data);
      const flushed = sink.flush();
      if (typeof flushed !== "number") flushed.catch(() => {});
    } catch {
      // The child closed its stdin or died; `exited` reports it.
      this.#stdin = null;
    }
  }

  closeStdin(): void {
    const sink = this.#stdin;
    this.#stdin = null;
    if (!sink) return;
    try {
      const ended = sink.end();
      if (typeof ended !== "number") ended.catch(() => {});
    } catch {
      // Already closed.
    }
  }

  kill(signal: Signal = "SIGTERM"): void {
    if (this.#done) return;
    try {
      this.#proc.kill(signal);
    } catch {
      // Already gone.
    }
  }

  killGroup(signal: Signal = "SIGTERM"): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone; fall back to the process itself.
      this.kill(signal);
    }
  }
}

// ---- sockets ----

/** What we attach to each Bun socket: the Conn that wraps it. */
interface SocketState {
  conn: BunConn;
}

class BunConn implements Conn {
  readonly remoteAddress: string;
  #socket: BunSocket;
  #pending: Uint8Array[] = [];
  #closing = false;
  closed = false;

  constructor(socket: BunSocket, remoteAddress: string) {
    this.#socket = socket;
    this.remoteAddress = remoteAddress;
  }

  write(data: Uint8Array): void {
    if (this.closed || this.#closing || data.byteLength === 0) return;
    if (this.#pending.length > 0) {
      this.#pending.push(data);
      return;
    }
    const written = this.#socket.write(data);
    if (written < data.byteLength) this.#pending.push(written > 0 ? data.subarray(written) : data);
  }

  /** The socket can take more: push out what is queued, in order. */
  drain(): void {
    const pending = this.#pending;
    while (pending.length > 0 && !this.closed) {
      const head = pending[0];
      const written = this.#socket.write(head);
      if (written < head.byteLength) {
        pending[0] = head.subarray(Math.max(written, 0));
        return;
      }
      pending.shift();
    }
    if (this.#closing && !this.closed) this.#socket.end();
  }

  close(): void {
    if (this.closed || this.#closing) return;
    this.#closing = true;
    // Let queued bytes go first; drain() ends the socket once they are out.
    if (this.#pending.length === 0) this.#socket.end();
  }
}

function bunSocketHandler(
  handlers: ConnHandlers,
  onOpen: ((conn: Conn) => void) | undefined,
  remoteFor: (socket: BunSocket) => string,
): BunSocketHandler {
  return {
    open(socket) {
      socket.setNoDelay?.(true);
      const conn = new BunConn(socket, remoteFor(socket));
      socket.data = { conn };
      onOpen?.(conn);
    },
    data(socket, chunk) {
      handlers.onData(socket.data.conn, chunk);
    },
    drain(socket) {
      socket.data.conn.drain();
    },
    error(socket, error) {
      const conn = socket.data?.conn;
      if (!conn || conn.closed) return;
      conn.closed = true;
      handlers.onClose?.(conn, error);
    },
    close(socket, error) {
      const conn = socket.data?.conn;
      if (!conn || conn.closed) return;
      conn.closed = true;
      handlers.onClose?.(conn, error);
    },
  };
}

// ---- http ----

class BunHttpServer implements HttpServer {
  readonly hostname: string;
  readonly port: number;
  #server: BunServer;

  constructor(server: BunServer) {
    this.#server = server;
    this.hostname = server.hostname;
    this.port = server.port;
  }

  async stop(force = false): Promise<void> {
    await this.#server.stop(force);
    if (force) return;
    // Older Bun versions resolve stop() before in-flight requests finish.
    while (this.#server.pendingRequests > 0) await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- the platform ----

export class BunPlatform implements Platform {
  readonly runtime: RuntimeInfo;
  readonly pid = process.pid;
  /** Pids of our live children: reapOrphans() must never reap these. */
  readonly #children = new Set<number>();
  /** waitpid through bun:ffi, loaded on first use. */
  readonly #loadWaitpid = lazyWaitpid((libc) => {
    const require = (import.meta as unknown as { require: (id: string) => unknown }).require;
    const ffi = require("bun:ffi") as BunFFI;
    const fn = ffi.dlopen(libc, { waitpid: { args: ["i32", "ptr", "i32"], returns: "i32" } }).symbols.waitpid;
    return (pid, status, options) => fn(pid, status, options);
  });

  constructor() {
    const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.includes("~BUN");
    this.runtime = { name: "bun", version: Bun.version, compiled, target: targetName() };
  }

  spawn(options: SpawnOptions): ChildProcess {
    let proc: BunSubprocess;
    try {
      proc = Bun.spawn({
        cmd: options.cmd,
        cwd: options.cwd,
        env: options.env,
        uid: options.uid,
        gid: options.gid,
        detached: options.newProcessGroup ?? true,
        stdin: options.stdin ?? "pipe",
        stdout: options.stdout ?? "pipe",
        stderr: options.stderr ?? "pipe",
      });
    } catch (error) {
      throw spawnError(options.cmd, error, options.cwd);
    }
    return new BunChild(proc, options, this.#children);
  }

  kill(pid: number, signal: Signal = "SIGTERM"): boolean {
    return killPid((p, s) => process.kill(p, s), pid, signal);
  }

  processMemory(pid: number): Promise<number | null> {
    return processMemory(pid);
  }

  reapOrphans(): number {
    return reapOrphanZombies(this.pid, this.#children, this.#loadWaitpid);
  }

  async listen(address: SocketAddress, handlers: ListenHandlers): Promise<Listener> {
    // Unix peers are unnamed: report the socket path, as connect() does.
    const remote = address.transport === "unix" ? () => address.path : (s: BunSocket) => s.remoteAddress ?? "";
    const socket = bunSocketHandler(handlers, (conn) => handlers.onOpen(conn), remote);
    try {
      if (address.transport === "unix") {
        const path = address.path;
        await prepareUnixSocketPath(path);
        const server = Bun.listen({ unix: path, socket });
        return {
          address: { transport: "unix", path },
          close() {
            server.stop(false);
            removeOwnSocket(path);
            return Promise.resolve();
          },
        };
      }
      const server = Bun.listen({ hostname: address.hostname, port: address.port, socket });
      return {
        address: { transport: "tcp", hostname: address.hostname, port: server.port },
        close() {
          server.stop(false);
          return Promise.resolve();
        },
      };
    } catch (error) {
      throw socketError("listen on", address, error);
    }
  }

  async connect(address: SocketAddress, handlers: ConnHandlers): Promise<Conn> {
    const remote = address.transport === "unix" ? address.path : `${address.hostname}:${address.port}`;
    const socket = bunSocketHandler(handlers, undefined, () => remote);
    try {
      const s = address.transport === "unix"
        ? await Bun.connect({ unix: address.path, socket })
        : await Bun.connect({ hostname: address.hostname, port: address.port, socket });
      return s.data.conn;
    } catch (error) {
      throw socketError("connect to", address, error);
    }
  }

  serveHttp(options: HttpServeOptions): Promise<HttpServer> {
    const handler = options.handler;
    try {
      const server = Bun.serve({
        hostname: options.hostname,
        port: options.port,
        tls: options.tls,
        maxRequestBodySize: options.maxRequestBodySize,
        idleTimeout: options.idleTimeout === undefined ? undefined : Math.min(Math.max(0, Math.round(options.idleTimeout)), 255),
        // Never Bun's HTML error pages, whatever NODE_ENV says.
        development: false,
        fetch(request, srv) {
          const info: HttpRequestInfo = { remoteAddress: srv.requestIP(request)?.address ?? "" };
          return handler(request, info);
        },
        // A handler that throws answers 500 without leaking a stack trace to the client.
        error: internalServerError,
      });
      return Promise.resolve(new BunHttpServer(server));
    } catch (error) {
      return Promise.reject(httpListenError(options, error));
    }
  }

  onSignal(signal: Signal, handler: () => void): () => void {
    const listener = () => handler();
    process.on(signal, listener);
    return () => {
      process.off(signal, listener);
    };
  }

  cpuCount(): number {
    return navigator.hardwareConcurrency || cpus().length || 1;
  }
}
