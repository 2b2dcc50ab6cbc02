// One worker process speaking goridge (shared/spec/goridge.md §2–3): spawn,
// pid handshake, exec, streams, stop, and what happens when it misbehaves.
import {
  ExecTTLError,
  RRError,
  ScriptNotFoundError,
  SoftJobError,
  SpawnError,
  WorkerCrashedError,
  WorkerStopRequestedError,
} from "../errors.ts";
import { encodeFrame, encodePayloadFrame, FLAG, type Frame, STREAM_BITS } from "../goridge/frame.ts";
import { type FrameHandlers, PipesRelay, type Relay } from "../goridge/relay.ts";
import { handshakePid, type SocketRelayServer } from "../goridge/relay-socket.ts";
import type { Logger } from "../logs/types.ts";
import { getPlatform } from "../platform/index.ts";
import type { ChildProcess, ExitStatus } from "../platform/types.ts";
import process from "node:process";
import { OutputLog } from "./output.ts";
import { type StreamSource, WorkerStream } from "./stream.ts";
import type { ExecOptions, Payload, Worker, WorkerResponse } from "./types.ts";
import { WORKER_STATE_NAMES, WorkerState } from "./types.ts";

export interface SpawnWorkerOptions {
  command: string[];
  /** The full environment of the worker (built by the server plugin). */
  env: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  relay: "pipes" | SocketRelayServer;
  /** Bound on the handshake (allocate_timeout). */
  allocateTimeoutMs: number;
  logger: Logger;
  /** Called once the process has exited and been reaped. */
  onExit?: (worker: Worker, status: { code: number | null; signal: string | null }) => void;
}

/** How long stop() waits for the process to exit before SIGKILL, as RoadRunner does. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const DEFAULT_STREAM_TIMEOUT_MS = 60_000;
/** After a socket relay closes, how long the process may take to exit before it is killed. */
const RELAY_CLOSE_GRACE_MS = 200;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const STOP_COMMAND = encodeFrame(FLAG.CONTROL | FLAG.CODEC_JSON, 0, [], encoder.encode('{"stop":true}'));
const STOP_STREAM = encodeFrame(0, STREAM_BITS.STOP, []);
const PONG = encodeFrame(0, STREAM_BITS.PONG, []);
/** `{"stop":true}`: a response context with an empty body asking rr to stop this worker. */
const STOP_REQUEST = STOP_COMMAND.subarray(12);

/** What the worker is doing, as far as the protocol is concerned. */
const enum Phase {
  Boot,
  Idle,
  Call,
  Stream,
  Drain,
  /** Exited, killed or broken: nothing more is expected from it. */
  Dead,
}

/** States the exit of the process may overwrite (the others say why it ended). */
const LIVE_STATES: ReadonlySet<WorkerState> = new Set<WorkerState>([
  WorkerState.Inactive,
  WorkerState.Ready,
  WorkerState.Working,
  WorkerState.Stopping,
  WorkerState.Stopped,
]);

export class ProcessWorker implements Worker, FrameHandlers, StreamSource {
  pid = 0;
  readonly created = Date.now();
  numExecs = 0;
  lastUsed = 0;
  exited!: Promise<ExitStatus>;

  private _state: WorkerState = WorkerState.Inactive;
  private phase = Phase.Boot;
  private readonly options: SpawnWorkerOptions;
  private readonly logger: Logger;
  private readonly stderr: OutputLog;
  private readonly stdout: OutputLog;
  private child: ChildProcess | null = null;
  private relay: Relay | null = null;
  private pipes: PipesRelay | null = null;
  private exitStatus: ExitStatus | null = null;
  private stopping: Promise<void> | null = null;

  // The call in flight (one at a time): no per-exec closures beyond the promise itself.
  private resolveCall: ((r: WorkerResponse) => void) | null = null;
  private rejectCall: ((e: Error) => void) | null = null;
  private stream: WorkerStream | null = null;
  private resolveDrain: (() => void) | null = null;
  private drainPromise: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private relayGone: ReturnType<typeof setTimeout> | undefined;
  private execTtlMs = 0;
  private streamTimeoutMs = DEFAULT_STREAM_TIMEOUT_MS;

