/**
 * [H523] What a scrape leaves out when the primary cannot load prom-client (unmerged-metrics.ts),
 * and the counter that shows it in the exposition (format-cluster-metrics.ts). Pure.
 */
import { describe, expect, it } from '@jest/globals';
import type { MetricJson } from '../../src/messaging/metrics-reply.js';
import { formatClusterMetrics, kOwnFamilies } from '../../src/primary/features/format-cluster-metrics.js';
import { countUnmerged, describeUnmerged, kMaxDroppedNames } from '../../src/primary/features/unmerged-metrics.js';

const counter = (name: string, values: number, aggregator = 'sum'): MetricJson => ({
  name,
  help: 'h',
  type: 'counter',
  aggregator,
  values: Array.from({ length: values }, (_, index) => ({ value: 1, labels: { n: String(index) } })),
});

const store = { bytes: 0, keys: 0, maxBytes: Infinity, maxKeys: 10 };
const pool = { targetWorkers: 0, givenUp: [], crashLoops: 0 };

describe('the workers\' series left out without prom-client [H523]', () => {
  it('[H523] counts each worker\'s series, not those of a family the merge omits, and the workers that had any', () => {
    const unmerged = countUnmerged([[counter('app_a', 2), counter('app_hidden', 5, 'omit')], [counter('app_a', 2), counter('app_b', 1)], [], [counter('app_empty', 0)]]);
    expect(unmerged).toEqual({ workers: 2, series: 5, metrics: ['app_a', 'app_b'], metricCount: 2 });
    expect(countUnmerged([[counter('app_hidden', 3, 'omit')], []])).toEqual({ workers: 0, series: 0, metrics: [], metricCount: 0 });
  });

  it('[H523] names at most kMaxDroppedNames metrics, and counts them all', () => {
    const many = Array.from({ length: kMaxDroppedNames + 5 }, (_, index) => counter(`app_${index}`, 1));
    const unmerged = countUnmerged([many]);
    expect(unmerged.metrics).toHaveLength(kMaxDroppedNames);
    expect(unmerged.metricCount).toBe(kMaxDroppedNames + 5);
    expect(describeUnmerged(unmerged, undefined)).toContain(`1 worker answered the scrape with ${kMaxDroppedNames + 5} series of ${kMaxDroppedNames + 5} metrics ("app_0", "app_1", "app_2" and ${kMaxDroppedNames + 2} more), but the primary could not load prom-client, whose AggregatorRegistry merges them. `);
  });

  it('[H523] says why prom-client could not be loaded (the first line of the import\'s error) and what to do', () => {
    const error = new Error("Cannot find package 'prom-client' imported from /usr/lib/node_modules/clusterkit/dist/index.js\nDid you mean to import ...");
    const text = describeUnmerged({ workers: 1, series: 1, metrics: ['app_ok'], metricCount: 1 }, error);
    expect(text).toBe(
      "the workers' own metrics are left out of /metrics and primary.metrics(): 1 worker answered the scrape with 1 series of 1 metric (\"app_ok\"), but the primary could not load prom-client, whose AggregatorRegistry merges them " +
        "(Cannot find package 'prom-client' imported from /usr/lib/node_modules/clusterkit/dist/index.js). " +
        'Only clusterkit\'s own series are written; clusterkit_worker_series_dropped_total{reason="no-prom-client"} counts the series left out at each scrape. ' +
        "Install prom-client where the primary runs (npm i prom-client in the primary's project, beside its clusterkit): a worker's metricsRegistry needs none in the worker, but its series need it in the primary. " +
        'Said once; the scrapes go on without them.',
    );
  });

  it('[H523] writes clusterkit_worker_series_dropped_total from the first scrape, at 0, and keeps it one of clusterkit\'s own families', () => {
    const none = formatClusterMetrics([], [], store, { ...pool, seriesDropped: new Map() });
    expect(none).toContain('# TYPE clusterkit_worker_series_dropped_total counter\nclusterkit_worker_series_dropped_total{reason="no-prom-client"} 0\n');
    const some = formatClusterMetrics([], [], store, { ...pool, seriesDropped: new Map([['no-prom-client', 6]]) });
    expect(some).toContain('clusterkit_worker_series_dropped_total{reason="no-prom-client"} 6\n');
    // A worker's metric of that name is left out of the merge, as any of clusterkit's families.
    expect(kOwnFamilies.has('clusterkit_worker_series_dropped_total')).toBe(true);
  });
});
