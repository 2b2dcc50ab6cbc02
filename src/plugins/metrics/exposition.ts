// Prometheus text exposition format 0.0.4: "# HELP", "# TYPE", then one sample per line.
// https://prometheus.io/docs/instrumenting/exposition_formats/

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type FamilyType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/** Label pairs in output order. */
export type Labels = ReadonlyArray<readonly [string, string]>;

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function formatLabels(labels: Labels): string {
  if (labels.length === 0) return "";
  let out = "{";
  for (let i = 0; i < labels.length; i++) {
    out += `${i ? "," : ""}${labels[i][0]}="${escapeLabelValue(labels[i][1])}"`;
  }
  return out + "}";
}

/** Accumulates families into one exposition text. */
export class ExpositionWriter {
  private readonly lines: string[] = [];

  /** Start a family: its HELP and TYPE lines. */
  family(name: string, type: FamilyType, help: string): this {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** One sample line: `name{labels} value`. */
  sample(name: string, labels: Labels, value: number): this {
    this.lines.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
    return this;
  }

  text(): string {
    return this.lines.length ? this.lines.join("\n") + "\n" : "";
  }
}
