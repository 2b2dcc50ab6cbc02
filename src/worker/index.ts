// One worker process: spawn it over a relay and talk goridge to it.
import { ProcessWorker, type SpawnWorkerOptions } from "./process.ts";
import type { Worker } from "./types.ts";

export type { SpawnWorkerOptions } from "./process.ts";
export { DEFAULT_STOP_TIMEOUT_MS } from "./process.ts";
export { openSocketRelay, type SocketRelayOptions, type SocketRelayServer } from "../goridge/relay-socket.ts";
export { parseRelayAddress } from "../goridge/relay.ts";
export * from "./types.ts";

/**
 * Spawn a worker and complete its pid handshake. Rejects with SpawnError (command
 * not found, exit during boot, handshake timeout) or ScriptNotFoundError.
 */
export async function spawnWorker(options: SpawnWorkerOptions): Promise<Worker> {
  const worker = new ProcessWorker(options);
  await worker.start();
  return worker;
}
