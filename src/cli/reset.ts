// `rr reset [plugin...]`: replace every worker of the named plugins (default: every resettable
// plugin) in the running rr over RPC (resetter.List, resetter.Reset), showing progress per plugin.
import { defineCommand } from "citty";
import { RRError } from "../errors.ts";
import { getArgv, runCommandBody, writeStdout } from "./context.ts";
import { globalArgs, parseGlobalFlags } from "./flags.ts";
import { connectToRR, positionals } from "./rpc-target.ts";

export const resetCommand = defineCommand({
  meta: { name: "reset", description: "Replace the workers of a running rr (over rpc.listen)" },
  args: { ...globalArgs, plugins: { type: "positional", required: false, description: "Plugin names (default: all)" } },
  run: () => runCommandBody(reset),
});

async function reset(): Promise<number> {
  const argv = getArgv();
  const flags = parseGlobalFlags(argv);
  const client = await connectToRR(flags, "reset");
  try {
    let names = positionals(argv, "reset");
    if (names.length === 0) {
      try {
        names = (await client.call<string[] | null>("resetter.List", true)) ?? [];
      } catch (error) {
        throw new RRError(`rr reset: resetter.List failed: ${(error as Error).message}`);
      }
    }
    if (names.length === 0) {
      writeStdout("Nothing to reset: no plugin with workers is running.\n");
      return 0;
    }
    const tty = Boolean(process.stdout.isTTY);
    // On a terminal every plugin gets a line that is rewritten when its reset ends.
    if (tty) writeStdout(names.map((n) => `resetting ${n}...\n`).join(""));
    let failed = 0;
    await Promise.all(names.map(async (name, index) => {
      const started = performance.now();
      let result: string;
      try {
        await client.call<boolean>("resetter.Reset", name);
        const seconds = (performance.now() - started) / 1000;
        result = `done in ${seconds.toFixed(seconds < 1 ? 2 : 1)}s`;
      } catch (error) {
        failed++;
        result = `failed: ${(error as Error).message}`;
      }
      const line = `resetting ${name}... ${result}`;
      if (tty) {
        const up = names.length - index;
        writeStdout(`\x1b[${up}A\r\x1b[2K${line}\x1b[${up}B\r`);
      } else {
        writeStdout(`${line}\n`);
      }
    }));
    return failed ? 1 : 0;
  } finally {
    client.close();
  }
}
