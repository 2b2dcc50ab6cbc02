// When rr runs as PID 1 (in a container), orphaned grandchildren of workers are
// re-parented to us and must be reaped or they stay zombies. One timer for the
// whole process, held while at least one pool is alive.
import type { Platform } from "../platform/types.ts";

const REAP_INTERVAL_MS = 1000;

let holders = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** Start reaping orphans if we are PID 1. Returns the function that releases the hold. */
export function holdOrphanReaper(platform: Platform): () => void {
  if (platform.pid !== 1) return () => {};
  holders++;
  if (!timer) timer = setInterval(() => platform.reapOrphans(), REAP_INTERVAL_MS);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holders === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
