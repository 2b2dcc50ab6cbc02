// A streamed response keeps its worker busy: this wrapper calls `release` once,
// when the stream ends, fails, is cancelled, or the consumer stops iterating.
import type { Payload, ResponseStream } from "../worker/types.ts";

export function holdWorkerDuringStream(inner: ResponseStream, release: () => void): ResponseStream {
  let released = false;
  const finish = (): void => {
    if (released) return;
    released = true;
    release();
  };
  let ended = false;
  const cancel = async (): Promise<void> => {
    try {
      if (!ended) await inner.cancel();
    } finally {
      ended = true;
      finish();
    }
  };
  return {
    [Symbol.asyncIterator](): AsyncIterator<Payload> {
      const it = inner[Symbol.asyncIterator]();
      return {
        async next(): Promise<IteratorResult<Payload>> {
          try {
            const result = await it.next();
            if (result.done) {
              ended = true;
              finish();
            }
            return result;
          } catch (error) {
            ended = true;
            finish();
            throw error;
          }
        },
        // `break` out of for-await: the worker is still sending, so cancel the stream.
        async return(): Promise<IteratorResult<Payload>> {
          await cancel();
          return { done: true, value: undefined };
        },
      };
    },
    cancel,
  };
}