  // Boot: the handshake reply (pipes) or the socket claim.
  private bootResolve: ((frame: Frame | null) => void) | null = null;
  private bootError: Error | null = null;

  constructor(options: SpawnWorkerOptions) {
    this.options = options;
    this.logger = options.logger;
    this.stderr = new OutputLog(options.logger, "stderr");
    this.stdout = new OutputLog(options.logger, "stdout");
  }

  get state(): WorkerState {
    return this._state;
  }

  /** Destroyed is terminal: nothing moves a worker out of it. */
  set state(next: WorkerState) {
    if (this._state !== WorkerState.Destroyed) this._state = next;
  }

  stderrTail(): string {
    return this.stderr.text();
  }

  private get commandLine(): string {
    return this.options.command.join(" ");
  }

  // ---- boot ------------------------------------------------------------------------------------

  async start(): Promise<void> {
    const o = this.options;
    const socket = o.relay === "pipes" ? null : o.relay;
    if (!socket) this.pipes = new PipesRelay();
    const pipes = this.pipes;
    let child: ChildProcess;
    try {
      child = getPlatform().spawn({
        cmd: o.command,
        cwd: o.cwd,
        env: o.env,
        uid: o.uid,
        gid: o.gid,
        newProcessGroup: true,
        stdin: pipes ? "pipe" : "ignore",
        stdout: "pipe",
        stderr: "pipe",
        // Pipes: stdout carries frames. Sockets: stdout is only logged (it cannot corrupt anything).
        onStdout: pipes ? (chunk) => pipes.push(chunk) : (chunk) => this.stdout.write(chunk),
        onStderr: (chunk) => this.stderr.write(chunk),
      });
    } catch (error) {
      this.phase = Phase.Dead;
      this._state = WorkerState.Errored;
      this.exited = Promise.resolve({ code: null, signal: null });
      throw new SpawnError(`Cannot start worker: ${messageOf(error)}${cwdNote(o.cwd)}`);
    }
    this.child = child;
    this.pid = child.pid;
    this.stderr.pid = child.pid;
    this.stdout.pid = child.pid;
    this.exited = child.exited.then((status) => {
      this.onExit(status);
      return status;
    });

    const bootDone = new Promise<Frame | null>((resolve) => (this.bootResolve = resolve));
    const timer = setTimeout(() => this.bootResolve?.(null), o.allocateTimeoutMs);
    if (pipes) {
      this.relay = pipes;
      pipes.setWriter((data) => child.write(data));
      pipes.attach(this);
      pipes.write(encodeFrame(FLAG.CONTROL | FLAG.CODEC_JSON, 0, [], encoder.encode(`{"pid":${getPlatform().pid}}`)));
    } else {
      socket!.claim(child.pid, o.allocateTimeoutMs).then((relay) => {
        if (!relay) return this.bootResolve?.(null);
        if (this.phase !== Phase.Boot) return relay.close();
        this.relay = relay;
        relay.attach(this);
        // The relay server did the handshake; any frame will do as "ready".
        this.bootResolve?.({ flags: FLAG.CONTROL, byte10: 0, options: [], payload: encoder.encode(`{"pid":${child.pid}}`) });
      });
    }
    const reply = await bootDone;
    clearTimeout(timer);
    this.bootResolve = null;

    let failure: Error | null = this.bootError;
    if (!failure && this.exitStatus) failure = this.bootExitError();
    if (!failure && !reply) failure = this.handshakeTimeoutError();
    if (!failure && reply) {
      const pid = handshakePid(reply);
      if (typeof pid === "string") failure = new SpawnError(`Worker ${this.pid} (${this.commandLine}) failed the handshake: ${pid}${this.tailNote()}`);
    }
    if (failure) {
      this.phase = Phase.Dead;
      if (socket) socket.abandon(child.pid);
      this.kill();
      await this.exited;
      throw failure;
    }
    this.phase = Phase.Idle;
    this.state = WorkerState.Ready;
  }

