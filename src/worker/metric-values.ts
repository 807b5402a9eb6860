/**
 * A worker's prom-client metrics in a form JSON serialization carries. A gauge set to NaN or
 * Infinity has no JSON form, and clusterkit refuses payloads JSON would change silently: the
 * whole `$metrics` reply would fail, and one odd gauge would drop the worker from every scrape.
 * Such values travel as null instead, as with prom-client's own cluster aggregator (which
 * also sends JSON). `advanced` serialization carries them as they are.
 */

interface MetricJson {
  values?: unknown;
}

/** `metrics`, with non-finite values replaced by null; prom-client's own objects are not touched. */
export function jsonSafeMetrics(metrics: unknown[]): unknown[] {
  return metrics.map((metric) => {
    const values = (metric as MetricJson | null)?.values;
    if (!Array.isArray(values) || !values.some(isNonFiniteEntry)) return metric;
    return { ...(metric as object), values: values.map((entry: unknown) => (isNonFiniteEntry(entry) ? { ...(entry as object), value: null } : entry)) };
  });
}

function isNonFiniteEntry(entry: unknown): boolean {
  const value = (entry as { value?: unknown } | null)?.value;
  return typeof value === 'number' && !Number.isFinite(value);
}
