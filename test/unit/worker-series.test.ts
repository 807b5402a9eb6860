/**
 * What of the workers' metrics the exposition may write (worker-series.ts, H308): each sample
 * named as its own metric, or its metric's name plus a suffix prom-client writes for its type,
 * never as clusterkit's own series nor another metric's.
 */
import { describe, expect, it } from '@jest/globals';
import type { MetricJson } from '../../src/messaging/metrics-reply.js';
import { describeDroppedSeries, keepOwnSeries } from '../../src/primary/features/worker-series.js';

const metric = (name: string, type: string, values: MetricJson['values'], aggregator = 'sum'): MetricJson => ({ name, help: name, type, aggregator, values });
const names = (metrics: MetricJson[]) => metrics.map((each) => [each.name, each.values.map((value) => value.metricName ?? each.name)]);

describe('keepOwnSeries [H308]', () => {
  it('[H308] keeps prom-client\'s own samples: a histogram\'s _bucket, _sum, _count, a summary\'s quantiles, _sum, _count, counters and gauges by name', () => {
    const answers = new Map([
      [
        0,
        [
          metric('h', 'histogram', [{ value: 1, labels: { le: '1' }, metricName: 'h_bucket' }, { value: 1, labels: {}, metricName: 'h_sum' }, { value: 1, labels: {}, metricName: 'h_count' }]),
          metric('s', 'summary', [{ value: 1, labels: { quantile: 0.5 } }, { value: 1, labels: {}, metricName: 's_sum' }, { value: 1, labels: {}, metricName: 's_count' }]),
          metric('c_total', 'counter', [{ value: 1, labels: {} }]),
          metric('g', 'gauge', [{ value: 1, labels: {} }]),
        ],
      ],
    ]);
    expect(keepOwnSeries(answers, new Set(['clusterkit_x'])).size).toBe(0);
    expect(names(answers.get(0)!)).toEqual([
      ['h', ['h_bucket', 'h_sum', 'h_count']],
      ['s', ['s', 's_sum', 's_count']],
      ['c_total', ['c_total']],
      ['g', ['g']],
    ]);
  });

  it('[H308] drops a sample named as clusterkit\'s series, another metric\'s, or a suffix its merged type has not; a metric named as clusterkit\'s', () => {
    const answers = new Map([
      [0, [metric('h', 'histogram', [{ value: 1, labels: {}, metricName: 'h_sum' }]), metric('clusterkit_x', 'gauge', [{ value: 1, labels: {} }])]],
      [
        1,
        [
          // Typed a summary here, a histogram by the first answer: `_bucket` is the merged type's.
          metric('h', 'summary', [{ value: 1, labels: {}, metricName: 'h_bucket' }, { value: 1, labels: {}, metricName: 'h_count' }]),
          metric('h_count', 'gauge', [{ value: 4, labels: {} }]),
          metric('g', 'gauge', [{ value: 1, labels: {}, metricName: 'g_sum' }, { value: 1, labels: {}, metricName: 'clusterkit_x' }, { value: 1, labels: {}, metricName: 'clusterkit_x' }]),
          metric('k', 'histogram', [{ value: 1, labels: {}, metricName: 'k_sum' }]),
        ],
      ],
    ]);
    const dropped = keepOwnSeries(answers, new Set(['clusterkit_x', 'k_sum']));
    expect(names(answers.get(0)!)).toEqual([['h', ['h_sum']]]);
    expect(names(answers.get(1)!)).toEqual([['h', ['h_bucket']], ['h_count', ['h_count']], ['g', []], ['k', []]]);
    expect(dropped.get(0)).toEqual([{ metric: 'clusterkit_x', reason: 'clusterkit' }]);
    expect(dropped.get(1)).toEqual([
      { metric: 'h', sample: 'h_count', reason: 'other-metric' },
      { metric: 'g', sample: 'g_sum', reason: 'not-its-name' },
      { metric: 'g', sample: 'clusterkit_x', reason: 'clusterkit' },
      { metric: 'g', sample: 'clusterkit_x', reason: 'clusterkit' },
      { metric: 'k', sample: 'k_sum', reason: 'clusterkit' },
    ]);
    expect(describeDroppedSeries(dropped.get(1)!)).toBe(
      '"clusterkit_x" x2 in metric "g" (one of clusterkit\'s own series), "k_sum" in metric "k" (one of clusterkit\'s own series), ' +
        '"h_count" in metric "h" (the series of the metric "h_count") and 1 more name',
    );
  });

  it('[H308] writes a value named as its metric with those without a name (one series, not two), and lets a metric the merge omits take no name', () => {
    const answers = new Map([
      [0, [metric('g', 'gauge', [{ value: 1, labels: {} }]), metric('h_sum', 'gauge', [{ value: 1, labels: {} }], 'omit')]],
      [1, [metric('g', 'gauge', [{ value: 1, labels: {}, metricName: 'g' }]), metric('h', 'histogram', [{ value: 1, labels: {}, metricName: 'h_sum' }])]],
    ]);
    expect(keepOwnSeries(answers, new Set()).size).toBe(0);
    expect(answers.get(1)![0]!.values[0]).toEqual({ value: 1, labels: {} });
    expect(names(answers.get(1)!)).toEqual([['g', ['g']], ['h', ['h_sum']]]);
  });
});