  private handshakeTimeoutError(): SpawnError {
    const o = this.options;
    const how = o.relay === "pipes"
      ? "it must read its stdin and answer the pid request (the PHP worker does so in waitPayload())"
      : `it must connect to RR_RELAY=${o.relay.address} and report its own pid (a wrapper such as "sh -c" forks a different pid)`;
    return new SpawnError(
      `Worker ${this.pid} (${this.commandLine}) did not complete the goridge handshake within ${o.allocateTimeoutMs} ms: ${how}. ` +
        `Raise pool.allocate_timeout if it boots slowly${this.tailNote()}`,
    );
  }

  /** The process exited before its handshake: say how, with what it printed. */
  private bootExitError(): Error {
    const status = this.exitStatus!;
    const printed = this.stdout.text();
    if (printed.startsWith("Could not open input file")) return this.scriptNotFound(printed);
    return new SpawnError(
      `Worker ${this.pid} (${this.commandLine}) exited during boot ${describeStatus(status)}${this.tailNote()}` +
        (printed ? `\nIt printed on stdout:\n${printed}` : ""),
    );
  }

  private scriptNotFound(phpText: string): ScriptNotFoundError {
    return new ScriptNotFoundError(
      `Worker script not found: "${this.commandLine}" says "${phpText.trim()}". ` +
        `Check server.command (relative paths resolve against ${this.options.cwd ?? process.cwd()}).`,
    );
  }

  // ---- exec ------------------------------------------------------------------------------------

  exec(payload: Payload, options?: ExecOptions): Promise<WorkerResponse> {
    if (this.phase !== Phase.Idle || this._state !== WorkerState.Ready) {
      const dead = this.phase === Phase.Dead || this.exitStatus !== null;
      const text = `Worker ${this.pid} cannot take a request: it is ${WORKER_STATE_NAMES[this._state]}`;
      return Promise.reject(dead ? new WorkerCrashedError(text) : new RRError(`${text} (one request at a time)`));
    }
    this.phase = Phase.Call;
    this._state = WorkerState.Working;
    this.execTtlMs = options?.timeoutMs ?? 0;
    this.streamTimeoutMs = options?.streamTimeoutMs ?? DEFAULT_STREAM_TIMEOUT_MS;
    const promise = new Promise<WorkerResponse>((resolve, reject) => {
      this.resolveCall = resolve;
      this.rejectCall = reject;
    });
    if (this.execTtlMs > 0) this.timer = setTimeout(this.onExecTimeout, this.execTtlMs);
    this.relay!.write(encodePayloadFrame(payload.codec, 0, payload.context, payload.body));
    return promise;
  }

  private readonly onExecTimeout = (): void => {
    this.timer = undefined;
    if (this.phase !== Phase.Call && this.phase !== Phase.Stream) return;
    this.state = WorkerState.ExecTTLReached;
    this.logger.warn(`Worker ${this.pid} exceeded exec_ttl (${this.execTtlMs} ms); killing it`, { pid: this.pid });
    this.fail(new ExecTTLError(`Worker ${this.pid} exceeded exec_ttl (${this.execTtlMs} ms) and was killed`));
    this.kill();
  };

