// Our goridge RPC client (used by `rr workers`, `rr reset`, tests and benchmarks).
// JSON codec by default; many calls may be in flight, matched by sequence number.
import { encodeFrame, FLAG, type Frame, FrameDecoder } from "../../goridge/frame.ts";
import type { Conn, Platform, SocketAddress } from "../../platform/types.ts";
import { formatRpcAddress, parseRpcAddress } from "./address.ts";

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** The server answered with an error frame; the message is the server's text. */
export class RpcCallError extends Error {
  override name = "RpcCallError";
}

/** rr could not be reached at the RPC address. */
export class RpcConnectError extends Error {
  override name = "RpcConnectError";
}

interface Pending {
  resolve(frame: Frame): void;
  reject(error: Error): void;
}

export class RpcClient {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | undefined;

  private constructor(private conn: Conn | undefined, readonly address: string) {}

  /** Connect to rpc.listen ("tcp://127.0.0.1:6001" or "unix:///path"). Rejects with RpcConnectError. */
  static async connect(platform: Platform, listen: string | SocketAddress): Promise<RpcClient> {
    const address = typeof listen === "string" ? parseRpcAddress(listen, true) : listen;
    const shown = formatRpcAddress(address);
    let decoder: FrameDecoder | undefined;
    const client = new RpcClient(undefined, shown);
    decoder = new FrameDecoder(
      (frame) => client.onFrame(frame),
      (error) => client.fail(new Error(`Invalid RPC reply from ${shown}: ${error.message}`)),
    );
    try {
      client.conn = await platform.connect(address, {
        onData: (_conn, chunk) => decoder?.push(chunk),
        onClose: (_conn, error) => {
          decoder = undefined;
          client.fail(new Error(`The RPC connection to ${shown} was closed${error ? `: ${error.message}` : ""}`));
        },
      });
    } catch (error) {
      throw new RpcConnectError(
        `rr is not running or rpc is not listening on ${shown} (${connectReason(error)}): ` +
          "start `rr serve` with an `rpc:` section",
      );
    }
    return client;
  }

  /** Call with the JSON codec; resolves with the decoded reply. */
  async call<T = unknown>(method: string, arg?: unknown): Promise<T> {
    const body = arg === undefined ? new Uint8Array(0) : textEncoder.encode(JSON.stringify(arg));
    const reply = await this.callRaw(method, body, FLAG.CODEC_JSON);
    return (reply.length === 0 ? undefined : JSON.parse(textDecoder.decode(reply))) as T;
  }

  /** Call with any codec flag and an already encoded argument; resolves with the reply body. */
  callRaw(method: string, body: Uint8Array, codec: number): Promise<Uint8Array> {
    if (this.closedError) return Promise.reject(this.closedError);
    const seq = ++this.seq >>> 0;
    const methodBytes = textEncoder.encode(method);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(seq, {
        resolve: (frame) => {
          const replyBody = frame.payload.subarray(frame.options[1]);
          if (frame.flags & FLAG.ERROR) reject(new RpcCallError(textDecoder.decode(replyBody)));
          else resolve(replyBody);
        },
        reject,
      });
      this.conn!.write(encodeFrame(codec, 0, [seq, methodBytes.length], methodBytes, body));
    });
  }

  close(): void {
    this.fail(new Error(`The RPC client for ${this.address} is closed`));
    this.conn?.close();
  }

  private onFrame(frame: Frame): void {
    if (frame.options.length !== 2) {
      this.fail(new Error(`Invalid RPC reply from ${this.address}: expected 2 options, got ${frame.options.length}`));
      this.conn?.close();
      return;
    }
    const pending = this.pending.get(frame.options[0]);
    if (!pending) return;
    this.pending.delete(frame.options[0]);
    pending.resolve(frame);
  }

  private fail(error: Error): void {
    this.closedError ??= error;
    for (const pending of this.pending.values()) pending.reject(this.closedError);
    this.pending.clear();
  }
}

function connectReason(error: unknown): string {
  const code = (error as { cause?: { code?: string }; code?: string })?.cause?.code ??
    (error as { code?: string })?.code;
  const text = `${code ?? ""} ${error instanceof Error ? error.message : String(error)}`;
  if (/ECONNREFUSED|refused/i.test(text)) return "connection refused";
  if (/ENOENT|no such file|not found/i.test(text)) return "no such socket file";
  if (/timed? ?out/i.test(text)) return "connection timed out";
  return error instanceof Error ? error.message : String(error);
}
