/**
 * What of the workers' metrics may be written into the exposition: each sample named as its own
 * metric, never as one of clusterkit's series nor as another metric's (hostile t32 MEDIUM-1:
 * prom-client writes a value's `metricName` as the sample's name, so a gauge `app_x` whose values
 * said `metricName: 'clusterkit_worker_up'` wrote `clusterkit_worker_up{slot="0"} 1` ahead of
 * clusterkit's own, and Prometheus kept the forged sample and dropped the real one). Pure.
 *
 * A sample is kept when its name (`metricName`, or the metric's name without one) is:
 * - the metric's name (a `metricName` equal to it is removed: prom-client's aggregation groups a
 *   value without `metricName` apart from one with it, and writes both, one series twice);
 * - or the metric's name plus a suffix prom-client writes for the metric's type, as the merged
 *   family is typed (the first answer's type: prom-client's aggregation keeps it): a histogram's
 *   `_bucket`, `_sum`, `_count` (histogram.js), a summary's `_sum`, `_count` (summary.js). A
 *   counter's `_total` is added only by the OpenMetrics writer, from the name, not by a value,
 *   and the exposition is written in the Prometheus format;
 * and, suffixed, it is neither one of clusterkit's own series nor the name of another metric the
 * merge writes (a gauge `a_sum` beside a histogram `a`: the gauge keeps `a_sum`, the histogram's
 * `a_sum` samples are dropped). A metric named as one of clusterkit's families is dropped whole
 * (H278). What is dropped is told per worker, so its scrape can report it.
 */
import type { MetricJson } from '../../messaging/metrics-reply.js';

/** The suffixes prom-client gives a metric's samples (`metricName`), by the metric's type. */
const kSuffixes: ReadonlyMap<string, readonly string[]> = new Map([
  ['histogram', ['_bucket', '_sum', '_count']],
  ['summary', ['_sum', '_count']],
]);

/** How many dropped names a report quotes; the rest are counted. */
const kQuotedNames = 3;

/** Why a sample or a metric was dropped. */
export type DropReason = 'clusterkit' | 'other-metric' | 'not-its-name';

export interface DroppedSeries {
  /** The worker metric concerned. */
  readonly metric: string;
  /** The sample name dropped; undefined when the whole metric was (named as a clusterkit family). */
  readonly sample?: string;
  readonly reason: DropReason;
}

/**
 * Keeps, in place, what each worker's metrics may write (see above) and returns, by slot, what
 * was dropped. `answers` are in the order prom-client's aggregation will take them.
 */
export function keepOwnSeries(answers: Map<number, MetricJson[]>, reserved: ReadonlySet<string>): Map<number, DroppedSeries[]> {
  const dropped = new Map<number, DroppedSeries[]>();
  const note = (slot: number, entry: DroppedSeries) => {
    const list = dropped.get(slot);
    if (list) list.push(entry);
    else dropped.set(slot, [entry]);
  };
  // The merged families: their type and aggregator are the first answer's (prom-client's aggregate()).
  const merged = new Map<string, MetricJson>();
  for (const [slot, metrics] of answers) {
    const kept = metrics.filter((metric) => {
      if (!reserved.has(metric.name)) return true;
      note(slot, { metric: metric.name, reason: 'clusterkit' });
      return false;
    });
    answers.set(slot, kept);
    for (const metric of kept) if (!merged.has(metric.name)) merged.set(metric.name, metric);
  }
  // The families the merge writes: prom-client's 'omit' aggregator writes none.
  const written = new Set([...merged.values()].filter((metric) => metric.aggregator !== 'omit').map((metric) => metric.name));
  for (const [slot, metrics] of answers) {
    for (const metric of metrics) {
      const suffixes = kSuffixes.get(merged.get(metric.name)!.type) ?? [];
      metric.values = metric.values.filter((value) => {
        const sample = value.metricName ?? metric.name;
        if (sample === metric.name) {
          delete value.metricName;
          return true;
        }
        const reason: DropReason | undefined = reserved.has(sample)
          ? 'clusterkit'
          : !suffixes.some((suffix) => sample === `${metric.name}${suffix}`)
          ? 'not-its-name'
          : written.has(sample)
          ? 'other-metric'
          : undefined;
        if (reason === undefined) return true;
        note(slot, { metric: metric.name, sample, reason });
        return false;
      });
    }
  }
  return dropped;
}

/** What a worker's dropped series were, for its protocol error: the first few quoted with why, the rest counted. */
export function describeDroppedSeries(dropped: readonly DroppedSeries[]): string {
  // One line per name: a forged name in every value of a metric is told once, with its count.
  const byName = new Map<string, { entry: DroppedSeries; count: number }>();
  for (const entry of dropped) {
    const key = `${entry.metric}\0${entry.sample ?? ''}`;
    const seen = byName.get(key);
    if (seen) seen.count++;
    else byName.set(key, { entry, count: 1 });
  }
  // clusterkit's own series first: what an alert reads.
  const ordered = [...byName.values()].sort((a, b) => Number(b.entry.reason === 'clusterkit') - Number(a.entry.reason === 'clusterkit'));
  const quoted = ordered.slice(0, kQuotedNames).map(({ entry, count }) => {
    if (entry.sample === undefined) return `metric "${entry.metric}" (named as one of clusterkit's own)`;
    const times = count > 1 ? ` x${count}` : '';
    const why =
      entry.reason === 'clusterkit'
        ? "one of clusterkit's own series"
        : entry.reason === 'other-metric'
        ? `the series of the metric "${entry.sample}"`
        : `not "${entry.metric}" nor a series its type writes`;
    return `"${entry.sample}"${times} in metric "${entry.metric}" (${why})`;
  });
  const rest = byName.size - quoted.length;
  return `${quoted.join(', ')}${rest > 0 ? ` and ${rest} more name${rest === 1 ? '' : 's'}` : ''}`;
}
