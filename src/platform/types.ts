// The platform layer: everything rr needs from the runtime that is not plain
// Node-compatible API. Only src/platform/* may touch `Bun.*` or `Deno.*`.
// Node built-ins (node:fs, node:path, node:os, node:crypto, node:zlib, process.env)
// work the same on both runtimes and may be used anywhere.

export type RuntimeName = "bun" | "deno";

export interface RuntimeInfo {
  /** Which runtime executes rr. */
  name: RuntimeName;
  /** The runtime's own version, e.g. "1.4.5". */
  version: string;
  /** True when running as a self-contained compiled binary. */
  compiled: boolean;
  /** "linux-x64", "darwin-arm64", ... */
  target: string;
}

export type Signal =
  | "SIGTERM"
  | "SIGKILL"
  | "SIGINT"
  | "SIGQUIT"
  | "SIGHUP"
  | "SIGUSR1"
  | "SIGUSR2";

export interface SpawnOptions {
  /** argv; argv[0] is looked up on PATH. */
  cmd: string[];
  cwd?: string;
  /** The complete environment of the child (not merged with ours). */
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  /** Put the child in its own process group (setsid). Default true. */
  newProcessGroup?: boolean;
  stdin?: "pipe" | "ignore";
  stdout?: "pipe" | "ignore";
  stderr?: "pipe" | "ignore" | "inherit";
  /** Called for every chunk read from stdout. The chunk is not reused by the platform. */
  onStdout?: (chunk: Uint8Array) => void;
  /** Called for every chunk read from stderr. */
  onStderr?: (chunk: Uint8Array) => void;
}

export interface ExitStatus {
  /** Exit code, or null when the process was killed by a signal. */
  code: number | null;
  /** Signal name that killed the process, or null. */
  signal: string | null;
}

export interface ChildProcess {
  readonly pid: number;
  /**
   * Queue bytes for the child's stdin. Never throws; a dead child shows in `exited`.
   * The platform may hold `data` until it is written: do not modify it afterwards.
   */
  write(data: Uint8Array): void;
  /** Close the child's stdin. */
  closeStdin(): void;
  /** Signal the process itself. No-op when it has exited. */
  kill(signal?: Signal): void;
  /** Signal the whole process group (the child was started with its own group). */
  killGroup(signal?: Signal): void;
  /** Resolves once the child has exited and been reaped, and its stdout/stderr are drained. */
  readonly exited: Promise<ExitStatus>;
}

export type SocketAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** A connected byte stream (TCP or unix socket). */
export interface Conn {
  /**
   * Queue bytes for the peer, in order. Never throws; a broken connection shows in onClose.
   * The platform may hold `data` until it is written: do not modify it afterwards.
   */
  write(data: Uint8Array): void;
  /** Close the connection (after queued writes are flushed where the runtime allows). */
  close(): void;
  readonly remoteAddress: string;
}

export interface ConnHandlers {
  /** Called for every chunk received. The chunk is not reused by the platform. */
  onData(conn: Conn, chunk: Uint8Array): void;
  /** Called once when the connection is closed by either side or fails. */
  onClose?(conn: Conn, error?: Error): void;
}

export interface ListenHandlers extends ConnHandlers {
  /** Called for every accepted connection, before any onData for it. */
  onOpen(conn: Conn): void;
}

export interface Listener {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: SocketAddress;
  /** Stop accepting; open connections stay. Removes a unix socket file we created. */
  close(): Promise<void>;
}

export interface HttpServeOptions {
  hostname: string;
  port: number;
  /** TLS: PEM contents (not paths). */
  tls?: { cert: string; key: string; ca?: string };
  /** Bytes; bigger bodies are refused with 413 (also chunked bodies, while they stream in). */
  maxRequestBodySize?: number;
  /**
   * Seconds a connection may stay silent (e.g. a stalled upload) before it is
   * closed; 0 disables. Bun only (default 10, at most 255); Deno has no such setting.
   */
  idleTimeout?: number;
  handler: (request: Request, info: HttpRequestInfo) => Response | Promise<Response>;
}

export interface HttpRequestInfo {
  /** The peer's IP address. */
  remoteAddress: string;
}

export interface HttpServer {
  readonly hostname: string;
  readonly port: number;
  /** Stop accepting; when force is false, wait for in-flight requests. */
  stop(force?: boolean): Promise<void>;
}

export interface Platform {
  readonly runtime: RuntimeInfo;
  /** Our own pid. */
  readonly pid: number;

  spawn(options: SpawnOptions): ChildProcess;
  /** Signal any process (negative pid: a process group). Returns false when it does not exist. */
  kill(pid: number, signal?: Signal): boolean;
  /** Resident set size in bytes, or null when the process is gone. Linux: /proc; macOS: ps. */
  processMemory(pid: number): Promise<number | null>;
  /** Reap exited children we did not spawn (when running as PID 1). Returns how many were reaped. */
  reapOrphans(): number;

  listen(address: SocketAddress, handlers: ListenHandlers): Promise<Listener>;
  connect(address: SocketAddress, handlers: ConnHandlers): Promise<Conn>;

  serveHttp(options: HttpServeOptions): Promise<HttpServer>;

  /** Install an OS signal handler; returns a function that removes it. */
  onSignal(signal: Signal, handler: () => void): () => void;
  /** Logical CPU count. */
  cpuCount(): number;
}
