// `rr workers [plugin...] [-i]`: a table of each plugin's workers, read from the running rr
// over RPC (informer.List, informer.Workers, informer.Jobs). -i redraws every second until Ctrl+C.
import { defineCommand } from "citty";
import { RRError } from "../errors.ts";
import { getPlatform } from "../platform/index.ts";
import type { InformerWorker } from "../plugins/informer.ts";
import type { RpcClient } from "../plugins/rpc/client.ts";
import { getArgv, runCommandBody, writeStdout } from "./context.ts";
import { globalArgs, parseGlobalFlags } from "./flags.ts";
import { connectToRR, positionals } from "./rpc-target.ts";

export const workersCommand = defineCommand({
  meta: { name: "workers", description: "Show the workers of a running rr (over rpc.listen)" },
  args: {
    ...globalArgs,
    interactive: { type: "boolean", alias: "i", description: "Refresh every second until Ctrl+C" },
    plugins: { type: "positional", required: false, description: "Plugin names (default: all)" },
  },
  run: () => runCommandBody(workers),
});

async function workers(): Promise<number> {
  const argv = getArgv();
  const flags = parseGlobalFlags(argv);
  const interactive = argv.includes("-i") || argv.includes("--interactive");
  const named = positionals(argv, "workers");
  const client = await connectToRR(flags, "workers");
  try {
    if (!interactive) {
      writeStdout(await render(client, named, colorOn()));
      return 0;
    }
    return await refreshUntilInterrupted(client, named);
  } finally {
    client.close();
  }
}

async function refreshUntilInterrupted(client: RpcClient, named: string[]): Promise<number> {
  const platform = getPlatform();
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const removers = (["SIGINT", "SIGTERM"] as const).map((s) => platform.onSignal(s, () => stop()));
  try {
    for (;;) {
      const text = await render(client, named, colorOn());
      // Clear the screen and draw from the top, like `top`.
      writeStdout(`\x1b[H\x1b[2J${text}\nrefreshing every second; Ctrl+C to quit\n`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 1000)));
      const again = await Promise.race([tick, stopped.then(() => false)]);
      clearTimeout(timer);
      if (!again) return 0;
    }
  } finally {
    for (const remove of removers) remove();
  }
}

/** The tables for every requested plugin (all plugins with workers when none are named). */
export async function render(client: RpcClient, named: string[], color = false): Promise<string> {
  const names = named.length ? named : (await call<string[] | null>(client, "informer.List", true)) ?? [];
  if (names.length === 0) return "No plugin with workers is running.\n";
  const now = Date.now();
  let out = "";
  for (const name of names) {
    const reply = await call<{ workers: InformerWorker[] | null }>(client, "informer.Workers", name);
    out += `Workers of [${name}]:\n`;
    if (reply.workers === null) {
      out += `  no such plugin: ${name} (see \`rr workers\` for the list)\n\n`;
      continue;
    }
    out += name === "service" ? serviceTable(reply.workers) : workerTable(reply.workers, now, color);
    const jobs = await call<Array<Record<string, unknown>> | null>(client, "informer.Jobs", name);
    if (jobs && jobs.length) out += `\nJobs of [${name}]:\n${jobsTable(jobs)}`;
    out += "\n";
  }
  return out;
}

async function call<T>(client: RpcClient, method: string, arg: unknown): Promise<T> {
  try {
    return await client.call<T>(method, arg);
  } catch (error) {
    throw new RRError(`rr workers: ${method} failed: ${(error as Error).message}`);
  }
}

const STATUS_COLORS: Record<string, string> = { ready: "32", working: "33", inactive: "90" };

function workerTable(workers: InformerWorker[], now: number, color: boolean): string {
  const rows = workers.map((w) => [
    String(w.pid),
    w.statusStr,
    String(w.numExecs),
    formatBytes(w.memoryUsage),
    w.CPUPercent.toFixed(2),
    formatUptime(now - w.created / 1e6),
  ]);
  return table(["PID", "Status", "Execs", "Memory", "CPU%", "Uptime"], rows, [true, false, true, true, true, false], (col, text) => {
    if (!color || col !== 1) return text;
    const code = STATUS_COLORS[text.trim()] ?? "31";
    return `\x1b[${code}m${text}\x1b[0m`;
  });
}

function serviceTable(workers: InformerWorker[]): string {
  const rows = workers.map((w) => [String(w.pid), formatBytes(w.memoryUsage), w.CPUPercent.toFixed(2), w.command]);
  return table(["PID", "Memory", "CPU%", "Command"], rows, [true, true, true, false]);
}

function jobsTable(jobs: Array<Record<string, unknown>>): string {
  const rows = jobs.map((j) => [
    j.Ready ? "active" : "paused",
    String(j.Pipeline ?? ""),
    String(j.Driver ?? ""),
    String(j.Queue ?? ""),
    String(j.Active ?? 0),
    String(j.Delayed ?? 0),
    String(j.Reserved ?? 0),
  ]);
  return table(["Status", "Pipeline", "Driver", "Queue", "Active", "Delayed", "Reserved"], rows, [false, false, false, false, true, true, true]);
}

/** A bordered text table; `right` aligns numeric columns. `paint` may colour a cell after padding. */
function table(header: string[], rows: string[][], right: boolean[], paint?: (col: number, text: string) => string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+\n`;
  const fmt = (cells: string[], isHeader: boolean) =>
    `|${cells.map((c, i) => {
      const padded = right[i] && !isHeader ? c.padStart(widths[i]) : c.padEnd(widths[i]);
      return ` ${isHeader || !paint ? padded : paint(i, padded)} `;
    }).join("|")}|\n`;
  let out = line + fmt(header, true) + line;
  for (const row of rows) out += fmt(row, false);
  if (rows.length === 0) out += `| ${"no workers".padEnd(line.length - 5)} |\n`;
  return out + line;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

function colorOn(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}
