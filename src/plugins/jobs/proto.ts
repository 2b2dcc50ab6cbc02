// The jobs.v1 protobuf messages spoken by spiral/roadrunner-jobs producers
// (shared/spec/plugins.md §1.3; field numbers from roadrunner-server/api jobs/v1/jobs.proto).
import { ProtoReader, ProtoWriter } from "../../goridge/proto.ts";
import type { JobHeaders, PipelineState } from "./types.ts";

/** Job + Options as sent by the producer (priority still unresolved: 0 = the pipeline's). */
export interface PushedJob {
  job: string;
  id: string;
  payload: Uint8Array;
  headers: JobHeaders;
  priority: number;
  pipeline: string;
  delay: number;
  autoAck: boolean;
}

/** PushRequest { Job job = 1; } */
export function decodePushRequest(buf: Uint8Array): PushedJob | undefined {
  const r = new ProtoReader(buf);
  let job: PushedJob | undefined;
  while (r.next()) {
    if (r.field === 1) job = decodeJob(r.message());
    else r.skip();
  }
  return job;
}

/** PushBatchRequest { repeated Job jobs = 1; } */
export function decodePushBatchRequest(buf: Uint8Array): PushedJob[] {
  const r = new ProtoReader(buf);
  const jobs: PushedJob[] = [];
  while (r.next()) {
    if (r.field === 1) jobs.push(decodeJob(r.message()));
    else r.skip();
  }
  return jobs;
}

/** Job { string job = 1; string id = 2; bytes payload = 3; map<string, HeaderValue> headers = 4; Options options = 5; } */
function decodeJob(r: ProtoReader): PushedJob {
  const job: PushedJob = {
    job: "",
    id: "",
    payload: EMPTY,
    headers: {},
    priority: 0,
    pipeline: "",
    delay: 0,
    autoAck: false,
  };
  while (r.next()) {
    switch (r.field) {
      case 1:
        job.job = r.string();
        break;
      case 2:
        job.id = r.string();
        break;
      case 3:
        // Copied: the job outlives the RPC frame it arrived in.
        job.payload = r.bytes().slice();
        break;
      case 4:
        decodeHeaderEntry(r.message(), job.headers);
        break;
      case 5:
        decodeOptions(r.message(), job);
        break;
      default:
        r.skip();
    }
  }
  return job;
}

/** map entry { string key = 1; HeaderValue value = 2; }, HeaderValue { repeated string value = 1; } */
function decodeHeaderEntry(r: ProtoReader, headers: JobHeaders): void {
  let key = "";
  const values: string[] = [];
  while (r.next()) {
    if (r.field === 1) key = r.string();
    else if (r.field === 2) {
      const hv = r.message();
      while (hv.next()) {
        if (hv.field === 1) values.push(hv.string());
        else hv.skip();
      }
    } else r.skip();
  }
  headers[key] = values;
}

/** Options { int64 priority = 1; string pipeline = 2; int64 delay = 3; bool auto_ack = 6; ... kafka fields } */
function decodeOptions(r: ProtoReader, job: PushedJob): void {
  while (r.next()) {
    switch (r.field) {
      case 1:
        job.priority = r.int();
        break;
      case 2:
        job.pipeline = r.string();
        break;
      case 3:
        job.delay = r.int();
        break;
      case 6:
        job.autoAck = r.bool();
        break;
      default:
        r.skip();
    }
  }
}

/** Pipelines { repeated string pipelines = 1; } */
export function decodePipelines(buf: Uint8Array): string[] {
  const r = new ProtoReader(buf);
  const names: string[] = [];
  while (r.next()) {
    if (r.field === 1) names.push(r.string());
    else r.skip();
  }
  return names;
}

export function encodePipelines(names: readonly string[]): Uint8Array {
  const w = new ProtoWriter();
  for (const name of names) w.string(1, name);
  return w.finish();
}

/** DeclareRequest { map<string, string> pipeline = 1; } */
export function decodeDeclareRequest(buf: Uint8Array): Record<string, string> {
  const r = new ProtoReader(buf);
  const map: Record<string, string> = {};
  while (r.next()) {
    if (r.field !== 1) {
      r.skip();
      continue;
    }
    const entry = r.message();
    let key = "";
    let value = "";
    while (entry.next()) {
      if (entry.field === 1) key = entry.string();
      else if (entry.field === 2) value = entry.string();
      else entry.skip();
    }
    map[key] = value;
  }
  return map;
}

/** Stats { repeated Stat stats = 1; }, Stat { pipeline 1, driver 2, queue 3, active 4, delayed 5, reserved 6, ready 7, priority 8 } */
export function encodeStats(states: readonly PipelineState[]): Uint8Array {
  const w = new ProtoWriter();
  for (const s of states) {
    w.message(1, (m) => {
      // proto3: default values are left out.
      if (s.pipeline) m.string(1, s.pipeline);
      if (s.driver) m.string(2, s.driver);
      if (s.queue) m.string(3, s.queue);
      if (s.active) m.int(4, s.active);
      if (s.delayed) m.int(5, s.delayed);
      if (s.reserved) m.int(6, s.reserved);
      if (s.ready) m.bool(7, true);
      if (s.priority > 0) m.uint(8, s.priority);
    });
  }
  return w.finish();
}

const EMPTY = new Uint8Array(0);

/** Encoders for the requests, used by our own CLI, benchmarks and tests. */
export function encodePushBatchRequest(jobs: readonly PushedJob[]): Uint8Array {
  const w = new ProtoWriter();
  for (const job of jobs) w.message(1, (m) => writeJob(m, job));
  return w.finish();
}

export function encodePushRequest(job: PushedJob): Uint8Array {
  return new ProtoWriter().message(1, (m) => writeJob(m, job)).finish();
}

function writeJob(w: ProtoWriter, job: PushedJob): void {
  if (job.job) w.string(1, job.job);
  if (job.id) w.string(2, job.id);
  if (job.payload.length) w.bytes(3, job.payload);
  for (const [name, values] of Object.entries(job.headers)) {
    w.message(4, (e) => e.string(1, name).message(2, (hv) => values.forEach((v) => hv.string(1, v))));
  }
  w.message(5, (o) => {
    if (job.priority) o.int(1, job.priority);
    if (job.pipeline) o.string(2, job.pipeline);
    if (job.delay) o.int(3, job.delay);
    if (job.autoAck) o.bool(6, true);
  });
}

export function decodeStats(buf: Uint8Array): PipelineState[] {
  const r = new ProtoReader(buf);
  const out: PipelineState[] = [];
  while (r.next()) {
    if (r.field !== 1) {
      r.skip();
      continue;
    }
    const m = r.message();
    const s: PipelineState = {
      pipeline: "",
      driver: "",
      queue: "",
      active: 0,
      delayed: 0,
      reserved: 0,
      ready: false,
      priority: 0,
    };
    while (m.next()) {
      switch (m.field) {
        case 1: s.pipeline = m.string(); break;
        case 2: s.driver = m.string(); break;
        case 3: s.queue = m.string(); break;
        case 4: s.active = m.int(); break;
        case 5: s.delayed = m.int(); break;
        case 6: s.reserved = m.int(); break;
        case 7: s.ready = m.bool(); break;
        case 8: s.priority = m.varint(); break;
        default: m.skip();
      }
    }
    out.push(s);
  }
  return out;
}

export function encodeDeclareRequest(pipeline: Record<string, string>): Uint8Array {
  const w = new ProtoWriter();
  for (const [k, v] of Object.entries(pipeline)) w.message(1, (e) => e.string(1, k).string(2, v));
  return w.finish();
}
