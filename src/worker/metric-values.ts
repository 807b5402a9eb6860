/**
 * A worker's prom-client metrics in a form JSON serialization carries. A gauge set to NaN or
 * Infinity (or a counter or a histogram's sum past `Number.MAX_VALUE`) has no JSON form, and
 * clusterkit refuses payloads JSON would change silently: the whole `$metrics` reply would fail,
 * and one odd value would drop the worker from every scrape. Such a value travels as its
 * Prometheus spelling instead (`"NaN"`, `"+Inf"`, `"-Inf"`), which the primary turns back into
 * the number before the merge (metrics-reply.ts `completeMetrics`), so the cluster's exposition
 * shows what the worker's registry holds (H353: it travelled as null, which prom-client's
 * aggregation summed as 0 and wrote as `+Inf` under `first`). `advanced` serialization carries
 * the numbers as they are.
 */
import { nonFiniteTag } from '../messaging/metrics-reply.js';

interface MetricJson {
  values?: unknown;
}

/** `metrics`, with non-finite values replaced by their tags; prom-client's own objects are not touched. */
export function jsonSafeMetrics(metrics: unknown[]): unknown[] {
  return metrics.map((metric) => {
    const values = (metric as MetricJson | null)?.values;
    if (!Array.isArray(values) || !values.some(isNonFiniteEntry)) return metric;
    return {
      ...(metric as object),
      values: values.map((entry: unknown) => (isNonFiniteEntry(entry) ? { ...(entry as object), value: nonFiniteTag((entry as { value: number }).value) } : entry)),
    };
  });
}

function isNonFiniteEntry(entry: unknown): boolean {
  const value = (entry as { value?: unknown } | null)?.value;
  return typeof value === 'number' && !Number.isFinite(value);
}
