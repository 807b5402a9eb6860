/**
 * The workers' metrics a scrape leaves out when the primary cannot load prom-client (H523).
 * prom-client's AggregatorRegistry merges the workers' answers in the primary, so a worker's
 * series need prom-client there, whatever wrote them (a custom `metricsRegistry` needs none in
 * the worker). Before, such answers were checked, then dropped without a word: `/metrics`
 * looked healthy, with scrape errors at 0. Now they are counted here, told once per primary
 * (`metricsDropped`) and counted in the exposition
 * (`clusterkit_worker_series_dropped_total{reason="no-prom-client"}`). Pure.
 */
import type { MetricJson } from '../../messaging/metrics-reply.js';
import { plural } from '../../plural.js';

/** Why series of the workers' answers were left out of the exposition: the label `reason` of `clusterkit_worker_series_dropped_total`. */
export const kSeriesDroppedReasons = ['no-prom-client'] as const;
export type SeriesDroppedReason = (typeof kSeriesDroppedReasons)[number];

/** The most metric names the event carries; its line quotes fewer (kQuotedNames). */
export const kMaxDroppedNames = 100;
const kQuotedNames = 3;

/** What the workers answered that a scrape could not merge. */
export interface UnmergedMetrics {
  /** Workers whose answer held at least one series. */
  readonly workers: number;
  /** Their series: each worker's samples (a histogram's buckets, sum and count each), counted per worker. */
  readonly series: number;
  /** The metrics' names, each once, the lowest slot's first (at most kMaxDroppedNames). */
  readonly metrics: readonly string[];
  /** How many names there were in all (`metrics` may hold fewer). */
  readonly metricCount: number;
}

/**
 * The series in the workers' checked answers that the merge would have written. A family whose
 * aggregator is `omit` is written by no one, with prom-client or without: not counted.
 */
export function countUnmerged(answers: Iterable<readonly MetricJson[]>): UnmergedMetrics {
  let workers = 0;
  let series = 0;
  const names = new Set<string>();
  for (const metrics of answers) {
    let own = 0;
    for (const metric of metrics) {
      if (metric.aggregator === 'omit' || metric.values.length === 0) continue;
      own += metric.values.length;
      names.add(metric.name);
    }
    if (own > 0) workers++;
    series += own;
  }
  return { workers, series, metrics: [...names].slice(0, kMaxDroppedNames), metricCount: names.size };
}

/**
 * The primary's warning: what was left out, why, and what to do. `cause` is the import's error
 * (Node's says where the package was looked for: `Cannot find package 'prom-client' imported
 * from /usr/lib/node_modules/clusterkit/dist/...` is a clusterkit installed apart from the project).
 */
export function describeUnmerged(unmerged: Pick<UnmergedMetrics, 'workers' | 'series' | 'metrics' | 'metricCount'>, cause: Error | undefined): string {
  const { workers, series, metrics, metricCount } = unmerged;
  const quoted = metrics.slice(0, kQuotedNames).map((name) => `"${name}"`);
  const rest = metricCount - quoted.length;
  const names = `${quoted.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
  const why = cause === undefined ? '' : ` (${firstLine(cause.message)})`;
  return (
    `the workers' own metrics are left out of /metrics and primary.metrics(): ${plural(workers, 'worker')} answered the scrape with ${plural(series, 'series', 'series')} ` +
    `of ${plural(metricCount, 'metric')} (${names}), but the primary could not load prom-client, whose AggregatorRegistry merges them${why}. ` +
    `Only clusterkit's own series are written; clusterkit_worker_series_dropped_total{reason="no-prom-client"} counts the series left out at each scrape. ` +
    "Install prom-client where the primary runs (npm i prom-client in the primary's project, beside its clusterkit): a worker's metricsRegistry needs none in the worker, but its series need it in the primary. " +
    'Said once; the scrapes go on without them.'
  );
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!;
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

