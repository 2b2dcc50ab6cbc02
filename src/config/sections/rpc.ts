// The `rpc` section (shared/spec/plugins.md §7.2). No section = no RPC server.
import * as v from "valibot";
import { size } from "../valibot-units.ts";

export const DEFAULT_RPC_LISTEN = "tcp://127.0.0.1:6001";

export const RpcSchema = v.pipe(
  v.object({
    listen: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^(tcp:\/\/.+:\d+|unix:\/\/.+)$/, "Expected tcp://host:port or unix:///path/to/socket"),
      ),
    ),
    /** rr's own addition: the largest RPC request accepted (bare number = MB). Default 100MB. */
    max_message_size: v.optional(size(1024 * 1024), "100MB"),
  }),
  v.transform((rpc) => ({
    listen: rpc.listen ?? DEFAULT_RPC_LISTEN,
    /** Workers get RR_RPC only when listen was set explicitly (goridge spec §2.7). */
    listenExplicit: rpc.listen !== undefined,
    max_message_size: rpc.max_message_size,
  })),
);

export type RpcConfig = v.InferOutput<typeof RpcSchema>;
