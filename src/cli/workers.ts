// `rr workers`: asks the running rr over RPC. Until the RPC client lands here, it says what it needs.
import { defineCommand } from "citty";
import { RRError } from "../errors.ts";
import { runCommandBody } from "./context.ts";
import { globalArgs } from "./flags.ts";

export const workersCommand = defineCommand({
  meta: { name: "workers", description: "Show the workers of a running rr (needs the rpc plugin)" },
  args: { ...globalArgs, plugins: { type: "positional", required: false, description: "Plugin names (default: all)" } },
  run: () =>
    runCommandBody(() => {
      throw new RRError(
        "rr workers needs the rpc plugin: add an `rpc:` section with `listen: tcp://127.0.0.1:6001` to .rr.yaml and start `rr serve`",
      );
    }),
});
