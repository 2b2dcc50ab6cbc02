// Goridge RPC server (shared/spec/goridge.md §4): frames with options [seq, method length],
// payload = "Service.Method" + encoded argument; replies echo seq, method and codec.
// Calls on one connection run concurrently and may be answered out of order, like Go net/rpc.
import { crc32, encodeFrame, FLAG, type Frame, FrameDecoder } from "../../goridge/frame.ts";
import type { Conn, Listener, Platform, SocketAddress } from "../../platform/types.ts";
import type { Logger } from "../../logs/types.ts";
import { type RpcCall, RpcError, type RpcService } from "./types.ts";

/** Bound on one request's payload; bigger frames close the connection instead of being buffered. */
export const DEFAULT_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** The reply codec, chosen from the request flags by Go's priority: PROTO > JSON > RAW > MSGPACK > GOB. */
export function replyCodec(flags: number): number {
  if (flags & FLAG.CODEC_PROTO) return FLAG.CODEC_PROTO;
  if (flags & FLAG.CODEC_JSON) return FLAG.CODEC_JSON;
  if (flags & FLAG.CODEC_RAW) return FLAG.CODEC_RAW;
  if (flags & FLAG.CODEC_MSGPACK) return FLAG.CODEC_MSGPACK;
  return FLAG.CODEC_GOB;
}

export interface RpcServerOptions {
  platform: Platform;
  logger: Logger;
  /** Finds a service by name at call time (plugins may start after the rpc plugin). */
  service(name: string): RpcService | undefined;
  maxMessageBytes?: number;
}

/** An oversized request, with what could be read of its header to address an error reply. */
interface Oversized {
  length: number;
  flags: number;
  /** Present when the options and method name arrived with the first bytes (the usual case). */
  seq?: number;
  method?: Uint8Array;
}

// Tracks frame boundaries from the first 10 header bytes so an oversized payload is refused
// before the decoder allocates a buffer for it. A header with a bad checksum is left to the
// decoder, which reports it as garbage rather than as a huge request.
class FrameSizeGuard {
  private left = 0;
  private readonly head = new Uint8Array(10);
  private fill = 0;
  constructor(private readonly max: number) {}

  check(chunk: Uint8Array): Oversized | undefined {
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      if (this.left > 0) {
        const take = Math.min(this.left, n - at);
        this.left -= take;
        at += take;
        continue;
      }
      const start = at - this.fill;
      const take = Math.min(10 - this.fill, n - at);
      this.head.set(chunk.subarray(at, at + take), this.fill);
      this.fill += take;
      at += take;
      if (this.fill < 10) break;
      this.fill = 0;
      const h = this.head;
      const crc = (h[6] | (h[7] << 8) | (h[8] << 16) | (h[9] << 24)) >>> 0;
      if (crc32(h, 0, 6) !== crc) {
        this.left = Infinity; // the decoder fails this connection
        return undefined;
      }
      const length = (h[2] | (h[3] << 8) | (h[4] << 16) | (h[5] << 24)) >>> 0;
      const headerLength = (h[0] & 0x0f) * 4;
      if (length > this.max) return { length, flags: h[1], ...readRpcHeader(chunk, start, headerLength, length) };
      this.left = headerLength - 10 + length;
    }
    return undefined;
  }
}

// Seq and method of an RPC frame starting at chunk[start], when the chunk holds that much.
function readRpcHeader(chunk: Uint8Array, start: number, headerLength: number, payloadLength: number) {
  if (start < 0 || headerLength !== 20 || chunk.length < start + 20) return {};
  const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const seq = dv.getUint32(start + 12, true);
  const methodLength = dv.getUint32(start + 16, true);
  if (methodLength > payloadLength || chunk.length < start + 20 + methodLength) return { seq };
  return { seq, method: chunk.subarray(start + 20, start + 20 + methodLength) };
}

interface ConnState {
  decoder: FrameDecoder;
  guard: FrameSizeGuard;
  closed: boolean;
}

export class RpcServer {
  private listener: Listener | undefined;
  private readonly conns = new Map<Conn, ConnState>();
  private readonly maxMessageBytes: number;
  private inFlight = 0;
  private idle: (() => void) | undefined;

