// The worker's verdict on a job (shared/spec/plugins.md §1.5): the reply body is
// JSON {"type": N, "data": ...}; 0/2 ack, 1 fail (requeue optional), 3 nack, 4 requeue.
import type { Logger } from "../../logs/types.ts";
import type { JobHeaders, QueuedJob } from "./types.ts";

export const ReplyType = { NoError: 0, Error: 1, Ack: 2, Nack: 3, Requeue: 4 } as const;

const decoder = new TextDecoder();

interface ReplyData {
  message?: unknown;
  requeue?: unknown;
  delay_seconds?: unknown;
  headers?: unknown;
}

/** Apply the worker's reply body to the job. Unreadable replies are logged and acked, as RoadRunner does, to avoid loops. */
export function applyReply(job: QueuedJob, body: Uint8Array, logger: Logger): Promise<void> {
  if (body.length === 0) return job.ack();
  // Fast path for the common `{"type":0,"data":[]}` / `{"type":2,...}` replies.
  if (body.length >= 10 && body[0] === 0x7b && body[8] >= 0x30 && body[9] === 0x2c && startsWithType(body)) {
    const t = body[8] - 0x30;
    if (t === ReplyType.NoError || t === ReplyType.Ack) return job.ack();
  }
  let reply: { type?: unknown; data?: unknown };
  try {
    reply = JSON.parse(decoder.decode(body));
  } catch {
    logger.error("Cannot read the worker's reply to a job: it is not JSON; the job is acknowledged", {
      id: job.id,
      pipeline: job.pipeline,
      reply: preview(body),
    });
    return job.ack();
  }
  if (reply === null || typeof reply !== "object") {
    logger.error("Cannot read the worker's reply to a job: expected {\"type\":N,\"data\":...}; the job is acknowledged", {
      id: job.id,
      pipeline: job.pipeline,
    });
    return job.ack();
  }
  const data = (reply.data !== null && typeof reply.data === "object" ? reply.data : {}) as ReplyData;
  switch (reply.type) {
    case ReplyType.NoError:
    case ReplyType.Ack:
      return job.ack();
    case ReplyType.Error: {
      logger.error("Job failed", { id: job.id, job: job.job, pipeline: job.pipeline, message: String(data.message ?? "") });
      if (data.requeue === true) return job.requeue(readHeaders(data.headers), readDelay(data.delay_seconds));
      return job.ack();
    }
    case ReplyType.Nack:
      logger.warn("Job nacked by the worker", { id: job.id, pipeline: job.pipeline, message: String(data.message ?? "") });
      return job.nackWithOptions(data.requeue === true, readDelay(data.delay_seconds));
    case ReplyType.Requeue:
      return job.requeue(readHeaders(data.headers), readDelay(data.delay_seconds));
    default:
      logger.warn("Unknown reply type from the worker; the job is acknowledged", { id: job.id, type: String(reply.type) });
      return job.ack();
  }
}

const TYPE_PREFIX = [0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a]; // {"type":
function startsWithType(body: Uint8Array): boolean {
  for (let i = 0; i < TYPE_PREFIX.length; i++) if (body[i] !== TYPE_PREFIX[i]) return false;
  return true;
}

function readDelay(value: unknown): number {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0;
}

function readHeaders(value: unknown): JobHeaders | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const out: JobHeaders = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    out[name] = Array.isArray(v) ? v.map(String) : [String(v)];
  }
  return out;
}

function preview(body: Uint8Array): string {
  const text = decoder.decode(body.subarray(0, 200));
  return body.length > 200 ? text + "…" : text;
}
