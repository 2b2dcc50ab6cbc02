// `rr jobs --list | --pause p1,p2 | --resume p1,p2 | --destroy p1,p2`: manage the jobs pipelines of
// a running rr over RPC (jobs.Stat, jobs.Pause, jobs.Resume, jobs.Destroy; protobuf, as RoadRunner's CLI).
import { defineCommand } from "citty";
import { RRError } from "../errors.ts";
import type { RpcClient } from "../plugins/rpc/client.ts";
import { decodePipelines, decodeStats, encodePipelines } from "../plugins/jobs/proto.ts";
import { getArgv, runCommandBody, writeStdout } from "./context.ts";
import { globalArgs, parseGlobalFlags } from "./flags.ts";
import { connectToRR } from "./rpc-target.ts";

const CODEC_PROTO = 0x80;
const ACTIONS = ["pause", "resume", "destroy"] as const;
type Action = (typeof ACTIONS)[number];
const DONE: Record<Action, string> = { pause: "paused", resume: "resumed", destroy: "destroyed" };

export const jobsCommand = defineCommand({
  meta: { name: "jobs", description: "List, pause, resume or destroy jobs pipelines of a running rr (over rpc.listen)" },
  args: {
    ...globalArgs,
    list: { type: "boolean", description: "Show every pipeline with its state" },
    pause: { type: "string", description: "Pause pipelines (comma-separated)" },
    resume: { type: "string", description: "Resume pipelines (comma-separated)" },
    destroy: { type: "string", description: "Destroy pipelines (comma-separated)" },
  },
  run: () => runCommandBody(jobs),
});

/** `--pause a,b`, `--pause=a,b` or repeated flags: the pipeline names, in order. */
function namesFor(argv: readonly string[], action: Action): string[] {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let value: string | undefined;
    if (arg === `--${action}`) value = argv[++i];
    else if (arg.startsWith(`--${action}=`)) value = arg.slice(action.length + 3);
    else continue;
    if (value === undefined || value.startsWith("-")) {
      throw new RRError(`rr jobs --${action} needs pipeline names, e.g. rr jobs --${action} emails,reports`);
    }
    names.push(...value.split(",").map((s) => s.trim()).filter(Boolean));
  }
  return names;
}

async function jobs(): Promise<number> {
  const argv = getArgv();
  const flags = parseGlobalFlags(argv);
  const requested = ACTIONS.map((action) => [action, namesFor(argv, action)] as const).filter(([, n]) => n.length);
  const list = argv.includes("--list") || argv.includes("-l");
  if (!list && requested.length === 0) {
    throw new RRError("rr jobs needs --list, --pause <pipelines>, --resume <pipelines> or --destroy <pipelines>");
  }
  const client = await connectToRR(flags, "jobs");
  try {
    for (const [action, names] of requested) {
      const method = `jobs.${action[0].toUpperCase()}${action.slice(1)}`;
      const reply = await call(client, method, encodePipelines(names));
      const done = action === "destroy" ? decodePipelines(reply) : names;
      writeStdout(`${DONE[action]}: ${done.join(", ")}\n`);
    }
    if (list) writeStdout(await table(client));
    return 0;
  } finally {
    client.close();
  }
}

async function call(client: RpcClient, method: string, body: Uint8Array): Promise<Uint8Array> {
  try {
    return await client.callRaw(method, body, CODEC_PROTO);
  } catch (error) {
    throw new RRError(`rr jobs: ${method} failed: ${(error as Error).message}`);
  }
}

async function table(client: RpcClient): Promise<string> {
  const stats = decodeStats(await call(client, "jobs.Stat", new Uint8Array(0)));
  if (stats.length === 0) return "No jobs pipelines.\n";
  const head = ["Status", "Pipeline", "Driver", "Queue", "Priority", "Active", "Delayed", "Reserved"];
  const rows = stats
    .sort((a, b) => a.pipeline.localeCompare(b.pipeline))
    .map((s) => [
      s.ready ? "active" : "paused",
      s.pipeline,
      s.driver,
      s.queue,
      String(s.priority),
      String(s.active),
      String(s.delayed),
      String(s.reserved),
    ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(" | ").trimEnd() + "\n";
  return line(head) + widths.map((w) => "-".repeat(w)).join("-+-") + "\n" + rows.map(line).join("");
}
