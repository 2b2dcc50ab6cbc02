// Socket relays (shared/spec/goridge.md §2.4): rr listens on tcp or unix,
// each spawned worker connects, and the pid handshake tells which process a
// connection belongs to.
import { getPlatform } from "../platform/index.ts";
import type { Conn, Listener } from "../platform/types.ts";
import type { Logger } from "../logs/types.ts";
import { type Frame, FLAG, encodeFrame, describePrinted } from "./frame.ts";
import { DecodingRelay, type FrameHandlers, parseRelayAddress, type Relay } from "./relay.ts";

export interface SocketRelayServer {
  readonly kind: "tcp" | "unix";
  /** The address workers get in RR_RELAY (with the real port when port 0 was asked for). */
  readonly address: string;
  /**
   * The connection whose handshake reported this pid, once it arrives; null when
   * timeoutMs passes first, abandon(pid) is called or the server closes.
   */
  claim(pid: number, timeoutMs: number): Promise<Relay | null>;
  /** Stop waiting for this pid (its process died). */
  abandon(pid: number): void;
  /** Stop listening and close connections no worker has claimed. */
  close(): Promise<void>;
}

export interface SocketRelayOptions {
  /** How long an accepted connection may stay unmatched before it is closed (ms). Default 60 s. */
  matchTimeoutMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One accepted connection. */
class SocketConnection extends DecodingRelay {
  readonly kind: "tcp" | "unix";
  readonly conn: Conn;
  closed = false;
  /** Closes a connection that never matches a spawned worker. */
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(kind: "tcp" | "unix", conn: Conn) {
    super();
    this.kind = kind;
    this.conn = conn;
  }

  write(data: Uint8Array): void {
    if (!this.closed) this.conn.write(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.conn.close();
  }

  /** The peer went away. */
  lost(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ended();
  }
}

interface Waiter {
  resolve: (relay: Relay | null) => void;
  timer: ReturnType<typeof setTimeout>;
}

class SocketRelayServerImpl implements SocketRelayServer {
  readonly kind: "tcp" | "unix";
  address = "";
  listener: Listener | null = null;
  private readonly logger: Logger;
  private readonly matchTimeoutMs: number;
  private readonly connections = new Map<Conn, SocketConnection>();
  /** Handshaken connections nobody has claimed yet, by reported pid. */
  private readonly matched = new Map<number, SocketConnection>();
  private readonly waiters = new Map<number, Waiter>();
  private closing = false;

  constructor(kind: "tcp" | "unix", logger: Logger, options: SocketRelayOptions) {
    this.kind = kind;
    this.logger = logger;
    this.matchTimeoutMs = options.matchTimeoutMs ?? 60_000;
  }

  accept(conn: Conn): void {
    if (this.closing) {
      conn.close();
      return;
    }
    const connection = new SocketConnection(this.kind, conn);
    this.connections.set(conn, connection);
    connection.timer = setTimeout(() => {
      this.logger.warn("Closing a relay connection that no spawned worker claimed", {
        relay: this.address,
        remote: conn.remoteAddress,
      });
      this.drop(connection);
    }, this.matchTimeoutMs);
    connection.attach(this.handshakeHandlers(connection));
    connection.write(encodeFrame(FLAG.CONTROL | FLAG.CODEC_JSON, 0, [], encoder.encode(`{"pid":${getPlatform().pid}}`)));
  }

  data(conn: Conn, chunk: Uint8Array): void {
    this.connections.get(conn)?.push(chunk);
  }

  lost(conn: Conn): void {
    const connection = this.connections.get(conn);
    if (!connection) return;
    this.connections.delete(conn);
    for (const [pid, c] of this.matched) if (c === connection) this.matched.delete(pid);
    connection.lost();
  }

  private handshakeHandlers(connection: SocketConnection): FrameHandlers {
    return {
      onFrame: (frame: Frame) => this.onHandshake(connection, frame),
      onFrameError: (error: Error) => {
        this.logger.warn(`Dropping a relay connection that broke the protocol during the handshake: ${error.message}`, {
          relay: this.address,
        });
        this.drop(connection);
      },
      onRelayClose: () => {},
    };
  }

