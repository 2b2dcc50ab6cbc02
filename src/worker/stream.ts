// The consumer side of a streamed response (shared/spec/goridge.md §3.7):
// frames queue here as the worker sends them; iterating pulls them out.
import type { Payload, ResponseStream } from "./types.ts";

/** What the stream needs from its worker. */
export interface StreamSource {
  /** Answer a PING. */
  pong(): void;
  /** Send STOP and drain; resolves when the worker is usable again or was killed. */
  cancelStream(stream: WorkerStream): Promise<void>;
}

/** Frames queued beyond this delay the PONG, so a pipes worker waits for a slow consumer. */
const HIGH_WATER = 16;

export class WorkerStream implements ResponseStream, AsyncIterator<Payload> {
  private readonly source: StreamSource;
  private readonly queue: Payload[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<Payload>) => void; reject: (e: Error) => void } | null = null;
  private ended = false;
  private error: Error | null = null;
  private pongOwed = false;

  constructor(source: StreamSource) {
    this.source = source;
  }

  [Symbol.asyncIterator](): AsyncIterator<Payload> {
    return this;
  }

  /** A frame arrived; `last` ends the stream after it. */
  deliver(payload: Payload, ping: boolean, last: boolean): void {
    if (this.ended) return;
    if (last) this.ended = true;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      if (ping) this.source.pong();
      waiter.resolve({ value: payload, done: false });
      return;
    }
    this.queue.push(payload);
    if (ping) {
      if (this.queue.length - this.head < HIGH_WATER) this.source.pong();
      else this.pongOwed = true;
    }
  }

  /** The stream broke: the consumer sees this error after the frames already queued. */
  fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.pongOwed = false;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter.reject(error);
    }
  }

  /** Cancelled: end the iteration, dropping what is queued. */
  finish(): void {
    this.ended = true;
    this.pongOwed = false;
    this.queue.length = 0;
    this.head = 0;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<Payload>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head];
      this.queue[this.head++] = undefined as unknown as Payload;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      if (this.pongOwed && this.queue.length - this.head < HIGH_WATER) {
        this.pongOwed = false;
        this.source.pong();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Leaving a for-await loop early cancels the stream. */
  async return(): Promise<IteratorResult<Payload>> {
    await this.cancel();
    return { value: undefined, done: true };
  }

  cancel(): Promise<void> {
    return this.source.cancelStream(this);
  }
}
