/**
 * A worker's answer to `primary.metrics()` (`$metrics`): its prom-client registry as JSON
 * (`getMetricsAsJSON()`), or null when it has none. Under JSON serialization, non-finite
 * values travel as `"NaN"`, `"+Inf"` or `"-Inf"`, restored by the primary (metric-values.ts).
 */
import { loadPromClient, type MetricsRegistry } from '../prom-client.js';
import type { Serialization } from '../types.js';
import { jsonSafeMetrics } from './metric-values.js';

/** `registry` is the `metricsRegistry` option; prom-client's global registry when not given. */
export async function collectMetrics(registry: MetricsRegistry | undefined, serialization: Serialization): Promise<unknown[] | null> {
  const source = registry ?? (await loadPromClient())?.register;
  if (!source) return null;
  const metrics = await source.getMetricsAsJSON();
  return serialization === 'advanced' || !Array.isArray(metrics) ? metrics : jsonSafeMetrics(metrics);
}
