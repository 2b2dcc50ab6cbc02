// Errors that cross module boundaries. Each message says what failed and, where
// there is one, what the user can do about it.

export class RRError extends Error {
  override name = "RRError";
}

/** The config file or an override is wrong; shown to the user without a stack trace. */
export class ConfigError extends RRError {
  override name = "ConfigError";
}

/** The worker answered with an ERROR frame; the worker itself is fine and stays in the pool. */
export class SoftJobError extends RRError {
  override name = "SoftJobError";
}

/** The worker asked to stop ({"stop":true} context); the request should be retried on another worker. */
export class WorkerStopRequestedError extends RRError {
  override name = "WorkerStopRequestedError";
}

/** supervisor.exec_ttl was exceeded; the worker was killed. */
export class ExecTTLError extends RRError {
  override name = "ExecTTLError";
}

/** The worker died, broke the protocol or printed garbage; it was killed and will be replaced. */
export class WorkerCrashedError extends RRError {
  override name = "WorkerCrashedError";
}

/** The worker script could not be opened (PHP printed "Could not open input file"). */
export class ScriptNotFoundError extends RRError {
  override name = "ScriptNotFoundError";
}

/** A worker process could not be started or failed its handshake. */
export class SpawnError extends RRError {
  override name = "SpawnError";
}

/** No worker became free within allocate_timeout. */
export class NoFreeWorkersError extends RRError {
  override name = "NoFreeWorkersError";
}

/** max_queue_size callers are already waiting; this one was refused at once. */
export class QueueFullError extends RRError {
  override name = "QueueFullError";
}

/** The pool is stopping or stopped and accepts no more work. */
export class PoolClosedError extends RRError {
  override name = "PoolClosedError";
}