  constructor(private readonly options: RpcServerOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** The bound address (with the real port when 0 was asked for). */
  get address(): SocketAddress | undefined {
    return this.listener?.address;
  }

  async listen(address: SocketAddress): Promise<void> {
    this.listener = await this.options.platform.listen(address, {
      onOpen: (conn) => this.open(conn),
      onData: (conn, chunk) => this.data(conn, chunk),
      onClose: (conn) => this.closeConn(conn),
    });
  }

  /** Stop accepting; wait (up to `graceMs`) for calls in flight, then close every connection. */
  async close(graceMs = 5000): Promise<void> {
    await this.listener?.close();
    this.listener = undefined;
    if (this.inFlight > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.idle = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const conn of [...this.conns.keys()]) {
      this.closeConn(conn);
      conn.close();
    }
  }

  private open(conn: Conn): void {
    const state: ConnState = {
      decoder: new FrameDecoder(
        (frame) => this.frame(conn, state, frame),
        // The decoder's texts speak of workers; an RPC peer gets its own.
        () =>
          this.protocolError(
            conn,
            state,
            "the client sent bytes that are not a goridge RPC frame (bad header checksum or length); " +
              "RPC clients must send goridge v1 frames (e.g. spiral/goridge's RPC, `rr workers`)",
          ),
      ),
      guard: new FrameSizeGuard(this.maxMessageBytes),
      closed: false,
    };
    this.conns.set(conn, state);
  }

  private data(conn: Conn, chunk: Uint8Array): void {
    const state = this.conns.get(conn);
    if (!state || state.closed) return;
    const oversized = state.guard.check(chunk);
    if (oversized) {
      const message = `rpc: a request of ${oversized.length} bytes exceeds the ${this.maxMessageBytes}-byte limit on RPC messages; ` +
        "send smaller messages or raise rpc.max_message_size";
      // Answer the caller when its header arrived in one piece, then drop the connection: the rest of that frame is not read.
      if (oversized.seq !== undefined && oversized.method) {
        const codec = replyCodec(oversized.flags);
        conn.write(encodeFrame(codec | FLAG.ERROR, 0, [oversized.seq, oversized.method.length], oversized.method, textEncoder.encode(message)));
      }
      this.protocolError(conn, state, message);
      return;
    }
    state.decoder.push(chunk);
  }

  private closeConn(conn: Conn): void {
    const state = this.conns.get(conn);
    if (state) state.closed = true;
    this.conns.delete(conn);
  }

  // A frame we cannot answer (bad header, wrong option count, too big): Go's net/rpc drops the connection.
  private protocolError(conn: Conn, state: ConnState, message: string): void {
    if (state.closed) return;
    this.options.logger.warn(`rpc: closing connection from ${conn.remoteAddress}: ${message}`);
    state.closed = true;
    this.conns.delete(conn);
    conn.close();
  }

  private frame(conn: Conn, state: ConnState, frame: Frame): void {
    if (frame.options.length !== 2) {
      this.protocolError(
        conn,
        state,
        `an RPC frame must carry 2 options (sequence number, method length), this one has ${frame.options.length}`,
      );
      return;
    }
    const [seq, methodLength] = frame.options;
    if (methodLength > frame.payload.length) {
      this.protocolError(conn, state, `the method length ${methodLength} is longer than the payload (${frame.payload.length} bytes)`);
      return;
    }
    const methodBytes = frame.payload.subarray(0, methodLength);
    const body = frame.payload.subarray(methodLength);
    const codec = replyCodec(frame.flags);
    this.inFlight++;
    this.dispatch(textDecoder.decode(methodBytes), codec, body).then(
      (reply) => this.reply(conn, state, codec, seq, methodBytes, reply),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (!(error instanceof RpcError)) this.options.logger.debug(`rpc: ${textDecoder.decode(methodBytes)} failed: ${message}`);
        this.reply(conn, state, codec | FLAG.ERROR, seq, methodBytes, textEncoder.encode(message));
      },
    );
  }

  private reply(conn: Conn, state: ConnState, flags: number, seq: number, method: Uint8Array, body: Uint8Array): void {
    if (!state.closed) conn.write(encodeFrame(flags, 0, [seq, method.length], method, body));
    if (--this.inFlight === 0 && this.idle) {
      this.idle();
      this.idle = undefined;
    }
  }

  // Resolve "Service.Method" the way Go net/rpc does (split at the last dot) and run it.
  private async dispatch(method: string, codec: number, body: Uint8Array): Promise<Uint8Array> {
    const dot = method.lastIndexOf(".");
    if (dot < 0) throw new RpcError(`rpc: service/method request ill-formed: ${method}`);
    const service = this.options.service(method.slice(0, dot));
    if (!service) throw new RpcError(`rpc: can't find service ${method}`);
    const name = method.slice(dot + 1);
    const handler = Object.hasOwn(service, name) ? service[name] : undefined;
    if (typeof handler !== "function") throw new RpcError(`rpc: can't find method ${method}`);
    if (codec === FLAG.CODEC_GOB || codec === FLAG.CODEC_MSGPACK) {
      const which = codec === FLAG.CODEC_GOB ? "gob" : "msgpack";
      throw new RpcError(`rpc: the ${which} codec is not supported by rr; call ${method} with the JSON codec (flag 0x08)`);
    }
    const call: RpcCall = {
      method,
      codec,
      body,
      json<T>(): T {
        if (body.length === 0) return undefined as T;
        try {
          return JSON.parse(textDecoder.decode(body)) as T;
        } catch (error) {
          throw new RpcError(`rpc: ${method}: the argument is not valid JSON: ${(error as Error).message}`);
        }
      },
    };
    const result = await handler(call);
    return encodeReply(method, codec, result);
  }
}

/** Encode a handler's result with the call's codec. */
export function encodeReply(method: string, codec: number, result: unknown): Uint8Array {
  if (codec === FLAG.CODEC_JSON) {
    return textEncoder.encode(JSON.stringify(result === undefined ? null : result, jsonBytesAsBase64));
  }
  if (result instanceof Uint8Array) return result;
  if (typeof result === "string") return textEncoder.encode(result);
  const name = codec === FLAG.CODEC_PROTO ? "protobuf" : "raw";
  throw new RpcError(`rpc: ${method} cannot reply with the ${name} codec; call it with the JSON codec (flag 0x08)`);
}

// Go's encoding/json writes []byte as base64; do the same for Uint8Array results.
function jsonBytesAsBase64(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) {
    let binary = "";
    for (let i = 0; i < value.length; i++) binary += String.fromCharCode(value[i]);
    return btoa(binary);
  }
  return value;
}
