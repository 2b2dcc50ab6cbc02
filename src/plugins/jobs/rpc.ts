// The `jobs` RPC service (shared/spec/plugins.md §1.3): protobuf messages of jobs.v1,
// as spiral/roadrunner-jobs sends them (it always switches its RPC to the protobuf codec).
import { RpcError, type RpcCall, type RpcService } from "../rpc/types.ts";
import type { JobsPlugin } from "./plugin.ts";
import {
  decodeDeclareRequest,
  decodePipelines,
  decodePushBatchRequest,
  decodePushRequest,
  encodePipelines,
  encodeStats,
  type PushedJob,
} from "./proto.ts";
import type { JobMessage } from "./types.ts";

const CODEC_PROTO = 0x80;
const EMPTY = new Uint8Array(0);

export function jobsRpcService(plugin: JobsPlugin): RpcService {
  return {
    Push: async (call) => {
      const job = decodePushRequest(protoBody(call));
      if (!job || !job.id) throw new RpcError("jobs_plugin_push: empty ID field not allowed");
      await run("jobs_plugin_push", () => plugin.push(toMessage(job)));
      return EMPTY;
    },
    PushBatch: async (call) => {
      const jobs = decodePushBatchRequest(protoBody(call));
      if (jobs.some((job) => !job.id)) throw new RpcError("jobs_plugin_push_batch: empty ID field not allowed");
      await run("jobs_plugin_push_batch", () => plugin.pushBatch(jobs.map(toMessage)));
      return EMPTY;
    },
    Pause: async (call) => {
      await run("jobs_plugin_pause", () => plugin.pause(decodePipelines(protoBody(call))));
      return EMPTY;
    },
    Resume: async (call) => {
      await run("jobs_plugin_resume", () => plugin.resume(decodePipelines(protoBody(call))));
      return EMPTY;
    },
    List: (call) => {
      protoBody(call);
      return encodePipelines(plugin.list());
    },
    Declare: async (call) => {
      await run("jobs_plugin_declare", () => plugin.declare(decodeDeclareRequest(protoBody(call))));
      return EMPTY;
    },
    Destroy: async (call) => {
      const destroyed = await run("jobs_plugin_destroy", () => plugin.destroy(decodePipelines(protoBody(call))));
      return encodePipelines(destroyed);
    },
    Stat: async (call) => {
      protoBody(call);
      return encodeStats(await run("jobs_plugin_stat", () => plugin.stat()));
    },
  };
}

function protoBody(call: RpcCall): Uint8Array {
  if (call.codec !== CODEC_PROTO && call.body.length > 0) {
    throw new RpcError(
      `${call.method}: the jobs RPC speaks protobuf (codec flag 0x80); this call used codec 0x${call.codec.toString(16)}`,
    );
  }
  return call.body;
}

function toMessage(job: PushedJob): JobMessage {
  return {
    id: job.id,
    job: job.job,
    payload: job.payload,
    headers: job.headers,
    pipeline: job.pipeline,
    priority: job.priority,
    delaySec: job.delay > 0 ? job.delay : 0,
    autoAck: job.autoAck,
  };
}

/** Errors go back to the client as "<op>: <message>", RoadRunner's error format. */
async function run<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RpcError) throw err;
    throw new RpcError(`${op}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
