// A relay carries goridge frames between rr and one worker process
// (shared/spec/goridge.md §2): the child's stdin/stdout ("pipes") or one
// socket connection (tcp/unix). Relays decode; workers only see frames.
import { ConfigError } from "../errors.ts";
import type { SocketAddress } from "../platform/types.ts";
import { type Frame, FrameDecoder } from "./frame.ts";

export type RelayKind = "pipes" | "tcp" | "unix";

/** Where a relay delivers what it receives. */
export interface FrameHandlers {
  onFrame(frame: Frame): void;
  /** The peer broke the protocol (bad CRC, bad header, script not found). Nothing more is delivered. */
  onFrameError(error: Error): void;
  /** The connection closed (socket relays; pipes report the process exit instead). */
  onRelayClose(): void;
}

export interface Relay {
  readonly kind: RelayKind;
  /** Queue the bytes of whole frames for the worker. */
  write(data: Uint8Array): void;
  /** Deliver frames to these handlers from now on (anything received earlier is delivered at once). */
  attach(handlers: FrameHandlers): void;
  close(): void;
}

/**
 * Buffers what arrives before a worker attaches, then forwards. Shared by the
 * pipes relay and socket connections.
 */
export abstract class DecodingRelay implements Relay {
  abstract readonly kind: RelayKind;
  protected readonly decoder: FrameDecoder;
  private handlers: FrameHandlers | null = null;
  private early: Array<Frame | Error | null> = [];

  constructor() {
    this.decoder = new FrameDecoder(
      (frame) => (this.handlers ? this.handlers.onFrame(frame) : this.early.push(frame)),
      (error) => (this.handlers ? this.handlers.onFrameError(error) : this.early.push(error)),
    );
  }

  abstract write(data: Uint8Array): void;
  abstract close(): void;

  attach(handlers: FrameHandlers): void {
    this.handlers = handlers;
    const early = this.early;
    this.early = [];
    for (const item of early) {
      if (item === null) handlers.onRelayClose();
      else if (item instanceof Error) handlers.onFrameError(item);
      else handlers.onFrame(item);
    }
  }

  /** Buffer what arrives from now on until the next attach(). */
  detach(): void {
    this.handlers = null;
  }

  /** Feed bytes read from the worker. */
  push(chunk: Uint8Array): void {
    this.decoder.push(chunk);
  }

  /** The byte stream ended: flush the decoder (reports "Could not open input file") and tell the worker. */
  protected ended(): void {
    this.decoder.end();
    if (this.handlers) this.handlers.onRelayClose();
    else this.early.push(null);
  }
}

/** The worker's stdin/stdout. Data arrives through push() from the spawn's onStdout. */
export class PipesRelay extends DecodingRelay {
  readonly kind = "pipes" as const;
  private writer: ((data: Uint8Array) => void) | null = null;
  private closed = false;

  /** Connect the child's stdin once the process exists. */
  setWriter(writer: (data: Uint8Array) => void): void {
    this.writer = writer;
  }

  write(data: Uint8Array): void {
    if (this.writer) this.writer(data);
  }

  /** stdout reached EOF (the process exited). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer = null;
    this.ended();
  }

  close(): void {
    this.writer = null;
  }
}

/** Parse `server.relay` / RR_RELAY: "pipes", "tcp://host:port" or "unix:///path". */
export function parseRelayAddress(address: string): { kind: "pipes" } | { kind: "tcp" | "unix"; socket: SocketAddress } {
  const text = address.trim();
  if (text === "pipes" || text === "") return { kind: "pipes" };
  const parts = text.split("://");
  const hint = 'use "pipes", "tcp://127.0.0.1:6001" or "unix:///path/to/rr.sock"';
  if (parts.length !== 2) throw new ConfigError(`Invalid relay address "${address}": ${hint}`);
  const [scheme, rest] = parts;
  if (scheme === "unix") {
    if (rest === "") throw new ConfigError(`Invalid relay address "${address}": the unix socket path is empty; ${hint}`);
    return { kind: "unix", socket: { transport: "unix", path: rest } };
  }
  if (scheme === "tcp") {
    const colon = rest.lastIndexOf(":");
    const hostname = colon > 0 ? rest.slice(0, colon).replace(/^\[(.*)\]$/, "$1") : "";
    const port = Number(rest.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535 || rest.slice(colon + 1) === "") {
      throw new ConfigError(`Invalid relay address "${address}": expected tcp://host:port; ${hint}`);
    }
    if (hostname === "") {
      throw new ConfigError(
        `Invalid relay address "${address}": the host is missing (PHP workers reject tcp://:port); use tcp://127.0.0.1:${port}`,
      );
    }
    return { kind: "tcp", socket: { transport: "tcp", hostname, port } };
  }
  throw new ConfigError(`Invalid relay address "${address}": unknown scheme "${scheme}"; ${hint}`);
}