  /** The request (or stream) ended: the worker is free again. */
  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.numExecs++;
    this.lastUsed = Date.now();
    this.phase = Phase.Idle;
    if (this._state === WorkerState.Working) this._state = WorkerState.Ready;
  }

  /** Settle whatever is in flight with this error; nothing more is expected from the worker. */
  private fail(error: Error): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const phase = this.phase;
    this.phase = Phase.Dead;
    if (phase === Phase.Call) {
      const reject = this.rejectCall!;
      this.resolveCall = this.rejectCall = null;
      reject(error);
    } else if (phase === Phase.Stream) {
      const stream = this.stream!;
      this.stream = null;
      stream.fail(error);
    } else if (phase === Phase.Drain) {
      this.endDrain();
    }
  }

  /** A protocol violation: the worker is broken beyond use. */
  private broken(message: string): void {
    this.state = WorkerState.Errored;
    this.logger.error(message, { pid: this.pid });
    this.fail(new WorkerCrashedError(message));
    this.kill();
  }

  // ---- frames from the relay -------------------------------------------------------------------

  onFrame(frame: Frame): void {
    switch (this.phase) {
      case Phase.Call:
        return this.onResponse(frame);
      case Phase.Stream:
        return this.onStreamFrame(frame);
      case Phase.Drain:
        if (!(frame.byte10 & STREAM_BITS.STREAM)) this.endDrain();
        return;
      case Phase.Boot:
        if (this.bootResolve) this.bootResolve(frame);
        return;
      case Phase.Idle:
        return this.broken(
          `Worker ${this.pid} sent a frame while idle (flags 0x${frame.flags.toString(16)}, ${frame.payload.length} bytes); ` +
            "a worker may only answer requests",
        );
      case Phase.Dead:
        return;
    }
  }

  private onResponse(frame: Frame): void {
    const payload = frame.payload;
    if (frame.flags & FLAG.ERROR) {
      this.release();
      const reject = this.rejectCall!;
      this.resolveCall = this.rejectCall = null;
      reject(new SoftJobError(decoder.decode(payload)));
      return;
    }
    const response = this.splitPayload(frame);
    if (!response) return;
    if (response.body.length === 0 && sameBytes(response.context, STOP_REQUEST)) {
      // The worker asked to be stopped (PHP Worker::stop()): retry the request elsewhere.
      this.release();
      this._state = WorkerState.Invalid;
      this.phase = Phase.Dead;
      const reject = this.rejectCall!;
      this.resolveCall = this.rejectCall = null;
      reject(new WorkerStopRequestedError(`Worker ${this.pid} asked to be stopped; the request goes to another worker`));
      void this.stop(DEFAULT_STOP_TIMEOUT_MS);
      return;
    }
    const resolve = this.resolveCall!;
    this.resolveCall = this.rejectCall = null;
    if (frame.byte10 & STREAM_BITS.STREAM) {
      this.phase = Phase.Stream;
      const stream = new WorkerStream(this);
      this.stream = stream;
      if (this.execTtlMs > 0) this.restartTimer(this.onExecTimeout, this.execTtlMs);
      (response as WorkerResponse).stream = stream;
      resolve(response);
      return;
    }
    this.release();
    resolve(response);
  }

  private onStreamFrame(frame: Frame): void {
    const stream = this.stream!;
    if (frame.flags & FLAG.ERROR) {
      this.stream = null;
      this.release();
      stream.fail(new SoftJobError(decoder.decode(frame.payload)));
      return;
    }
    const payload = this.splitPayload(frame);
    if (!payload) return;
    const last = !(frame.byte10 & STREAM_BITS.STREAM);
    if (last) {
      this.stream = null;
      this.release();
    } else if (this.execTtlMs > 0) {
      this.restartTimer(this.onExecTimeout, this.execTtlMs);
    }
    stream.deliver(payload, (frame.byte10 & STREAM_BITS.PING) !== 0, last);
  }

  /** Context and body of a data frame, or null after declaring the worker broken. */
  private splitPayload(frame: Frame): WorkerResponse | null {
    if (frame.options.length !== 1) {
      this.broken(
        `Worker ${this.pid} sent a response with ${frame.options.length} options; ` +
          "a worker response carries exactly one (the context length)",
      );
      return null;
    }
    const payload = frame.payload;
    const contextLength = frame.options[0];
    if (contextLength > payload.length) {
      this.broken(`Worker ${this.pid} sent a bad payload: context length ${contextLength} exceeds the payload (${payload.length} bytes)`);
      return null;
    }
    return { context: payload.subarray(0, contextLength), body: payload.subarray(contextLength), codec: frame.flags };
  }

  onFrameError(error: Error): void {
    if (this.phase === Phase.Boot) {
      this.bootError = error instanceof ScriptNotFoundError
        ? this.scriptNotFound(error.message)
        : new SpawnError(`Worker ${this.pid} (${this.commandLine}) broke the protocol during the handshake: ${error.message}`);
      this.bootResolve?.(null);
      return;
    }
    if (this.phase === Phase.Dead) return;
    this.broken(`Worker ${this.pid} broke the protocol: ${error.message}`);
  }

  onRelayClose(): void {
    // A worker without its relay is useless. The exit handler reports what happened
    // (with the exit code); give the process a moment to exit by itself first.
    if (this.exitStatus !== null || this.stopping || this.phase === Phase.Boot) return;
    this.relayGone = setTimeout(() => this.kill(), RELAY_CLOSE_GRACE_MS);
  }

  // ---- streams ---------------------------------------------------------------------------------

  pong(): void {
    if (this.phase === Phase.Stream) this.relay!.write(PONG);
  }

  cancelStream(stream: WorkerStream): Promise<void> {
    if (this.phase === Phase.Drain && this.drainPromise) return this.drainPromise;
    if (this.phase !== Phase.Stream || this.stream !== stream) return Promise.resolve();
    this.stream = null;
    stream.finish();
    this.phase = Phase.Drain;
    this.numExecs++;
    this.relay!.write(STOP_STREAM);
    this.drainPromise = new Promise<void>((resolve) => (this.resolveDrain = resolve));
    this.restartTimer(this.onDrainTimeout, this.streamTimeoutMs);
    return this.drainPromise;
  }

  private readonly onDrainTimeout = (): void => {
    this.timer = undefined;
    if (this.phase !== Phase.Drain) return;
    this.state = WorkerState.Errored;
    this.logger.warn(`Worker ${this.pid} did not end its stream within stream_timeout (${this.streamTimeoutMs} ms); killing it`, {
      pid: this.pid,
    });
    this.phase = Phase.Dead;
    this.kill();
    this.endDrain();
  };

  private endDrain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.phase === Phase.Drain) {
      this.phase = Phase.Idle;
      this.lastUsed = Date.now();
      if (this._state === WorkerState.Working) this._state = WorkerState.Ready;
    }
    const resolve = this.resolveDrain;
    this.resolveDrain = null;
    this.drainPromise = null;
    resolve?.();
  }

  private restartTimer(fn: () => void, ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(fn, ms);
  }

  // ---- stop, kill, exit ------------------------------------------------------------------------

  stop(timeoutMs: number = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.exitStatus) return Promise.resolve();
    this.stopping = this.stopGracefully(timeoutMs);
    return this.stopping;
  }

  private async stopGracefully(timeoutMs: number): Promise<void> {
    // A state that says why the worker goes (invalid, maxJobsReached, ...) is kept.
    const live = this._state === WorkerState.Ready || this._state === WorkerState.Working || this._state === WorkerState.Inactive;
    if (live) this.state = WorkerState.Stopping;
    this.relay?.write(STOP_COMMAND);
    if (live) this.state = WorkerState.Stopped;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.logger.warn(`Worker ${this.pid} did not exit within ${timeoutMs} ms of the stop command; killing it`, { pid: this.pid });
      this.kill();
      await this.exited;
    }
  }

  kill(): void {
    if (this.exitStatus === null) this.child?.killGroup("SIGKILL");
  }

  private onExit(status: ExitStatus): void {
    this.exitStatus = status;
    // Pipes: stdout is drained now; this may report "Could not open input file".
    this.pipes?.end();
    this.relay?.close();
    if (LIVE_STATES.has(this._state)) {
      this.state = this.stopping || (status.code === 0 && status.signal === null) ? WorkerState.Stopped : WorkerState.Errored;
    }
    if (this.phase === Phase.Boot) {
      this.bootResolve?.(null);
    } else if (this.phase !== Phase.Dead && this.phase !== Phase.Idle) {
      const doing = this.phase === Phase.Call ? "while handling a request" : "in the middle of a streamed response";
      this.fail(new WorkerCrashedError(`Worker ${this.pid} exited ${describeStatus(status)} ${doing}${this.tailNote()}`));
    } else if (this.phase === Phase.Idle && !this.stopping) {
      this.logger.debug(`Worker ${this.pid} exited ${describeStatus(status)} while idle`, { pid: this.pid });
    }
    this.phase = Phase.Dead;
    clearTimeout(this.timer);
    clearTimeout(this.relayGone);
    this.options.onExit?.(this, status);
  }

  private tailNote(): string {
    const tail = this.stderr.text();
    return tail ? `; last stderr lines:\n${tail}` : "; it printed nothing on stderr";
  }
}

function describeStatus(status: ExitStatus): string {
  if (status.signal) return `(killed by ${status.signal})`;
  return `with code ${status.code}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function cwdNote(cwd: string | undefined): string {
  return cwd ? ` (working directory ${cwd})` : "";
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
