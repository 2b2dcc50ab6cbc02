// rr's version, read from package.json at build time so the compiled binary embeds it.
import pkg from "../package.json" with { type: "json" };
import type { RuntimeInfo } from "./platform/types.ts";

export const VERSION: string = pkg.version;

/** `rr version 0.1.0 (bun 1.4.5, linux-x64)`, or `(compiled bun 1.4.5, linux-x64)` for the binary. */
export function versionLine(runtime: RuntimeInfo): string {
  const how = `${runtime.compiled ? "compiled " : ""}${runtime.name} ${runtime.version}`;
  return `rr version ${VERSION} (${how}, ${runtime.target})`;
}
