// The worker pool: see pool.ts. Plugins get pools from the server plugin (server.newPool).
export { createPool, formatDuration, type PoolOptions, WorkerPool } from "./pool.ts";
export type { Pool, PoolStats } from "./types.ts";
