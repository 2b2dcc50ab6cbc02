// The worker pool: a stack of idle workers, a FIFO of waiting callers, worker
// replacement (max_jobs, crashes, soft limits), boot-crash backoff, reset and destroy.
//
// Hot path: exec() pops an idle worker, runs the request and pushes the worker
// back (or hands it straight to the oldest waiter). No timers unless exec_ttl is
// set (the worker arms it) or the caller actually has to wait (allocate_timeout).
import type { PoolConfig } from "../config/sections/pool.ts";
import {
  ExecTTLError,
  NoFreeWorkersError,
  PoolClosedError,
  QueueFullError,
  RRError,
  SoftJobError,
  SpawnError,
  WorkerStopRequestedError,
} from "../errors.ts";
import type { Logger } from "../logs/types.ts";
import type { Platform } from "../platform/types.ts";
import type { WorkerInfo } from "../plugins/types.ts";
import { type ExecOptions, type Payload, type Worker, type WorkerResponse, WorkerState, WORKER_STATE_NAMES } from "../worker/types.ts";
import { DynamicAllocator } from "./allocator.ts";
import { describeWorker } from "./info.ts";
import { holdOrphanReaper } from "./reaper.ts";
import type { Slot, SlotKind } from "./slot.ts";
import { holdWorkerDuringStream } from "./stream.ts";
import { Supervisor } from "./supervisor.ts";
import type { Pool, PoolStats } from "./types.ts";
import { type Waiter, WaiterQueue } from "./waiters.ts";

export interface PoolOptions {
  /** The plugin that owns the pool ("http", "jobs", ...). */
  name: string;
  /** The validated `<plugin>.pool` section (durations in ms). */
  config: PoolConfig;
  /** Start one worker process and complete its handshake. */
  spawnWorker: () => Promise<Worker>;
  logger: Logger;
  platform: Platform;
}

/** RoadRunner waits this long for a worker to exit after the stop command, then kills it. */
const WORKER_STOP_GRACE_MS = 10_000;
/** Boot-crash backoff: 100 ms doubling to 5 s. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** A worker that dies unused sooner than this after its start counts as a failed start. */
const HEALTHY_AFTER_MS = 5_000;
/** RoadRunner caps num_workers at 500. */
const MAX_NUM_WORKERS = 500;
/** max_jobs jitter (RoadRunner adds 0–14 % per worker so workers are not all replaced at once). */
const MAX_JOBS_JITTER = 0.14;

/** Create a pool and start its workers. Rejects with the real cause when they cannot start. */
export async function createPool(options: PoolOptions): Promise<Pool> {
  const pool = new WorkerPool(options);
  await pool.start();
  return pool;
}

