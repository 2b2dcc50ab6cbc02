// The single priority queue shared by all pipelines: drivers put jobs in, the consumer's
// pollers take the lowest priority value first. Unlike RoadRunner's heap this one is
// stable: equal priorities come out in the order they went in.
import type { QueuedJob } from "./types.ts";

interface Entry {
  job: QueuedJob;
  seq: number;
}

export class JobQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private takers: Array<(job: QueuedJob | null) => void> = [];
  private spaceWaiters: Array<() => void> = [];
  private closed = false;

  /** capacity: jobs.pipeline_size; pushes wait while the queue holds that many. */
  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.heap.length;
  }

  /** Insert a job; waits while the queue is full. */
  push(job: QueuedJob): Promise<void> | void {
    if (this.closed) return;
    const taker = this.takers.shift();
    if (taker) return taker(job);
    if (this.capacity > 0 && this.heap.length >= this.capacity) {
      return new Promise<void>((resolve) => this.spaceWaiters.push(resolve)).then(() => this.push(job));
    }
    this.insert({ job, seq: this.seq++ });
  }

  /** The next job by priority; waits for one. Resolves null once the queue is closed. */
  pop(): Promise<QueuedJob | null> {
    const job = this.take();
    if (job) return Promise.resolve(job);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  /** Take a job at once, or undefined when the queue is empty. */
  take(): QueuedJob | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    this.spaceWaiters.shift()?.();
    return top.job;
  }

  /** Remove (and return) every queued job matching the predicate, e.g. a destroyed pipeline's. */
  removeWhere(predicate: (job: QueuedJob) => boolean): QueuedJob[] {
    const removed: Entry[] = [];
    const kept: Entry[] = [];
    for (const entry of this.heap) (predicate(entry.job) ? removed : kept).push(entry);
    if (removed.length === 0) return [];
    kept.sort(compare);
    this.heap = kept; // a sorted array is a valid heap
    for (let i = 0; i < removed.length; i++) this.spaceWaiters.shift()?.();
    return removed.map((entry) => entry.job);
  }

  /** Wake every waiting taker with null; later pushes are ignored. */
  close(): void {
    this.closed = true;
    for (const taker of this.takers.splice(0)) taker(null);
    for (const waiter of this.spaceWaiters.splice(0)) waiter();
  }

  private insert(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compare(heap[parent], entry) <= 0) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && compare(heap[child + 1], heap[child]) < 0) child++;
      if (compare(entry, heap[child]) <= 0) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = entry;
  }
}

function compare(a: Entry, b: Entry): number {
  return a.job.priority - b.job.priority || a.seq - b.seq;
}
