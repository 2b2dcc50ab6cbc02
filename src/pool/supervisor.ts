// The supervisor: every watch_tick, retire workers past ttl, idle_ttl or
// max_worker_memory. These limits are soft: a busy worker finishes its job first.
// (exec_ttl, the hard limit, is enforced per exec by the worker itself.)
import type { Platform } from "../platform/types.ts";
import type { SupervisorConfig } from "../config/sections/pool.ts";
import type { Logger } from "../logs/types.ts";
import { WorkerState } from "../worker/types.ts";
import type { Slot } from "./slot.ts";

const MB = 1024 * 1024;

export interface SupervisedPool {
  liveSlots(): Iterable<Slot>;
  /** Retire now when idle; when busy, once its current job ends. */
  retireSoft(slot: Slot, state: WorkerState, reason: string): void;
}

export class Supervisor {
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking = false;

  constructor(
    private readonly pool: SupervisedPool,
    private readonly config: SupervisorConfig,
    private readonly platform: Platform,
    private readonly logger: Logger,
  ) {}

  /** True when there is something to watch (exec_ttl alone needs no timer). */
  get needed(): boolean {
    return this.config.ttl > 0 || this.config.idle_ttl > 0 || this.config.max_worker_memory > 0;
  }

  start(): void {
    if (!this.needed || this.timer) return;
    this.timer = setInterval(() => void this.tick(), Math.max(10, this.config.watch_tick));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async tick(): Promise<void> {
    // A slow processMemory() must not pile up ticks.
    if (this.ticking) return;
    this.ticking = true;
    try {
      const { ttl, idle_ttl, max_worker_memory } = this.config;
      const now = Date.now();
      const slots = [...this.pool.liveSlots()];
      for (const slot of slots) {
        if (slot.retired || slot.retireAs !== undefined) continue;
        const worker = slot.worker;
        if (ttl > 0 && now - worker.created >= ttl) {
          this.pool.retireSoft(slot, WorkerState.TTLReached, `ttl ${ttl} ms reached`);
        } else if (idle_ttl > 0 && !slot.busy && worker.numExecs > 0 && now - slot.idleSince >= idle_ttl) {
          this.pool.retireSoft(slot, WorkerState.IdleTTLReached, `idle for ${now - slot.idleSince} ms (idle_ttl ${idle_ttl} ms)`);
        }
      }
      if (max_worker_memory > 0) {
        const limit = max_worker_memory * MB;
        await Promise.all(slots.map(async (slot) => {
          if (slot.retired || slot.retireAs !== undefined) return;
          const rss = await this.platform.processMemory(slot.worker.pid);
          if (rss !== null && rss > limit && !slot.retired && slot.retireAs === undefined) {
            this.pool.retireSoft(
              slot,
              WorkerState.MaxMemoryReached,
              `uses ${(rss / MB).toFixed(1)} MB (max_worker_memory ${max_worker_memory} MB)`,
            );
          }
        }));
      }
    } catch (error) {
      this.logger.warn("Supervisor check failed", { error: String(error) });
    } finally {
      this.ticking = false;
    }
  }
}
