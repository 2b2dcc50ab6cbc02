// Worker reply frames → a web Response (spec http.md §3): status and multi-value headers from
// the first final (≥200) context, 1xx frames as early hints, every body as it arrives.
import { FLAG } from "../../goridge/frame.ts";
import { concatBytes } from "../../util/bytes.ts";
import type { Payload, ResponseStream, WorkerResponse } from "../../worker/types.ts";
import { decodeJsonResponse } from "./context-json.ts";
import { decodeProtoResponse } from "./context-proto.ts";
import type { ResponseContext } from "./context.ts";
import { asBody } from "./middleware.ts";

/** A reply the worker got wrong (bad codec, bad status): answered with 500 and logged. */
export class WorkerReplyError extends Error {
  override name = "WorkerReplyError";
}

/** Decode a reply context by its frame's codec bits: 0x80 protobuf, 0x08 or 0x00 JSON. */
export function decodeResponseContext(frame: Payload): ResponseContext {
  const codec = frame.codec & ~FLAG.ERROR;
  try {
    if (codec & FLAG.CODEC_PROTO) return decodeProtoResponse(frame.context);
    if (codec === 0 || codec & FLAG.CODEC_JSON) return decodeJsonResponse(frame.context);
  } catch (error) {
    throw new WorkerReplyError(`Cannot decode the worker's response context: ${(error as Error).message}`);
  }
  throw new WorkerReplyError(`The worker answered with unknown payload type ${codec} (expected JSON 0x08/0x00 or protobuf 0x80)`);
}

// The Response constructor refuses a body with these statuses.
function isNullBodyStatus(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}

function checkStatus(status: number): void {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new WorkerReplyError(`unknown status code from worker: ${status}`);
  }
}

/** Called once the response body has been handed over completely, or abandoned. */
export type OnResponseDone = () => void;

/** A single-frame reply: the fast path. */
export function singleFrameResponse(reply: Payload): Response {
  if (reply.context.length === 0) return new Response(asBody(reply.body.length > 0 ? reply.body : null));
  const ctx = decodeResponseContext(reply);
  checkStatus(ctx.status);
  const body = reply.body.length > 0 && !isNullBodyStatus(ctx.status) ? reply.body : null;
  return new Response(asBody(body), { status: ctx.status, headers: ctx.init });
}

/**
 * A streamed reply: reads frames until the final status is known (1xx frames carry early hints;
 * the runtimes cannot send interim responses, so their Link headers are kept for the final
 * response), then streams every further body as it arrives. Later contexts are ignored (PHP ≥3.5
 * repeats the context on every chunk). When the client goes away the stream is cancelled: the
 * worker gets STOP and is drained.
 */
export async function streamedResponse(first: WorkerResponse, stream: ResponseStream, onDone: OnResponseDone): Promise<Response> {
  const frames = stream[Symbol.asyncIterator]();
  const pending: Uint8Array[] = [];
  const hints: Array<[string, string]> = [];
  let final: ResponseContext | null = null;
  let frame: Payload = first;
  let ended = false;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    onDone();
  };
  try {
    for (;;) {
      if (frame.context.length > 0) {
        const ctx = decodeResponseContext(frame);
        if (ctx.status >= 100 && ctx.status < 200) {
          if (ctx.status !== 101) for (const pair of ctx.headers) if (pair[0].toLowerCase() === "link") hints.push(pair);
        } else {
          checkStatus(ctx.status);
          final = ctx;
        }
      }
      if (frame.body.length > 0) {
        final ??= { status: 200, headers: [], init: {} };
        pending.push(frame.body);
      }
      if (final !== null) break;
      const next = await frames.next();
      if (next.done) {
        ended = true;
        break;
      }
      frame = next.value;
    }
  } catch (error) {
    await stream.cancel().catch(() => {});
    finish();
    throw error;
  }
  const ctx = final ?? { status: 200, headers: [], init: {} };
  let headers: Array<[string, string]> = ctx.headers;
  if (hints.length > 0) {
    const present = new Set(headers.map(([name]) => name.toLowerCase()));
    headers = present.has("link") ? headers : [...headers, ...hints];
  }
  if (isNullBodyStatus(ctx.status)) {
    if (!ended) await stream.cancel().catch(() => {});
    finish();
    return new Response(null, { status: ctx.status, headers });
  }
  if (ended) {
    finish();
    return new Response(asBody(concatBytes(pending)), { status: ctx.status, headers });
  }
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of pending) controller.enqueue(chunk);
    },
    // Loop until a chunk is enqueued: a pull that enqueues nothing would not be called again.
    async pull(controller) {
      try {
        for (;;) {
          const next = await frames.next();
          if (next.done) {
            controller.close();
            finish();
            return;
          }
          if (next.value.body.length > 0) {
            controller.enqueue(next.value.body);
            return;
          }
        }
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    async cancel() {
      try {
        await stream.cancel();
      } finally {
        finish();
      }
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: ctx.status, headers });
}

/** A body that calls onDone when it has been read completely or abandoned (uploads cleanup). */
export function bodyWithDoneHook(response: Response, onDone: OnResponseDone): Response {
  if (response.body === null) {
    onDone();
    return response;
  }
  const reader = response.body.getReader();
  let called = false;
  const once = () => {
    if (!called) {
      called = true;
      onDone();
    }
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          once();
        } else controller.enqueue(value);
      } catch (error) {
        once();
        controller.error(error);
      }
    },
    async cancel(reason) {
      try {
        await reader.cancel(reason);
      } finally {
        once();
      }
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

