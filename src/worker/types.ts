// What the pool and plugins see of one worker process. The implementation
// (spawn, handshake, frames, relays) lives in src/worker/ and src/goridge/.

/** Worker states and their numeric codes, as RoadRunner's informer reports them (goridge spec §3.8). */
export const WorkerState = {
  Inactive: 0,
  Ready: 1,
  Working: 2,
  Invalid: 3,
  Stopping: 4,
  Stopped: 5,
  Destroyed: 6,
  MaxJobsReached: 7,
  Errored: 8,
  IdleTTLReached: 9,
  TTLReached: 10,
  MaxMemoryReached: 11,
  ExecTTLReached: 12,
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];

export const WORKER_STATE_NAMES: Record<WorkerState, string> = {
  0: "inactive",
  1: "ready",
  2: "working",
  3: "invalid",
  4: "stopping",
  5: "stopped",
  6: "destroyed",
  7: "maxJobsReached",
  8: "errored",
  9: "idleTTLReached",
  10: "ttlReached",
  11: "maxMemoryReached",
  12: "execTTLReached",
};

/** A request or response: context ("header" in PHP) and body, plus the frame's codec flags (byte 1). */
export interface Payload {
  context: Uint8Array;
  body: Uint8Array;
  /** Codec flags for the frame: 0, CODEC_RAW 0x04, CODEC_JSON 0x08, CODEC_PROTO 0x80. */
  codec: number;
}

/** The frames that follow a response whose STREAM bit was set. */
export interface ResponseStream extends AsyncIterable<Payload> {
  /** Cancel: send STOP, drain until the last frame within stream_timeout, else kill the worker. */
  cancel(): Promise<void>;
}

export interface WorkerResponse extends Payload {
  /** Set when the first frame had the STREAM bit: iterate it for the rest of the response. */
  stream?: ResponseStream;
}

export interface ExecOptions {
  /** Hard limit (exec_ttl) in ms: when exceeded the worker is killed and exec rejects with ExecTTLError. */
  timeoutMs?: number;
  /** stream_timeout in ms for draining after a cancel. */
  streamTimeoutMs?: number;
}

/** One live worker process, as seen by the pool. */
export interface Worker {
  readonly pid: number;
  /** Unix ms when the worker object was created (just before spawn). */
  readonly created: number;
  state: WorkerState;
  /** Completed execs. */
  readonly numExecs: number;
  /** Unix ms of the last finished exec (0 = never used), for idle_ttl. */
  readonly lastUsed: number;
  /**
   * Send one request and wait for the response (one request at a time per worker).
   * Rejects with SoftJobError (ERROR frame; the worker stays usable), WorkerStopRequestedError
   * (the worker asked to stop; retry elsewhere), ExecTTLError, or WorkerCrashedError.
   */
  exec(payload: Payload, options?: ExecOptions): Promise<WorkerResponse>;
  /** Graceful stop: {"stop":true} control frame, wait up to timeoutMs, then SIGKILL the group. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL the worker's process group at once. */
  kill(): void;
  /** Resolves when the process has exited and been reaped. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** Last lines the worker wrote to stderr (for error messages when it dies). */
  stderrTail(): string;
}
