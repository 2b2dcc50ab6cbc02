// valibot schemas for durations and sizes, so a bad value is reported with its key path.
import * as v from "valibot";
import { parseDuration, parseSize } from "./units.ts";

/** A duration ("60s", "1m30s", "500ms", or a bare number of seconds) → milliseconds. */
export function duration(opts: { zeroMeans?: number } = {}) {
  return v.pipe(
    v.union([v.string(), v.number()], "Expected a duration such as \"60s\", \"1m\" or \"500ms\""),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const ms = parseDuration(dataset.value);
      if (ms === undefined) {
        addIssue({
          message: `Expected a duration such as "60s", "1m" or "500ms" but received ${JSON.stringify(dataset.value)}`,
        });
        return NEVER;
      }
      return ms === 0 && opts.zeroMeans !== undefined ? opts.zeroMeans : ms;
    }),
  );
}

/** A size ("10MB", "512k", or a bare number of `bareUnit` bytes) → bytes. */
export function size(bareUnit = 1) {
  return v.pipe(
    v.union([v.string(), v.number()], "Expected a size such as \"10MB\" or a number"),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const bytes = parseSize(dataset.value, bareUnit);
      if (bytes === undefined) {
        addIssue({ message: `Expected a size such as "10MB" or "512KB" but received ${JSON.stringify(dataset.value)}` });
        return NEVER;
      }
      return bytes;
    }),
  );
}
