// Helpers for the RPC tests: a raw byte connection (to check frames byte for byte) and
// hex conversion. Real sockets through the platform layer; nothing is simulated.
import { getPlatform } from "../src/platform/index.ts";
import type { Conn, SocketAddress } from "../src/platform/types.ts";
import type { Logger } from "../src/logs/types.ts";

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A connection that collects every byte received, for byte-exact assertions. */
export class RawConn {
  private buf = new Uint8Array(0);
  private waiters: Array<() => void> = [];
  closed = false;
  private constructor(private conn: Conn | undefined) {}

  static async open(address: SocketAddress): Promise<RawConn> {
    const raw = new RawConn(undefined);
    raw.conn = await getPlatform().connect(address, {
      onData: (_c, chunk) => {
        const next = new Uint8Array(raw.buf.length + chunk.length);
        next.set(raw.buf);
        next.set(chunk, raw.buf.length);
        raw.buf = next;
        raw.notify();
      },
      onClose: () => {
        raw.closed = true;
        raw.notify();
      },
    });
    return raw;
  }

  send(bytes: Uint8Array): void {
    this.conn!.write(bytes);
  }

  /** Wait until `n` bytes arrived (or the peer closed), then take them. */
  async read(n: number, timeoutMs = 5000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n && !this.closed) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} bytes (have ${this.buf.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(Math.min(n, this.buf.length));
    return out;
  }

  /** Read one whole goridge frame: header, options and payload. */
  async readFrame(timeoutMs = 5000): Promise<{ bytes: Uint8Array; flags: number; options: number[]; payload: Uint8Array }> {
    const head = await this.read(12, timeoutMs);
    if (head.length < 12) throw new Error("connection closed before a frame arrived");
    const hl = head[0] & 0x0f;
    const length = new DataView(head.buffer, head.byteOffset).getUint32(2, true);
    const rest = await this.read((hl - 3) * 4 + length, timeoutMs);
    const dv = new DataView(rest.buffer, rest.byteOffset);
    const options = Array.from({ length: hl - 3 }, (_, i) => dv.getUint32(i * 4, true));
    const bytes = new Uint8Array(head.length + rest.length);
    bytes.set(head);
    bytes.set(rest, head.length);
    return { bytes, flags: head[1], options, payload: rest.subarray((hl - 3) * 4) };
  }

  /** Resolves when the peer has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("the connection stayed open");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    this.conn?.close();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A Logger that keeps what it was told, for asserting on warnings. */
export function memoryLogger(lines: string[] = []): Logger {
  const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    raw: (text) => void lines.push(text),
    child: () => logger,
  };
  return logger;
}
