// jobs.v1 protobuf messages: byte-exact encodings of small messages (worked out by hand from the
// field numbers in shared/spec/plugins.md §1.3) and round trips of the bigger ones.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeDeclareRequest,
  decodePipelines,
  decodePushBatchRequest,
  decodePushRequest,
  decodeStats,
  encodeDeclareRequest,
  encodePipelines,
  encodePushBatchRequest,
  encodePushRequest,
  encodeStats,
  type PushedJob,
} from "../src/plugins/jobs/proto.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const bytes = (text: string) => new Uint8Array(text.split(" ").map((h) => parseInt(h, 16)));

describe("jobs: protobuf messages", () => {
  it("encodes and decodes Pipelines { repeated string pipelines = 1 }", () => {
    assert.equal(hex(encodePipelines(["a", "bc"])), "0a 01 61 0a 02 62 63");
    assert.deepEqual(decodePipelines(bytes("0a 01 61 0a 02 62 63")), ["a", "bc"]);
    assert.deepEqual(decodePipelines(new Uint8Array(0)), []);
  });

  it("decodes a PushRequest as PHP writes it (job, id, payload, headers map, options)", () => {
    // Job{job="J", id="1", payload="p", headers={"h": ["v"]}, options{priority=5, pipeline="q", delay=2, auto_ack=true}}
    const job = "0a 01 4a 12 01 31 1a 01 70 22 08 0a 01 68 12 03 0a 01 76 2a 09 08 05 12 01 71 18 02 30 01";
    const req = bytes(`0a 1e ${job}`);
    assert.deepEqual(decodePushRequest(req), {
      job: "J",
      id: "1",
      payload: new TextEncoder().encode("p"),
      headers: { h: ["v"] },
      priority: 5,
      pipeline: "q",
      delay: 2,
      autoAck: true,
    });
  });

  it("keeps negative int64 priorities and skips unknown (kafka) fields", () => {
    const job: PushedJob = {
      job: "J",
      id: "x",
      payload: new Uint8Array([1, 2, 3]),
      headers: { a: ["1", "2"], b: [] },
      priority: -3,
      pipeline: "p",
      delay: 0,
      autoAck: false,
    };
    assert.deepEqual(decodePushRequest(encodePushRequest(job)), job);
    // Options.topic = 7 (string), Options.offset = 9 (int64): ignored.
    const withKafka = bytes("0a 0d 12 01 78 2a 08 12 01 70 3a 01 74 48 07");
    assert.equal(decodePushRequest(withKafka)?.pipeline, "p");
  });

  it("round-trips a PushBatchRequest", () => {
    const jobs: PushedJob[] = Array.from({ length: 3 }, (_, i) => ({
      job: "batch",
      id: `id-${i}`,
      payload: new TextEncoder().encode(`payload ${i}`),
      headers: {},
      priority: i,
      pipeline: "p",
      delay: i * 10,
      autoAck: i === 2,
    }));
    assert.deepEqual(decodePushBatchRequest(encodePushBatchRequest(jobs)), jobs);
  });

  it("decodes DeclareRequest { map<string,string> pipeline = 1 }", () => {
    // {"driver": "memory"}: entry { key = 1, value = 2 }
    const req = bytes("0a 10 0a 06 64 72 69 76 65 72 12 06 6d 65 6d 6f 72 79");
    assert.deepEqual(decodeDeclareRequest(req), { driver: "memory" });
    const map = { name: "n", priority: "3", queue_headers: "[]" };
    assert.deepEqual(decodeDeclareRequest(encodeDeclareRequest(map)), map);
  });

  it("encodes Stats with proto3 defaults left out", () => {
    const stat = {
      pipeline: "p",
      driver: "memory",
      queue: "p",
      active: 2,
      delayed: 0,
      reserved: 1,
      ready: true,
      priority: 10,
    };
    assert.equal(
      hex(encodeStats([stat])),
      "0a 16 0a 01 70 12 06 6d 65 6d 6f 72 79 1a 01 70 20 02 30 01 38 01 40 0a",
    );
    assert.deepEqual(decodeStats(encodeStats([stat])), [stat]);
  });
});
