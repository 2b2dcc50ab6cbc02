// The dynamic allocator: while callers wait for a worker, start up to spawn_rate
// extra workers at a time, at most max_workers extra in all; retire an extra
// worker once it has been idle for idle_timeout.
import type { DynamicAllocatorConfig } from "../config/sections/pool.ts";
import { WorkerState } from "../worker/types.ts";
import type { Slot } from "./slot.ts";

export interface ScalablePool {
  /** Callers waiting for a worker. */
  readonly queueDepth: number;
  /** Live extra workers. */
  extraCount(): number;
  /** Start one extra worker and hand it to a waiter or the idle stack; resolves false on failure. */
  spawnExtra(): Promise<boolean>;
  liveSlots(): Iterable<Slot>;
  retireSoft(slot: Slot, state: WorkerState, reason: string): void;
}

export class DynamicAllocator {
  private growing = false;
  private shrinkTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(private readonly pool: ScalablePool, private readonly config: DynamicAllocatorConfig) {}

  /** A caller has to wait: grow by one batch unless a batch is already starting. */
  onCallerWaiting(): void {
    if (this.growing || this.stopped) return;
    const room = this.config.max_workers - this.pool.extraCount();
    if (room <= 0) return;
    const batch = Math.min(this.config.spawn_rate, room, Math.max(1, this.pool.queueDepth));
    this.growing = true;
    const spawns: Promise<boolean>[] = [];
    for (let i = 0; i < batch; i++) spawns.push(this.pool.spawnExtra());
    void Promise.all(spawns).then((results) => {
      this.growing = false;
      if (this.stopped) return;
      this.ensureShrinkTimer();
      // Still a queue and the batch worked: grow again. After a failure wait for the next caller.
      if (this.pool.queueDepth > 0 && results.every(Boolean)) this.onCallerWaiting();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.shrinkTimer) clearInterval(this.shrinkTimer);
    this.shrinkTimer = undefined;
  }

  private ensureShrinkTimer(): void {
    if (this.shrinkTimer || this.pool.extraCount() === 0) return;
    const every = Math.max(50, Math.min(1000, this.config.idle_timeout / 4));
    this.shrinkTimer = setInterval(() => this.shrink(), every);
  }

  private shrink(): void {
    const now = Date.now();
    const timeout = this.config.idle_timeout;
    for (const slot of [...this.pool.liveSlots()]) {
      if (slot.kind !== "extra" || slot.busy || slot.retired) continue;
      if (now - slot.idleSince >= timeout) {
        this.pool.retireSoft(slot, WorkerState.Destroyed, `extra worker idle for ${timeout} ms (dynamic_allocator.idle_timeout)`);
      }
    }
    if (this.pool.extraCount() === 0 && this.shrinkTimer) {
      clearInterval(this.shrinkTimer);
      this.shrinkTimer = undefined;
    }
  }
}