  private onHandshake(connection: SocketConnection, frame: Frame): void {
    const pid = handshakePid(frame);
    if (typeof pid === "string") {
      this.logger.warn(`Dropping a relay connection with a bad handshake: ${pid}`, { relay: this.address });
      this.drop(connection);
      return;
    }
    connection.detach();
    const waiter = this.waiters.get(pid);
    if (waiter) {
      this.waiters.delete(pid);
      clearTimeout(waiter.timer);
      this.hand(connection, waiter);
      return;
    }
    const previous = this.matched.get(pid);
    if (previous) this.drop(previous);
    this.matched.set(pid, connection);
  }

  private hand(connection: SocketConnection, waiter: Waiter): void {
    clearTimeout(connection.timer);
    connection.timer = undefined;
    waiter.resolve(connection);
  }

  private drop(connection: SocketConnection): void {
    this.connections.delete(connection.conn);
    for (const [pid, c] of this.matched) if (c === connection) this.matched.delete(pid);
    connection.close();
  }

  claim(pid: number, timeoutMs: number): Promise<Relay | null> {
    if (this.closing) return Promise.resolve(null);
    const ready = this.matched.get(pid);
    if (ready) {
      this.matched.delete(pid);
      clearTimeout(ready.timer);
      ready.timer = undefined;
      return Promise.resolve(ready);
    }
    this.waiters.get(pid)?.resolve(null);
    return new Promise<Relay | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(pid);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(pid, { resolve, timer });
    });
  }

  abandon(pid: number): void {
    const waiter = this.waiters.get(pid);
    if (waiter) {
      this.waiters.delete(pid);
      clearTimeout(waiter.timer);
      waiter.resolve(null);
    }
    const connection = this.matched.get(pid);
    if (connection) this.drop(connection);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const [pid] of this.waiters) this.abandon(pid);
    for (const connection of this.matched.values()) this.drop(connection);
    // Connections still in their handshake are nobody's: close them too.
    for (const connection of [...this.connections.values()]) {
      if (connection.timer !== undefined) this.drop(connection);
    }
    await this.listener?.close();
  }
}

/** The pid from a handshake reply, or why the reply is not one. */
export function handshakePid(frame: Frame): number | string {
  if (!(frame.flags & FLAG.CONTROL)) {
    return `unexpected response, header is missing, no CONTROL flag (got flags 0x${frame.flags.toString(16)}, payload ${describePrinted(frame.payload)})`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(frame.payload));
  } catch {
    return `the pid reply is not JSON: ${describePrinted(frame.payload)}`;
  }
  const pid = (parsed as { pid?: unknown } | null)?.pid;
  if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) {
    return `pid should be greater than 0 (got ${describePrinted(frame.payload)})`;
  }
  return pid;
}

/**
 * Listen on a socket relay address ("tcp://127.0.0.1:7000" or "unix:///tmp/rr.sock").
 * A stale unix socket file is replaced. Listen before spawning workers: PHP connects at once.
 */
export async function openSocketRelay(address: string, logger: Logger, options: SocketRelayOptions = {}): Promise<SocketRelayServer> {
  const parsed = parseRelayAddress(address);
  if (parsed.kind === "pipes") throw new TypeError('openSocketRelay needs a tcp:// or unix:// address, not "pipes"');
  const server = new SocketRelayServerImpl(parsed.kind, logger, options);
  const listener = await getPlatform().listen(parsed.socket, {
    onOpen: (conn) => server.accept(conn),
    onData: (conn, chunk) => server.data(conn, chunk),
    onClose: (conn) => server.lost(conn),
  });
  server.listener = listener;
  const bound = listener.address;
  server.address = bound.transport === "unix"
    ? `unix://${bound.path}`
    : `tcp://${bound.hostname.includes(":") ? `[${bound.hostname}]` : bound.hostname}:${bound.port}`;
  return server;
}
