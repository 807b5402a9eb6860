/**
 * The check of a worker's answer to `$metrics`: what prom-client's `getMetricsAsJSON()` returns,
 * shaped so that `AggregatorRegistry.aggregate()` cannot throw on it and the Prometheus text it
 * writes cannot be forged: metric and label names are Prometheus names (no line breaks to
 * smuggle series in), values are numbers, null, or the tag a non-finite number travels as under
 * JSON (`"NaN"`, `"+Inf"`, `"-Inf"`, worker/metric-values.ts), the aggregator is one prom-client
 * knows. Help texts and label values are escaped by prom-client itself. What fails is
 * described (`describeMetricsProblem`): the metric and its field, for the worker's report. Which names
 * a value's `metricName` may give (its own metric's, never clusterkit's series nor another
 * metric's) is decided over all the workers' answers at the merge (primary/features/worker-series.ts).
 */

/** One metric of `getMetricsAsJSON()`. */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  /** A value is a number after `completeMetrics`; before, it may be a tag (`NonFiniteTag`). */
  values: Array<{ value: number | null | NonFiniteTag; labels?: Record<string, string | number | boolean>; metricName?: string }>;
}

/**
 * How a non-finite value travels under JSON serialization, which has no form for it: its
 * Prometheus spelling. Only a sample's `value` is read so (a label value `"NaN"` stays the
 * string), and nothing else in a value's place is taken for a number.
 */
export type NonFiniteTag = 'NaN' | '+Inf' | '-Inf';

const kNonFinite: ReadonlyMap<string, number> = new Map<NonFiniteTag, number>([
  ['NaN', Number.NaN],
  ['+Inf', Number.POSITIVE_INFINITY],
  ['-Inf', Number.NEGATIVE_INFINITY],
]);

/** The tag of `value`, a number that is not finite. */
export function nonFiniteTag(value: number): NonFiniteTag {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
}

function isNonFiniteTag(value: unknown): value is NonFiniteTag {
  return typeof value === 'string' && kNonFinite.has(value);
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
  return describeMetricsProblem(reply) === undefined;
}

/**
 * Why a worker's answer to `$metrics` is not what the merge can take (the first problem found,
 * naming the metric and its field), or undefined when it is. Such an answer comes from the
 * worker's registry (a prom-client `registerMetric()` with a `get()` of its own, a custom
 * `metricsRegistry`), so the report says what to fix there, not that the IPC was tampered with
 * (retest t33 LOW-C).
 */
export function describeMetricsProblem(reply: unknown): string | undefined {
  if (reply === null) return undefined;
  if (!Array.isArray(reply)) return `the answer is ${describeKind(reply)}, not the array of metrics getMetricsAsJSON() returns`;
  for (let index = 0; index < reply.length; index++) {
    const problem = describeMetricProblem(reply[index], index);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Fills what prom-client's aggregation needs and a registry other than prom-client's may leave
 * out: the aggregator (prom-client sums by default) and empty label sets; and turns the tag a
 * non-finite value travelled as back into its number (H353), so the aggregators sum, compare and
 * average it as they would the worker's own number (`+Inf` plus 1 is `+Inf`, a sum with NaN is
 * NaN) and prom-client writes it as the worker's registry does. A null (a registry's own, or
 * an older worker's) is left as it was.
 */
export function completeMetrics(metrics: MetricJson[]): MetricJson[] {
  for (const metric of metrics) {
    metric.aggregator ??= 'sum';
    for (const value of metric.values) {
      value.labels ??= {};
      if (isNonFiniteTag(value.value)) value.value = kNonFinite.get(value.value)!;
    }
  }
  return metrics;
}

function describeMetricProblem(metric: unknown, index: number): string | undefined {
  if (typeof metric !== 'object' || metric === null || Array.isArray(metric)) return `metric #${index} is ${describeKind(metric)}, not an object`;
  const { name, help, type, aggregator, values } = metric as Record<string, unknown>;
  if (!isName(name, kMetricName)) return `metric #${index} is named ${quote(name)}, which is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, at most ${kMaxNameLength} characters)`;
  const what = `metric "${name}"`;
  if (typeof help !== 'string' || help.length > kMaxHelpLength) return `${what} has a help text that is ${typeof help === 'string' ? `${help.length} characters long` : describeKind(help)}, not a string of at most ${kMaxHelpLength} characters`;
  if (typeof type !== 'string' || !kTypes.has(type)) return `${what} has the type ${quote(type)}, none of ${[...kTypes].join(', ')}`;
  if (aggregator !== undefined && !(typeof aggregator === 'string' && kAggregators.has(aggregator))) {
    return `${what} has the aggregator ${quote(aggregator)}, none of prom-client's (${[...kAggregators].join(', ')})`;
  }
  if (!Array.isArray(values)) return `${what} has values that are ${describeKind(values)}, not an array`;
  for (let index = 0; index < values.length; index++) {
    const problem = describeValueProblem(values[index]);
    if (problem !== undefined) return `${what}, value #${index}: ${problem}`;
  }
  return undefined;
}

function describeValueProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return `it is ${describeKind(entry)}, not an object`;
  const { value, labels, metricName } = entry as Record<string, unknown>;
  if (!(typeof value === 'number' || value === null || isNonFiniteTag(value))) return `its value is ${quote(value)}, not a number (nor "NaN", "+Inf" or "-Inf")`;
  if (metricName !== undefined && !isName(metricName, kMetricName)) return `its metricName ${quote(metricName)} is not a Prometheus metric name`;
  if (labels === undefined) return undefined;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return `its labels are ${describeKind(labels)}, not an object`;
  for (const key in labels) {
    if (!isName(key, kLabelName)) return `the label name ${quote(key)} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, at most ${kMaxNameLength} characters)`;
    const label = (labels as Record<string, unknown>)[key];
    if (!(typeof label === 'string' || typeof label === 'number' || typeof label === 'boolean')) return `the label "${key}" has ${describeKind(label)} as its value, not a string, number or boolean`;
  }
  return undefined;
}

/** What a value is, for a report: its kind, never its content (it may be large). */
function describeKind(value: unknown): string {
  return value === null || value === undefined ? String(value) : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A value quoted for a report: escaped (no line breaks reach the log), cut short. */
function quote(value: unknown): string {
  if (typeof value !== 'string') return typeof value === 'number' || typeof value === 'boolean' ? String(value) : describeKind(value);
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

function isName(value: unknown, pattern: RegExp): value is string {
  return typeof value === 'string' && value.length <= kMaxNameLength && pattern.test(value);
}
