// The pool's bookkeeping for one worker.
import type { Worker, WorkerState } from "../worker/types.ts";

/** base: counts toward num_workers; extra: added by the dynamic allocator; debug: one request only. */
export type SlotKind = "base" | "extra" | "debug";

export interface Slot {
  readonly worker: Worker;
  readonly kind: SlotKind;
  /** Replace after this many execs (max_jobs plus jitter); 0 = unlimited. */
  readonly maxJobs: number;
  /** Pool generation at spawn; reset() bumps the pool's, so older workers retire. */
  readonly generation: number;
  /** Running a request (or holding a stream open). */
  busy: boolean;
  /** Removed from the pool; being stopped or already gone. */
  retired: boolean;
  /** A soft limit was hit while busy: retire with this state when the job ends. */
  retireAs: WorkerState | undefined;
  /** Unix ms when the worker last became idle (or joined the pool). */
  idleSince: number;
}
