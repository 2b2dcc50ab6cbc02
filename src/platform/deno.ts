// The Deno adapter.
//
// Processes: node:child_process, not Deno.Command. Deno.Command's `detached`
// does not give the child its own process group, and rr must signal whole
// groups (PHP may fork). node:child_process with `detached: true` calls setsid.
// Measured on this machine (2 shared cores, 64-byte echo through `cat`, 3 runs
// of 2000 round trips): node:child_process 15-47 µs (platform.spawn median
// 22 µs), Deno.Command 61-70 µs, Deno.Command via the `setsid` binary 36-62 µs.
// node:child_process is as fast or faster and portable (macOS has no `setsid`
// binary); spawning costs ~2-4 ms vs ~1 ms, which only matters at worker start.
// See scripts/bench/spawn-pipes.ts.

import { spawn as nodeSpawn } from "node:child_process";
import type { ChildProcess as NodeChildProcess } from "node:child_process";
import { basename } from "node:path";
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

// ---- processes ----

class DenoChild implements ChildProcess {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  #child: NodeChildProcess;
  #done = false;
  #stdinOpen: boolean;

  constructor(child: NodeChildProcess, pid: number, options: SpawnOptions, ours: Set<number>) {
    this.#child = child;
    this.pid = pid;
    this.#stdinOpen = child.stdin !== null;
    ours.add(pid);
    const onStdout = options.onStdout;
    const onStderr = options.onStderr;
    let chunks = 0;
    if (child.stdout) {
      child.stdout.on("data", onStdout ? (chunk: Uint8Array) => (chunks++, onStdout(chunk)) : () => chunks++);
      child.stdout.on("error", () => {});
    }
    if (child.stderr) {
      child.stderr.on("data", onStderr ? (chunk: Uint8Array) => (chunks++, onStderr(chunk)) : () => chunks++);
      child.stderr.on("error", () => {});
    }
    // EPIPE and friends: the child is gone; `exited` tells the caller.
    child.stdin?.on("error", () => {
      this.#stdinOpen = false;
    });
    this.exited = new Promise<ExitStatus>((resolve) => {
      let cancelGrace = () => {};
      const finish = (code: number | null, signal: string | null) => {
        if (this.#done) return;
        this.#done = true;
        this.#stdinOpen = false;
        cancelGrace();
        ours.delete(pid);
        const name = signalName(signal);
        resolve({ code: name ? null : code, signal: name });
      };
      // "close" comes after the exit and after stdout/stderr ended.
      child.on("close", (code: number | null, signal: string | null) => finish(code, signal));
      // A grandchild that inherited our pipes must not keep `exited` pending forever.
      child.on("exit", (code: number | null, signal: string | null) => {
        if (this.#done) return;
        cancelGrace = whenPipesSilent(() => chunks, () => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish(code, signal);
        });
      });
    });
  }

  write(data: Uint8Array): void {
    if (!this.#stdinOpen) return;
    try {
      this.#child.stdin!.write(data);
    } catch {
      this.#stdinOpen = false;
    }
  }

  closeStdin(): void {
    if (!this.#stdinOpen) return;
    this.#stdinOpen = false;
    try {
      this.#child.stdin!.end();
    } catch {
      // Already closed.
    }
  }

  kill(signal: Signal = "SIGTERM"): void {
    if (this.#done) return;
    try {
      Deno.kill(this.pid, signal);
    } catch {
      // Already gone.
    }
  }

  killGroup(signal: Signal = "SIGTERM"): void {
    try {
      Deno.kill(-this.pid, signal);
    } catch {
      this.kill(signal);
    }
  }
}

// ---- sockets ----

const READ_SIZE = 64 * 1024;

class DenoConn implements Conn {
  readonly remoteAddress: string;
  #conn: Deno.Conn;
  #handlers: ConnHandlers;
  #queue: Uint8Array[] = [];
  #writing = false;
  #closing = false;
  #closed = false;

  constructor(conn: Deno.Conn, handlers: ConnHandlers, unixPath?: string) {
    this.#conn = conn;
    this.#handlers = handlers;
    const addr = conn.remoteAddr;
    // Unix peers are unnamed: report the socket path on both ends.
    this.remoteAddress = addr.transport === "tcp" || addr.transport === "udp" ? addr.hostname : unixPath ?? "";
    if (conn.localAddr.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
  }

  write(data: Uint8Array): void {
    if (this.#closed || this.#closing || data.byteLength === 0) return;
    this.#queue.push(data);
    if (!this.#writing) void this.#flush();
  }

  /** Writes one chunk at a time so bytes leave in order; partial writes resume where they stopped. */
  async #flush(): Promise<void> {
    this.#writing = true;
    const queue = this.#queue;
    try {
      while (queue.length > 0 && !this.#closed) {
        let chunk = queue.shift()!;
        while (chunk.byteLength > 0) {
          const n = await this.#conn.write(chunk);
          chunk = chunk.subarray(n);
        }
      }
    } catch (error) {
      this.#writing = false;
      this.#fail(error);
      return;
    }
    this.#writing = false;
    if (this.#closing) this.#shut(undefined);
  }

  async readLoop(): Promise<void> {
    let buf = new Uint8Array(READ_SIZE);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        if (n === 0) continue;
        // Hand out a chunk nobody else writes to: big reads keep the buffer, small ones are copied.
        if (n > READ_SIZE / 4) {
          const chunk = buf.subarray(0, n);
          buf = new Uint8Array(READ_SIZE);
          this.#handlers.onData(this, chunk);
        } else {
          this.#handlers.onData(this, buf.slice(0, n));
        }
      }
    } catch (error) {
      if (!this.#closed && !this.#closing) {
        this.#fail(error);
        return;
      }
    }
    this.#shut(undefined);
  }

  close(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    if (!this.#writing) this.#shut(undefined);
  }

  #fail(error: unknown): void {
    this.#shut(error instanceof Error ? error : new Error(String(error)));
  }

  #shut(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
    this.#handlers.onClose?.(this, error);
  }
}

// ---- http ----

function tooLarge(): Response {
  return new Response("Request Entity Too Large", { status: 413 });
}

/**
 * Deno.serve has no body size limit: refuse from Content-Length at once, or
 * count a chunked body while the handler reads it and answer 413 when it
 * overflows (the handler then fails reading the body).
 */
async function withBodyLimit(
  request: Request,
  limit: number,
  handle: (request: Request) => Response | Promise<Response>,
): Promise<Response> {
  const length = request.headers.get("content-length");
  if (length !== null) return Number(length) > limit ? tooLarge() : await handle(request);
  if (request.body === null) return await handle(request);
  let seen = 0;
  let overflow = false;
  const counted = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) {
          overflow = true;
          controller.error(new Error(`Request body is larger than ${limit} bytes`));
        } else controller.enqueue(chunk);
      },
    }),
  );
  try {
    const response = await handle(new Request(request, { body: counted, duplex: "half" } as RequestInit));
    return overflow ? tooLarge() : response;
  } catch (error) {
    if (overflow) return tooLarge();
    throw error;
  }
}

