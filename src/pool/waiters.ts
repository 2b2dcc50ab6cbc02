// FIFO of callers waiting for a free worker. push/shift are O(1); a caller that
// gives up (timeout, abort) is marked cancelled and skipped lazily, so removal
// is O(1) too.

export interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  /** allocate_timeout timer; only waiting callers have one. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Set once the waiter got a value, an error, or gave up. */
  settled: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class WaiterQueue<T> {
  private items: (Waiter<T> | undefined)[] = [];
  private head = 0;
  /** Live (not cancelled) waiters. */
  size = 0;

  push(waiter: Waiter<T>): void {
    this.items.push(waiter);
    this.size++;
  }

  /** The oldest live waiter, removed from the queue; undefined when none. */
  shift(): Waiter<T> | undefined {
    if (this.items.length === 0) return undefined;
    while (this.head < this.items.length) {
      const waiter = this.items[this.head];
      this.items[this.head++] = undefined;
      if (waiter && !waiter.settled) {
        this.size--;
        this.compact();
        return waiter;
      }
    }
    this.compact();
    return undefined;
  }

  /** Mark a waiter as gone (it settled on its own); it is skipped by shift(). */
  cancel(waiter: Waiter<T>): void {
    if (waiter.settled) return;
    waiter.settled = true;
    this.size--;
  }

  /** Remove and return every live waiter. */
  drain(): Waiter<T>[] {
    const live: Waiter<T>[] = [];
    for (let waiter = this.shift(); waiter; waiter = this.shift()) live.push(waiter);
    return live;
  }

  // Drop the consumed prefix now and then so the array does not grow forever.
  private compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
