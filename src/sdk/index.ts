// A TypeScript worker SDK: write rr (and RoadRunner) workers for Bun or Deno.
// It speaks the same goridge protocol as the PHP libraries (shared/spec/goridge.md):
// pid handshake, requests, error frames, streamed responses with STOP, and stop.
// Runs inside the worker process, so node:net and process.stdin/stdout are fine here.
//
//   import { Worker } from "rr/src/sdk/index.ts";
//   const worker = Worker.fromEnv();
//   for await (const req of worker) req.respond(req.context, req.body);
import { connect, type Socket } from "node:net";
import process from "node:process";
import { encodeFrame, encodePayloadFrame, FLAG, type Frame, FrameDecoder, STREAM_BITS } from "../goridge/frame.ts";

export { FLAG } from "../goridge/frame.ts";

type Data = string | Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const STOP_CONTEXT = encoder.encode('{"stop":true}');

function bytes(data: Data | undefined): Uint8Array {
  if (data === undefined) return EMPTY;
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** One request from rr. Answer it exactly once: respond(), error(), stream() or worker.stop(). */
export class Request {
  /** The context ("header" in PHP): http request metadata, job options, ... */
  readonly context: Uint8Array;
  readonly body: Uint8Array;
  /** Codec flags of the request frame (0x04 raw, 0x08 json, 0x80 proto, or 0). */
  readonly codec: number;
  private readonly worker: Worker;

  constructor(worker: Worker, context: Uint8Array, body: Uint8Array, codec: number) {
    this.worker = worker;
    this.context = context;
    this.body = body;
    this.codec = codec;
  }

  get contextText(): string {
    return decoder.decode(this.context);
  }

  get bodyText(): string {
    return decoder.decode(this.body);
  }

  /** The response: context and body (strings are sent as UTF-8). */
  respond(context: Data, body: Data, codec = 0): void {
    this.worker.answer();
    this.worker.send(encodePayloadFrame(codec, 0, bytes(context), bytes(body)));
  }

  /** Fail the request (an ERROR frame); the worker stays in service. */
  error(message: string): void {
    this.worker.answer();
    this.worker.send(encodeFrame(FLAG.ERROR, 0, [], encoder.encode(message)));
  }

  /** Answer in several frames; end() sends the last one. */
  stream(codec = 0): ResponseStream {
    this.worker.answer();
    return this.worker.openStream(codec);
  }
}

/** A response sent in parts. `stopped` turns true (and `signal` aborts) when rr cancels it. */
export class ResponseStream {
  private readonly worker: Worker;
  private readonly codec: number;
  private readonly controller = new AbortController();
  private ended = false;

  constructor(worker: Worker, codec: number) {
    this.worker = worker;
    this.codec = codec;
  }

  /** rr asked to stop (the client went away): send end() and stop producing. */
  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** @internal rr sent STOP. */
  stop(): void {
    this.controller.abort();
  }

  /** Send one part. The first part's context is the response context; later ones usually send "". */
  write(context: Data, body: Data): void {
    if (this.ended) throw new Error("This response stream has ended: write() after end()");
    this.worker.send(encodePayloadFrame(this.codec, STREAM_BITS.STREAM, bytes(context), bytes(body)));
  }

  /** Send the last part. */
  end(context: Data = "", body: Data = ""): void {
    if (this.ended) return;
    this.ended = true;
    this.worker.send(encodePayloadFrame(this.codec, 0, bytes(context), bytes(body)));
    this.worker.streamEnded(this);
  }
}

/** A goridge worker: iterate it for requests; the loop ends when rr stops the worker. */
export class Worker implements AsyncIterable<Request> {
  /** "pipes", "tcp://host:port" or "unix:///path". */
  readonly relay: string;
  private readonly decoder: FrameDecoder;
  private socket: Socket | null = null;
  private connected: Promise<void> | null = null;
  private readonly inbox: Request[] = [];
  private waiter: ((r: IteratorResult<Request>) => void) | null = null;
  private failure: ((e: Error) => void) | null = null;
  private done = false;
  private error: Error | null = null;
  private stream: ResponseStream | null = null;
  private unanswered = false;

  /** The worker for the relay rr announces in RR_RELAY (default pipes). */
  static fromEnv(env: Record<string, string | undefined> = process.env): Worker {
    return new Worker(env.RR_RELAY || "pipes");
  }

  constructor(relay = "pipes") {
    this.relay = relay;
    this.decoder = new FrameDecoder(
      (frame) => this.onFrame(frame),
      (error) => this.fail(error),
    );
    if (relay === "pipes") {
      // stdout carries frames: keep console.log & co. off it.
      console.log = console.info = console.debug = console.error;
    } else if (!/^(tcp:\/\/[^:/]+:\d+|unix:\/\/.+)$/.test(relay)) {
      throw new Error(`Unsupported RR_RELAY "${relay}": expected pipes, tcp://host:port or unix:///path`);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<Request> {
    return {
      next: () => this.next(),
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Wait for the next request; null when rr stopped the worker. */
  async waitRequest(): Promise<Request | null> {
    const r = await this.next();
    return r.done ? null : r.value;
  }

  /** Ask rr to stop this worker instead of answering the current request (it goes to another worker). */
  stop(): void {
    this.answer();
    this.send(encodePayloadFrame(0, 0, STOP_CONTEXT, EMPTY));
  }

  /** Stop reading so the process can exit. */
  close(): void {
    this.done = true;
    if (this.socket) this.socket.end();
    else if (this.connected) {
      // Let go of stdin entirely: a paused stream still keeps Deno's event loop alive.
      process.stdin.removeAllListeners("data");
      process.stdin.destroy();
    }
    const waiter = this.waiter;
    this.waiter = null;
    this.failure = null;
    waiter?.({ value: undefined, done: true });
  }

  private async next(): Promise<IteratorResult<Request>> {
    if (this.unanswered) throw new Error("Answer the current request (respond, error, stream or stop) before taking the next one");
    await this.start();
    const request = this.inbox.shift();
    if (request) {
      this.unanswered = true;
      return { value: request, done: false };
    }
    if (this.error) throw this.error;
    if (this.done) return { value: undefined, done: true };
    return new Promise<IteratorResult<Request>>((resolve, reject) => {
      this.waiter = resolve;
      this.failure = reject;
    });
  }

  /** @internal The current request got its answer. */
  answer(): void {
    if (!this.unanswered) throw new Error("This request was already answered");
    this.unanswered = false;
  }

  /** @internal */
  openStream(codec: number): ResponseStream {
    this.stream = new ResponseStream(this, codec);
    return this.stream;
  }

  /** @internal */
  streamEnded(stream: ResponseStream): void {
    if (this.stream === stream) this.stream = null;
  }

  /** @internal Write whole frames to rr. */
  send(frame: Uint8Array): void {
    if (this.socket) this.socket.write(frame);
    else process.stdout.write(frame);
  }

  private start(): Promise<void> {
    if (this.connected) return this.connected;
    if (this.relay === "pipes") {
      process.stdin.on("data", (chunk: Uint8Array) => this.decoder.push(chunk));
      process.stdin.on("end", () => this.ended());
      this.connected = Promise.resolve();
    } else {
      this.connected = this.connect();
    }
    return this.connected;
  }

  // Like the PHP library: rr listens before it spawns us, so a few quick retries suffice.
  private async connect(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        this.socket = await openSocket(this.relay);
        this.socket.on("data", (chunk: Uint8Array) => this.decoder.push(chunk));
        this.socket.on("close", () => this.ended());
        this.socket.on("error", () => {});
        return;
      } catch (error) {
        lastError = error;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    throw new Error(`Cannot connect to ${this.relay}: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  }

  private onFrame(frame: Frame): void {
    if (frame.flags & FLAG.CONTROL) return this.onControl(frame);
    if (frame.byte10 & STREAM_BITS.STOP) {
      this.stream?.stop();
      return;
    }
    if (frame.byte10 & STREAM_BITS.PONG) return;
    const split = frame.options[0] ?? 0;
    const payload = frame.payload;
    this.deliver(new Request(this, payload.subarray(0, split), payload.subarray(split), frame.flags));
  }

  private onControl(frame: Frame): void {
    let control: { pid?: unknown; stop?: unknown };
    try {
      control = JSON.parse(decoder.decode(frame.payload));
    } catch {
      return this.fail(new Error(`Invalid control frame from rr: ${decoder.decode(frame.payload)}`));
    }
    if (control.stop) return this.close();
    if (control.pid) {
      this.send(encodeFrame(FLAG.CONTROL, 0, [], encoder.encode(`{"pid":${process.pid}}`)));
      return;
    }
    this.fail(new Error("Invalid task header, undefined control package"));
  }

  private deliver(request: Request): void {
    const waiter = this.waiter;
    if (waiter && !this.unanswered) {
      this.waiter = null;
      this.failure = null;
      this.unanswered = true;
      waiter({ value: request, done: false });
    } else {
      this.inbox.push(request);
    }
  }

  private ended(): void {
    this.decoder.end();
    this.close();
  }

  private fail(error: Error): void {
    this.error = error;
    this.done = true;
    const failure = this.failure;
    this.waiter = null;
    this.failure = null;
    failure?.(error);
  }
}

function openSocket(address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const rest = address.slice(address.indexOf("://") + 3);
    let socket: Socket;
    if (address.startsWith("unix://")) {
      socket = connect(rest);
    } else {
      const colon = rest.lastIndexOf(":");
      socket = connect(Number(rest.slice(colon + 1)), rest.slice(0, colon));
      socket.setNoDelay(true);
    }
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}