export function formatDuration(ms: number): string {
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms)}ms`;
}

export class WorkerPool implements Pool {
  readonly name: string;
  private readonly config: PoolConfig;
  private readonly spawnWorker: () => Promise<Worker>;
  private readonly logger: Logger;
  private readonly platform: Platform;

  private readonly debug: boolean;
  private readonly numWorkers: number;
  private readonly execOptions: ExecOptions;
  private readonly stopTimeoutMs: number;
  private readonly maxStopRetries: number;

  /** Workers in the pool (busy or idle), not yet retired. */
  private readonly live = new Set<Slot>();
  /** Idle workers; the most recently used on top. */
  private readonly idle: Slot[] = [];
  private readonly waiters = new WaiterQueue<Slot>();
  /** Retired workers not yet exited: destroy() waits for them (and kills them at the deadline). */
  private readonly exiting = new Set<Worker>();

  private baseLive = 0;
  private basePending = 0;
  private extraLive = 0;
  private busyCount = 0;
  private generation = 0;

  private spawnFailures = 0;
  private lastSpawnError: Error | undefined;
  private readonly respawnTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly pendingSpawns = new Set<Promise<unknown>>();
  /** Callers of reset() waiting for the pool to be full again. */
  private fullWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  private drainWaiters: (() => void)[] = [];

  private totalExecs = 0;
  private totalErrors = 0;

  private closed = false;
  private destroying: Promise<void> | undefined;
  private readonly supervisor: Supervisor | undefined;
  private readonly allocator: DynamicAllocator | undefined;
  private releaseReaper: () => void = () => {};

  constructor(options: PoolOptions) {
    this.name = options.name;
    this.config = options.config;
    this.spawnWorker = options.spawnWorker;
    this.logger = options.logger;
    this.platform = options.platform;
    const config = options.config;
    this.debug = config.debug;
    const wanted = config.num_workers > 0 ? config.num_workers : options.platform.cpuCount();
    this.numWorkers = this.debug ? 0 : Math.min(wanted, MAX_NUM_WORKERS);
    const execTTL = config.supervisor?.exec_ttl ?? 0;
    this.execOptions = { timeoutMs: execTTL > 0 ? execTTL : undefined, streamTimeoutMs: config.stream_timeout };
    this.stopTimeoutMs = Math.min(WORKER_STOP_GRACE_MS, config.destroy_timeout);
    this.maxStopRetries = Math.max(3, this.numWorkers);
    if (config.supervisor && !this.debug) {
      this.supervisor = new Supervisor(this, config.supervisor, options.platform, options.logger);
    }
    if (config.dynamic_allocator && !this.debug) this.allocator = new DynamicAllocator(this, config.dynamic_allocator);
  }

  /** Start num_workers workers in parallel; any failure fails the pool (as RoadRunner does). */
  async start(): Promise<void> {
    this.releaseReaper = holdOrphanReaper(this.platform);
    const results = await Promise.allSettled(Array.from({ length: this.numWorkers }, () => this.spawnWorker()));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) {
      const workers = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      for (const worker of workers) worker.kill();
      await Promise.all(workers.map((worker) => worker.exited));
      this.closed = true;
      this.releaseReaper();
      throw this.spawnError(`cannot start ${this.numWorkers} worker(s)`, failure.reason);
    }
    for (const result of results) {
      if (result.status === "fulfilled") this.addSlot(result.value, "base");
    }
    this.supervisor?.start();
  }

  // ---- exec -------------------------------------------------------------------------------------

  async exec(payload: Payload, signal?: AbortSignal): Promise<WorkerResponse> {
    if (this.closed) throw this.closedError();
    if (this.debug) return this.execDebug(payload);
    for (let attempt = 0; ; attempt++) {
      let slot = this.idle.pop();
      if (slot) {
        slot.busy = true;
        this.busyCount++;
      } else {
        // handOut() marked it busy already, so nothing can retire it as idle in between.
        slot = await this.waitForWorker(signal);
        if (slot.retired) {
          // It died between the hand-over and now: not this request's fault, wait for another.
          attempt--;
          continue;
        }
      }
      let response: WorkerResponse;
      try {
        response = await slot.worker.exec(payload, this.execOptions);
      } catch (error) {
        if (error instanceof SoftJobError) {
          this.totalExecs++;
          this.totalErrors++;
          this.release(slot);
          throw error;
        }
        if (error instanceof WorkerStopRequestedError) {
          // The worker asked to stop before answering: replace it and run the request elsewhere.
          this.retire(slot, WorkerState.Invalid, "the worker asked to stop");
          if (attempt < this.maxStopRetries && !this.closed) continue;
          this.totalErrors++;
          throw new WorkerStopRequestedError(
            `Pool "${this.name}": ${attempt + 1} workers in a row asked to stop instead of answering the request; ` +
              `check the worker script for a loop that calls $worker->stop()`,
          );
        }
        this.totalErrors++;
        this.retire(
          slot,
          error instanceof ExecTTLError ? WorkerState.ExecTTLReached : WorkerState.Errored,
          error instanceof Error ? error.message : String(error),
        );
        throw error;
      }
      this.totalExecs++;
      this.releaseAfter(response, slot);
      return response;
    }
  }

  /** debug: a fresh worker per request, stopped once the response (or its stream) is done. */
  private async execDebug(payload: Payload): Promise<WorkerResponse> {
    let worker: Worker;
    try {
      worker = await this.track(this.spawnWorker());
    } catch (error) {
      this.totalErrors++;
      throw this.spawnError("cannot start a worker (debug mode starts one per request)", error);
    }
    const slot = this.addSlot(worker, "debug", false);
    if (!slot) throw this.closedError();
    slot.busy = true;
    this.busyCount++;
    try {
      const response = await worker.exec(payload, this.execOptions);
      this.totalExecs++;
      this.releaseAfter(response, slot);
      return response;
    } catch (error) {
      this.totalErrors++;
      this.release(slot);
      throw error;
    }
  }

  /** Release the worker now, or once the response's stream is done. */
  private releaseAfter(response: WorkerResponse, slot: Slot): void {
    if (response.stream) {
      response.stream = holdWorkerDuringStream(response.stream, () => this.release(slot));
    } else {
      this.release(slot);
    }
  }

  private waitForWorker(signal: AbortSignal | undefined): Promise<Slot> {
    const limit = this.config.max_queue_size;
    if (limit > 0 && this.waiters.size >= limit) {
      this.totalErrors++;
      return Promise.reject(
        new QueueFullError(
          `Pool "${this.name}": request refused, max_queue_size (${limit}) reached: ${this.waiters.size} callers are ` +
            `already waiting for a worker; raise ${this.name}.pool.max_queue_size or num_workers`,
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter<Slot> = { resolve, reject, timer: undefined, settled: false, signal, onAbort: undefined };
      const timeout = this.config.allocate_timeout;
      waiter.timer = setTimeout(() => {
        const depth = this.waiters.size;
        this.waiters.cancel(waiter);
        this.dropAbortListener(waiter);
        this.totalErrors++;
        reject(
          new NoFreeWorkersError(
            `Pool "${this.name}": no free worker within allocate_timeout (${formatDuration(timeout)}); ` +
              `${depth} caller(s) were waiting and all ${this.live.size} worker(s) were busy. ` +
              `Raise ${this.name}.pool.num_workers or allocate_timeout, or enable pool.dynamic_allocator`,
          ),
        );
      }, timeout);
      if (signal) {
        waiter.onAbort = () => {
          clearTimeout(waiter.timer);
          this.waiters.cancel(waiter);
          reject(abortReason(signal));
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.allocator?.onCallerWaiting();
    });
  }

  private dropAbortListener(waiter: Waiter<Slot>): void {
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener("abort", waiter.onAbort);
  }

  /** A waiter taken off the queue is about to be resolved or rejected: stop its timer and abort listener. */
  private settleWaiter(waiter: Waiter<Slot>): void {
    waiter.settled = true;
    clearTimeout(waiter.timer);
    this.dropAbortListener(waiter);
  }

  /** Give a worker to the oldest waiter, or put it on the idle stack. */
  private handOut(slot: Slot): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.settleWaiter(waiter);
      slot.busy = true;
      this.busyCount++;
      waiter.resolve(slot);
      return;
    }
    slot.idleSince = Date.now();
    this.idle.push(slot);
  }

  /** A request finished on this worker: keep it, or replace it if it hit a limit. */
  private release(slot: Slot): void {
    if (!slot.busy) return;
    this.endBusy(slot);
    // A request went through: workers start fine again, forget the backoff.
    if (this.spawnFailures !== 0) this.spawnFailures = 0;
    if (slot.retired) return;
    const worker = slot.worker;
    if (this.closed || slot.kind === "debug") {
      this.retire(slot, WorkerState.Destroyed, this.closed ? "the pool is closing" : "debug mode: one request per worker");
    } else if (slot.retireAs !== undefined) {
      this.retire(slot, slot.retireAs, "soft limit reached while working");
    } else if (slot.generation !== this.generation) {
      this.retire(slot, WorkerState.Destroyed, "pool reset");
    } else if (slot.maxJobs > 0 && worker.numExecs >= slot.maxJobs) {
      this.retire(slot, WorkerState.MaxJobsReached, `max_jobs (${slot.maxJobs}) reached`);
    } else if (worker.state !== WorkerState.Ready) {
      this.retire(slot, WorkerState.Invalid, `left in state ${WORKER_STATE_NAMES[worker.state] ?? worker.state}`);
    } else {
      this.handOut(slot);
    }
  }

  private endBusy(slot: Slot): void {
    slot.busy = false;
    this.busyCount--;
    if (this.busyCount === 0 && this.drainWaiters.length > 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  // ---- worker lifecycle -------------------------------------------------------------------------

  private addSlot(worker: Worker, kind: SlotKind, handOut = true): Slot | undefined {
    if (this.closed) {
      this.trackExiting(worker);
      worker.kill();
      return undefined;
    }
    const maxJobs = this.config.max_jobs > 0
      ? this.config.max_jobs + Math.floor(Math.random() * MAX_JOBS_JITTER * this.config.max_jobs)
      : 0;
    const slot: Slot = {
      worker,
      kind,
      maxJobs,
      generation: this.generation,
      busy: false,
      retired: false,
      retireAs: undefined,
      idleSince: Date.now(),
    };
    this.live.add(slot);
    if (kind === "base") this.baseLive++;
    else if (kind === "extra") this.extraLive++;
    void worker.exited.then((status) => this.onWorkerExit(slot, status.code, status.signal));
    if (this.fullWaiters.length > 0 && this.isFull()) {
      for (const waiter of this.fullWaiters.splice(0)) waiter.resolve();
    }
    if (handOut) this.handOut(slot);
    return slot;
  }

  /** Take a worker out of the pool and stop it; start a replacement when the pool needs one. */
  private retire(slot: Slot, state: WorkerState, reason: string): void {
    if (slot.retired) return;
    slot.retired = true;
    this.live.delete(slot);
    if (slot.kind === "base") this.baseLive--;
    else if (slot.kind === "extra") this.extraLive--;
    if (slot.busy) {
      // Only exec()'s failure path retires a busy worker: its request is over.
      this.endBusy(slot);
    } else {
      const index = this.idle.lastIndexOf(slot);
      if (index >= 0) this.idle.splice(index, 1);
    }
    const worker = slot.worker;
    this.logger.debug("Stopping worker", { pool: this.name, pid: worker.pid, state: WORKER_STATE_NAMES[state], reason });
    this.trackExiting(worker);
    void worker.stop(this.stopTimeoutMs).catch((error: unknown) => {
      this.logger.warn("Worker did not stop cleanly", { pool: this.name, pid: worker.pid, error: String(error) });
    });
    worker.state = state;
    this.ensureCapacity();
  }

  /** destroy() waits for (and at its deadline kills) a worker on its way out until it has exited. */
  private trackExiting(worker: Worker): void {
    this.exiting.add(worker);
    void worker.exited.then(() => this.exiting.delete(worker));
  }

  /** Soft limits (supervisor, idle extras): retire now when idle, after the current job when busy. */
  retireSoft(slot: Slot, state: WorkerState, reason: string): void {
    if (slot.retired) return;
    if (slot.busy) {
      slot.retireAs ??= state;
      this.logger.debug("Worker will be replaced after its current job", { pool: this.name, pid: slot.worker.pid, reason });
      return;
    }
    this.logger.debug("Worker reached a limit", { pool: this.name, pid: slot.worker.pid, reason });
    this.retire(slot, state, reason);
  }

  private onWorkerExit(slot: Slot, code: number | null, signal: string | null): void {
    // Whatever the worker left running in its process group (background jobs, forks) goes too.
    // The group id stays reserved while any member lives, so this cannot hit an unrelated process.
    this.platform.kill(-slot.worker.pid, "SIGKILL");
    if (slot.retired) return;
    const worker = slot.worker;
    const tail = worker.stderrTail().trim();
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    const lived = Date.now() - worker.created;
    if (worker.numExecs === 0 && !slot.busy && lived < HEALTHY_AFTER_MS) {
      // Started, then died before serving anything: a boot problem that a plain respawn would
      // repeat in a tight loop. Count it as a failed start so the replacement backs off.
      this.onSpawnFailure(
        new SpawnError(
          `worker ${worker.pid} ${how} right after it started, before serving a request` +
            (tail ? `; last stderr lines:\n${tail}` : "; it printed nothing on stderr"),
        ),
      );
    } else {
      if (lived >= HEALTHY_AFTER_MS) this.spawnFailures = 0;
      this.logger.warn(`Worker ${worker.pid} of pool "${this.name}" ${how} unexpectedly`, tail ? { stderr: tail } : undefined);
    }
    // A busy worker's exec rejects on its own; retire() is idempotent.
    this.retire(slot, code === 0 ? WorkerState.Stopped : WorkerState.Errored, "process exited");
  }

  /** Start base workers until num_workers are live or starting (with backoff after failures). */
  private ensureCapacity(): void {
    if (this.closed) return;
    const missing = this.numWorkers - this.baseLive - this.basePending;
    for (let i = 0; i < missing; i++) this.spawnBase();
  }

  private spawnBase(): void {
    this.basePending++;
    const delay = this.spawnFailures === 0 ? 0 : backoffMs(this.spawnFailures);
    const attempt = (): void => {
      void this.track(this.spawnWorker()).then(
        (worker) => {
          this.basePending--;
          if (this.lastSpawnError) {
            this.logger.info(`Pool "${this.name}" started a worker again after ${this.spawnFailures} failed attempt(s)`);
          }
          // The backoff is kept until the worker proves itself (serves a request or lives on):
          // some die right after the handshake.
          this.lastSpawnError = undefined;
          this.addSlot(worker, "base");
        },
        (error: unknown) => {
          this.basePending--;
          this.onSpawnFailure(error);
          this.ensureCapacity();
        },
      );
    };
    if (delay === 0) {
      attempt();
      return;
    }
    const timer = setTimeout(() => {
      this.respawnTimers.delete(timer);
      if (this.closed) {
        this.basePending--;
        return;
      }
      attempt();
    }, delay);
    this.respawnTimers.add(timer);
  }

  /** Used by the dynamic allocator. */
  async spawnExtra(): Promise<boolean> {
    try {
      const worker = await this.track(this.spawnWorker());
      return this.addSlot(worker, "extra") !== undefined;
    } catch (error) {
      this.onSpawnFailure(error);
      return false;
    }
  }

  private onSpawnFailure(error: unknown): void {
    if (this.closed) return;
    this.spawnFailures++;
    const next = backoffMs(this.spawnFailures);
    const spawnError = this.spawnError("cannot start a worker", error);
    this.lastSpawnError = spawnError;
    this.logger.error(`${spawnError.message} (attempt ${this.spawnFailures}; retrying in ${formatDuration(next)})`);
    for (const waiter of this.fullWaiters.splice(0)) waiter.reject(spawnError);
    // Nobody can serve the waiting callers: tell them why instead of letting them time out.
    if (this.live.size === 0) {
      for (const waiter of this.waiters.drain()) {
        this.settleWaiter(waiter);
        this.totalErrors++;
        waiter.reject(spawnError);
      }
    }
  }

  private track<T>(spawning: Promise<T>): Promise<T> {
    this.pendingSpawns.add(spawning);
    const done = (): void => {
      this.pendingSpawns.delete(spawning);
    };
    spawning.then(done, done);
    return spawning;
  }

  private spawnError(what: string, cause: unknown): Error {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const message = `Pool "${this.name}": ${what}: ${detail}`;
    // Keep specific classes (ScriptNotFoundError, SpawnError); wrap anything else as SpawnError.
    const ErrorClass = cause instanceof RRError ? (cause.constructor as typeof RRError) : SpawnError;
    return new ErrorClass(message, { cause });
  }

  private closedError(): PoolClosedError {
    return new PoolClosedError(`Pool "${this.name}" is stopping or stopped and accepts no more requests`);
  }

  // ---- reset and destroy -------------------------------------------------------------------------

  async reset(): Promise<void> {
    if (this.closed) throw this.closedError();
    this.generation++;
    const old = [...this.live];
    const oldWorkers = old.map((slot) => slot.worker);
    this.logger.info(`Resetting pool "${this.name}"`, { workers: old.length });
    // Idle workers go now; busy ones when their job ends (release() sees the old generation).
    for (const slot of old) {
      if (!slot.busy) this.retire(slot, WorkerState.Destroyed, "pool reset");
    }
    const deadline = Date.now() + this.config.reset_timeout;
    const allExited = Promise.all(oldWorkers.map((worker) => worker.exited));
    if (!(await withDeadline(allExited, deadline))) {
      const stuck = oldWorkers.filter((worker) => this.exiting.has(worker) || this.liveHasWorker(worker));
      this.logger.warn(`Pool "${this.name}": reset_timeout reached, killing ${stuck.length} busy worker(s)`);
      for (const worker of stuck) worker.kill();
      await allExited;
    }
    // Every old worker is gone: wait for the new generation to be complete (or for a spawn error).
    if (this.isFull()) return;
    if (this.lastSpawnError) throw this.lastSpawnError;
    await new Promise<void>((resolve, reject) => this.fullWaiters.push({ resolve, reject }));
  }

  /** All num_workers base workers are live and of the current generation. */
  private isFull(): boolean {
    let current = 0;
    for (const slot of this.live) if (slot.kind === "base" && slot.generation === this.generation) current++;
    return current >= this.numWorkers;
  }

  private liveHasWorker(worker: Worker): boolean {
    for (const slot of this.live) if (slot.worker === worker) return true;
    return false;
  }

  destroy(): Promise<void> {
    this.destroying ??= this.close();
    return this.destroying;
  }

  private async close(): Promise<void> {
    this.closed = true;
    this.supervisor?.stop();
    this.allocator?.stop();
    for (const timer of this.respawnTimers) clearTimeout(timer);
    this.basePending -= this.respawnTimers.size;
    this.respawnTimers.clear();
    const closedError = this.closedError();
    for (const waiter of this.waiters.drain()) {
      this.settleWaiter(waiter);
      waiter.reject(closedError);
    }
    for (const waiter of this.fullWaiters.splice(0)) waiter.reject(closedError);
    const deadline = Date.now() + this.config.destroy_timeout;
    // Idle workers stop now; busy ones once their request (or stream) ends.
    for (const slot of [...this.live]) {
      if (!slot.busy) this.retire(slot, WorkerState.Destroyed, "the pool is closing");
    }
    if (this.busyCount > 0) {
      const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
      if (!(await withDeadline(drained, deadline))) {
        this.logger.warn(`Pool "${this.name}": destroy_timeout reached with ${this.busyCount} request(s) in flight; killing their workers`);
        for (const slot of [...this.live]) {
          slot.worker.kill();
          this.retire(slot, WorkerState.Destroyed, "destroy_timeout reached");
        }
      }
    }
    // Spawns in flight end up in addSlot(), which kills them now that the pool is closed.
    await withDeadline(Promise.allSettled([...this.pendingSpawns]), deadline);
    const exiting = [...this.exiting];
    if (!(await withDeadline(Promise.all(exiting.map((worker) => worker.exited)), deadline))) {
      for (const worker of this.exiting) worker.kill();
    }
    await Promise.all([...this.exiting].map((worker) => worker.exited));
    this.releaseReaper();
    this.logger.debug("Pool destroyed", { pool: this.name });
  }

  // ---- state ------------------------------------------------------------------------------------

  workers(): Promise<WorkerInfo[]> {
    return Promise.all([...this.live].map((slot) => describeWorker(slot.worker, this.platform)));
  }

  stats(): PoolStats {
    const workersByState: Record<string, number> = {};
    for (const slot of this.live) {
      const name = WORKER_STATE_NAMES[slot.worker.state] ?? String(slot.worker.state);
      workersByState[name] = (workersByState[name] ?? 0) + 1;
    }
    return { workersByState, queueDepth: this.waiters.size, totalExecs: this.totalExecs, totalErrors: this.totalErrors };
  }

  ready(): boolean {
    if (this.closed) return false;
    return this.debug ? this.lastSpawnError === undefined : this.live.size > 0;
  }

  // ---- for the supervisor and the dynamic allocator ----------------------------------------------

  liveSlots(): Iterable<Slot> {
    return this.live;
  }

  get queueDepth(): number {
    return this.waiters.size;
  }

  extraCount(): number {
    return this.extraLive;
  }
}

/** The delay before the next start after `failures` failed ones (1 or more). */
function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (failures - 1));
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error("The request was aborted while waiting for a worker");
}

/** Resolves true when `promise` settles before `deadline` (unix ms), false otherwise. */
async function withDeadline(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), remaining);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
