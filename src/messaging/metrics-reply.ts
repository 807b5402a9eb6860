/**
 * The check of a worker's answer to `$metrics`: what prom-client's `getMetricsAsJSON()` returns,
 * shaped so that `AggregatorRegistry.aggregate()` cannot throw on it and the Prometheus text it
 * writes cannot be forged: metric and label names are Prometheus names (no line breaks to
 * smuggle series in), values are numbers (JSON writes NaN as null), the aggregator is one
 * prom-client knows. Help texts and label values are escaped by prom-client itself. Which names
 * a value's `metricName` may give (its own metric's, never clusterkit's series nor another
 * metric's) is decided over all the workers' answers at the merge (primary/features/worker-series.ts).
 */

/** One metric of `getMetricsAsJSON()`. */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  values: Array<{ value: number | null; labels?: Record<string, string | number | boolean>; metricName?: string }>;
}

const kMetricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const kLabelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const kTypes = new Set(['counter', 'gauge', 'histogram', 'summary']);
// prom-client's aggregators (metricAggregators.js); looked up by name, so `constructor` must not pass.
const kAggregators = new Set(['sum', 'first', 'omit', 'average', 'min', 'max']);
/** Longest metric or label name, and longest help text, accepted. */
const kMaxNameLength = 256;
const kMaxHelpLength = 4_096;

/** A worker's metrics: `null` (no registry) or an array of well-formed metrics. */
export function isMetricsReply(reply: unknown): reply is MetricJson[] | null {
  return reply === null || (Array.isArray(reply) && reply.every(isMetric));
}

/**
 * Fills what prom-client's aggregation needs and a registry other than prom-client's may leave
 * out: the aggregator (prom-client sums by default) and empty label sets.
 */
export function completeMetrics(metrics: MetricJson[]): MetricJson[] {
  for (const metric of metrics) {
    metric.aggregator ??= 'sum';
    for (const value of metric.values) value.labels ??= {};
  }
  return metrics;
}

function isMetric(metric: unknown): metric is MetricJson {
  if (typeof metric !== 'object' || metric === null) return false;
  const { name, help, type, aggregator, values } = metric as Record<string, unknown>;
  return (
    isName(name, kMetricName) &&
    typeof help === 'string' &&
    help.length <= kMaxHelpLength &&
    typeof type === 'string' &&
    kTypes.has(type) &&
    (aggregator === undefined || (typeof aggregator === 'string' && kAggregators.has(aggregator))) &&
    Array.isArray(values) &&
    values.every(isValue)
  );
}

function isValue(entry: unknown): boolean {
  if (typeof entry !== 'object' || entry === null) return false;
  const { value, labels, metricName } = entry as Record<string, unknown>;
  if (!(typeof value === 'number' || value === null)) return false;
  if (metricName !== undefined && !isName(metricName, kMetricName)) return false;
  if (labels === undefined) return true;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return false;
  for (const key in labels) {
    const label = (labels as Record<string, unknown>)[key];
    if (!isName(key, kLabelName) || !(typeof label === 'string' || typeof label === 'number' || typeof label === 'boolean')) return false;
  }
  return true;
}

function isName(value: unknown, pattern: RegExp): value is string {
  return typeof value === 'string' && value.length <= kMaxNameLength && pattern.test(value);
}
