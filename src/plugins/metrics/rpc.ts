// The `metrics` RPC service (shared/spec/plugins.md §5), as spiral/roadrunner-metrics calls it
// with the JSON codec: Declare, Add, Sub, Observe, Set, Unregister. Errors carry RoadRunner's
// texts (PHP swallows "tried to register existing collector" on Declare).
import { RpcError, type RpcCall, type RpcService } from "../rpc/types.ts";
import { type CollectorSpec, MetricsError, type Registry } from "./registry.ts";

interface MetricArg {
  name?: unknown;
  value?: unknown;
  labels?: unknown;
}

interface DeclareArg {
  name?: unknown;
  collector?: Partial<CollectorSpec> & Record<string, unknown>;
}

function metricArg(op: string, call: RpcCall): { name: string; value: number; labels: string[] } {
  const arg = call.json<MetricArg | undefined>();
  if (!arg || typeof arg !== "object" || typeof arg.name !== "string") {
    throw new RpcError(`${op}: expected {"name": string, "value": number, "labels": [string]} as the argument`);
  }
  const value = arg.value === undefined || arg.value === null ? 0 : arg.value;
  if (typeof value !== "number") throw new RpcError(`${op}: value of ${arg.name} must be a number`);
  const labels = arg.labels === undefined || arg.labels === null ? [] : arg.labels;
  if (!Array.isArray(labels) || labels.some((l) => typeof l !== "string")) {
    throw new RpcError(`${op}: labels of ${arg.name} must be a list of strings`);
  }
  return { name: arg.name, value, labels: labels as string[] };
}

// Registry errors become RPC errors prefixed with RoadRunner's operation name.
function guarded(op: string, run: () => void): true {
  try {
    run();
  } catch (error) {
    if (error instanceof MetricsError) throw new RpcError(`${op}: ${error.message}`);
    throw error;
  }
  return true;
}

/** An RPC method that validates a {name, value, labels} argument and applies it to the registry. */
function metricUpdate(op: string, apply: (name: string, value: number, labels: string[]) => void): (call: RpcCall) => true {
  return (call) => {
    const m = metricArg(op, call);
    return guarded(op, () => apply(m.name, m.value, m.labels));
  };
}

export function metricsRpcService(registry: Registry): RpcService {
  return {
    Declare: (call) => {
      const op = "metrics_plugin_declare";
      const arg = call.json<DeclareArg | undefined>();
      if (!arg || typeof arg.name !== "string" || !arg.collector || typeof arg.collector !== "object") {
        throw new RpcError(`${op}: expected {"name": string, "collector": {"type": ...}} as the argument`);
      }
      const c = arg.collector;
      const spec: CollectorSpec = {
        type: c.type as CollectorSpec["type"],
        help: typeof c.help === "string" ? c.help : "",
        namespace: typeof c.namespace === "string" ? c.namespace : "",
        subsystem: typeof c.subsystem === "string" ? c.subsystem : "",
        labels: Array.isArray(c.labels) ? c.labels.map(String) : [],
        buckets: Array.isArray(c.buckets) ? c.buckets.map(Number) : [],
        objectives: c.objectives && typeof c.objectives === "object" ? c.objectives : undefined,
      };
      const name = arg.name;
      // An existing name answers true without error, as RoadRunner does.
      return guarded(op, () => void registry.declare(name, spec));
    },
    Add: metricUpdate("metrics_plugin_add", (name, value, labels) => registry.add(name, value, labels)),
    Sub: metricUpdate("metrics_plugin_sub", (name, value, labels) => registry.sub(name, value, labels)),
    Observe: metricUpdate("metrics_plugin_observe", (name, value, labels) => registry.observe(name, value, labels)),
    Set: metricUpdate("metrics_plugin_set", (name, value, labels) => registry.set(name, value, labels)),
    Unregister: (call) => {
      const op = "metrics_plugin_unregister";
      const name = call.json<unknown>();
      if (typeof name !== "string") throw new RpcError(`${op}: expected the collector name (a JSON string) as the argument`);
      if (!registry.unregister(name)) throw new RpcError(`${op}: undefined collector ${name}`);
      return true;
    },
  };
}
