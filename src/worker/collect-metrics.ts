/**
 * A worker's answer to `primary.metrics()` (`$metrics`): its prom-client registry as JSON
 * (`getMetricsAsJSON()`), or null when it has none.
 */
import { loadPromClient, type MetricsRegistry } from '../prom-client.js';

/** `registry` is the `metricsRegistry` option; prom-client's global registry when not given. */
export async function collectMetrics(registry: MetricsRegistry | undefined): Promise<unknown[] | null> {
  const source = registry ?? (await loadPromClient())?.register;
  return source ? await source.getMetricsAsJSON() : null;
}