class DenoHttpServer implements HttpServer {
  readonly hostname: string;
  readonly port: number;
  #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(server: Deno.HttpServer<Deno.NetAddr>) {
    this.#server = server;
    this.hostname = server.addr.hostname;
    this.port = server.addr.port;
  }

  async stop(force = false): Promise<void> {
    // Deno only shuts down gracefully; forced means we do not wait for it.
    const done = this.#server.shutdown().catch(() => {});
    if (!force) await done;
  }
}

// ---- the platform ----

export class DenoPlatform implements Platform {
  readonly runtime: RuntimeInfo;
  readonly pid = Deno.pid;
  /** Pids of our live children: reapOrphans() must never reap these. */
  readonly #children = new Set<number>();
  /** waitpid through Deno.dlopen (needs --allow-ffi), loaded on first use. */
  readonly #loadWaitpid = lazyWaitpid((libc) => {
    if (typeof Deno.dlopen !== "function") return null;
    const lib = Deno.dlopen(libc, {
      waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
    } as const);
    return (pid, status, options) => lib.symbols.waitpid(pid, status, options);
  });

  constructor() {
    const exe = basename(Deno.execPath());
    const compiled = !/^deno(\.exe)?$/.test(exe) || Deno.mainModule.includes("deno-compile-");
    this.runtime = { name: "deno", version: Deno.version.deno, compiled, target: targetName() };
  }

  spawn(options: SpawnOptions): ChildProcess {
    const [command, ...args] = options.cmd;
    let child: NodeChildProcess;
    try {
      child = nodeSpawn(command, args, {
        cwd: options.cwd,
        env: options.env,
        uid: options.uid,
        gid: options.gid,
        detached: options.newProcessGroup ?? true,
        stdio: [options.stdin ?? "pipe", options.stdout ?? "pipe", options.stderr ?? "pipe"],
      });
    } catch (error) {
      throw spawnError(options.cmd, error, options.cwd);
    }
    if (child.pid === undefined) {
      // The failure is also emitted as an "error" event; swallow it, we throw instead.
      child.on("error", () => {});
      throw spawnError(options.cmd, new Error("it could not be executed"), options.cwd);
    }
    return new DenoChild(child, child.pid, options, this.#children);
  }

  kill(pid: number, signal: Signal = "SIGTERM"): boolean {
    return killPid(Deno.kill, pid, signal);
  }

  processMemory(pid: number): Promise<number | null> {
    return processMemory(pid);
  }

  reapOrphans(): number {
    return reapOrphanZombies(this.pid, this.#children, this.#loadWaitpid);
  }

  async listen(address: SocketAddress, handlers: ListenHandlers): Promise<Listener> {
    let listener: Deno.Listener;
    try {
      if (address.transport === "unix") {
        await prepareUnixSocketPath(address.path);
        listener = Deno.listen({ transport: "unix", path: address.path });
      } else {
        listener = Deno.listen({ transport: "tcp", hostname: address.hostname, port: address.port });
      }
    } catch (error) {
      throw socketError("listen on", address, error);
    }
    const unixPath = address.transport === "unix" ? address.path : undefined;
    const accepting = (async () => {
      for (;;) {
        let raw: Deno.Conn;
        try {
          raw = await listener.accept();
        } catch {
          return; // The listener was closed.
        }
        const conn = new DenoConn(raw, handlers, unixPath);
        handlers.onOpen(conn);
        void conn.readLoop();
      }
    })();
    const bound: SocketAddress = address.transport === "unix"
      ? { transport: "unix", path: address.path }
      : { transport: "tcp", hostname: address.hostname, port: (listener.addr as Deno.NetAddr).port };
    let closed = false;
    return {
      address: bound,
      async close() {
        if (closed) return;
        closed = true;
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        await accepting;
        if (address.transport === "unix") removeOwnSocket(address.path);
      },
    };
  }

  async connect(address: SocketAddress, handlers: ConnHandlers): Promise<Conn> {
    let raw: Deno.Conn;
    try {
      raw = address.transport === "unix"
        ? await Deno.connect({ transport: "unix", path: address.path })
        : await Deno.connect({ transport: "tcp", hostname: address.hostname, port: address.port });
    } catch (error) {
      throw socketError("connect to", address, error);
    }
    const conn = new DenoConn(raw, handlers, address.transport === "unix" ? address.path : undefined);
    void conn.readLoop();
    return conn;
  }

  serveHttp(options: HttpServeOptions): Promise<HttpServer> {
    const handler = options.handler;
    const limit = options.maxRequestBodySize;
    const serveOptions = {
      hostname: options.hostname,
      port: options.port,
      onListen() {},
      // A handler that throws answers 500 without leaking a stack trace to the client.
      onError: internalServerError,
      // tls.ca (client certificate authorities) has no Deno.serve equivalent and is ignored.
      ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
    };
    try {
      const server = Deno.serve(serveOptions, (request, info) => {
        const remoteAddress = (info.remoteAddr as Deno.NetAddr).hostname ?? "";
        if (limit !== undefined) return withBodyLimit(request, limit, (req) => handler(req, { remoteAddress }));
        return handler(request, { remoteAddress });
      });
      return Promise.resolve(new DenoHttpServer(server as Deno.HttpServer<Deno.NetAddr>));
    } catch (error) {
      return Promise.reject(httpListenError(options, error));
    }
  }

  onSignal(signal: Signal, handler: () => void): () => void {
    const listener = () => handler();
    Deno.addSignalListener(signal, listener);
    return () => {
      try {
        Deno.removeSignalListener(signal, listener);
      } catch {
        // Already removed.
      }
    };
  }

  cpuCount(): number {
    return navigator.hardwareConcurrency || 1;
  }
}
