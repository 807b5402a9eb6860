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

describe('keepOwnSeries [H308][H317]', () => {
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

  it('[H308][H317] drops a sample named as clusterkit\'s series or a suffix its type has not; a metric named as clusterkit\'s, as a histogram\'s series, or of another type', () => {
    const answers = new Map([
      [0, [metric('h', 'histogram', [{ value: 1, labels: {}, metricName: 'h_sum' }]), metric('clusterkit_x', 'gauge', [{ value: 1, labels: {} }])]],
      [
        1,
        [
          // Typed a summary here, a histogram by slot 0 (a tie: the lowest slot's type is kept).
          metric('h', 'summary', [{ value: 1, labels: {}, metricName: 'h_bucket' }, { value: 1, labels: {}, metricName: 'h_count' }]),
          metric('h_count', 'gauge', [{ value: 4, labels: {} }]),
          metric('g', 'gauge', [{ value: 1, labels: {}, metricName: 'g_sum' }, { value: 1, labels: {}, metricName: 'clusterkit_x' }, { value: 1, labels: {}, metricName: 'clusterkit_x' }]),
          metric('k', 'histogram', [{ value: 1, labels: {}, metricName: 'k_sum' }]),
        ],
      ],
    ]);
    const dropped = keepOwnSeries(answers, new Set(['clusterkit_x', 'k_sum']));
    expect(names(answers.get(0)!)).toEqual([['h', ['h_sum']]]);
    expect(names(answers.get(1)!)).toEqual([['g', []], ['k', []]]);
    expect(dropped.get(0)).toEqual([{ metric: 'clusterkit_x', reason: 'clusterkit' }]);
    expect(dropped.get(1)).toEqual([
      { metric: 'h', reason: 'other-type', type: 'summary', ownerType: 'histogram' },
      { metric: 'h_count', reason: 'series-of', type: 'gauge', owner: 'h', ownerType: 'histogram' },
      { metric: 'g', sample: 'g_sum', reason: 'not-its-name' },
      { metric: 'g', sample: 'clusterkit_x', reason: 'clusterkit' },
      { metric: 'g', sample: 'clusterkit_x', reason: 'clusterkit' },
      { metric: 'k', sample: 'k_sum', reason: 'clusterkit' },
    ]);
    expect(describeDroppedSeries(dropped.get(1)!)).toBe(
      '"clusterkit_x" x2 in metric "g" (one of clusterkit\'s own series), "k_sum" in metric "k" (one of clusterkit\'s own series), ' +
        'metric "h" (a summary here, a histogram in the workers that keep the name) and 2 more names',
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

  it('[H317] a histogram keeps its _count, _sum and _bucket from every worker: one worker\'s gauge of such a name is dropped, and told to that worker only', () => {
    const histogram = () => metric('app_lat', 'histogram', [{ value: 2, labels: { le: '1' }, metricName: 'app_lat_bucket' }, { value: 1, labels: {}, metricName: 'app_lat_sum' }, { value: 1, labels: {}, metricName: 'app_lat_count' }]);
    // The colliding worker in the lowest slot, then in the highest: the same outcome.
    for (const forger of [0, 1, 2]) {
      const answers = new Map([0, 1, 2].map((slot) => [slot, [histogram(), metric('app_ok', 'counter', [{ value: 1, labels: {} }])]]));
      answers.get(forger)!.push(metric('app_lat_count', 'gauge', [{ value: 0, labels: {} }]), metric('app_lat_sum', 'counter', [{ value: 99, labels: {} }]), metric('app_lat_bucket', 'summary', [{ value: 5, labels: { quantile: 0.5 } }]));
      const dropped = keepOwnSeries(answers, new Set());
      expect([...dropped.keys()]).toEqual([forger]);
      expect(dropped.get(forger)).toEqual([
        { metric: 'app_lat_count', reason: 'series-of', type: 'gauge', owner: 'app_lat', ownerType: 'histogram' },
        { metric: 'app_lat_sum', reason: 'series-of', type: 'counter', owner: 'app_lat', ownerType: 'histogram' },
        { metric: 'app_lat_bucket', reason: 'series-of', type: 'summary', owner: 'app_lat', ownerType: 'histogram' },
      ]);
      for (const slot of [0, 1, 2]) expect(names(answers.get(slot)!)).toEqual([['app_lat', ['app_lat_bucket', 'app_lat_sum', 'app_lat_count']], ['app_ok', ['app_ok']]]);
      expect(describeDroppedSeries(dropped.get(forger)!)).toBe(
        'metric "app_lat_count" (a gauge named as a series of the histogram "app_lat", which keeps the name), ' +
          'metric "app_lat_sum" (a counter named as a series of the histogram "app_lat", which keeps the name), ' +
          'metric "app_lat_bucket" (a summary named as a series of the histogram "app_lat", which keeps the name)',
      );
    }
  });

  it('[H317] the same when the histogram is only in another worker, for a summary\'s _sum, and shortest name first: a dropped family frees its own names', () => {
    const answers = new Map([
      [0, [metric('a_sum_count', 'gauge', [{ value: 7, labels: {} }]), metric('s_sum', 'gauge', [{ value: 3, labels: {} }]), metric('t_bucket', 'gauge', [{ value: 1, labels: {} }])]],
      [
        1,
        [
          metric('a', 'histogram', [{ value: 1, labels: {}, metricName: 'a_sum' }]),
          metric('a_sum', 'summary', [{ value: 1, labels: {}, metricName: 'a_sum_count' }]),
          metric('s', 'summary', [{ value: 1, labels: { quantile: 0.5 } }, { value: 1, labels: {}, metricName: 's_sum' }]),
          // A summary writes no _bucket: `t_bucket` is no series of `t`.
          metric('t', 'summary', [{ value: 1, labels: {}, metricName: 't_sum' }]),
        ],
      ],
    ]);
    const dropped = keepOwnSeries(answers, new Set());
    expect(dropped.get(0)).toEqual([{ metric: 's_sum', reason: 'series-of', type: 'gauge', owner: 's', ownerType: 'summary' }]);
    expect(dropped.get(1)).toEqual([{ metric: 'a_sum', reason: 'series-of', type: 'summary', owner: 'a', ownerType: 'histogram' }]);
    expect(names(answers.get(0)!)).toEqual([['a_sum_count', ['a_sum_count']], ['t_bucket', ['t_bucket']]]);
    expect(names(answers.get(1)!)).toEqual([['a', ['a_sum']], ['s', ['s', 's_sum']], ['t', ['t_sum']]]);
  });

  it('[H317] a name keeps the type most workers give it; on a tie the lowest slot\'s', () => {
    const gauge = () => metric('m', 'gauge', [{ value: 1, labels: {} }]);
    const histogram = () => metric('m', 'histogram', [{ value: 1, labels: {}, metricName: 'm_count' }]);
    const majority = new Map([[0, [gauge()]], [1, [histogram()]], [2, [histogram()]]]);
    expect(keepOwnSeries(majority, new Set())).toEqual(new Map([[0, [{ metric: 'm', reason: 'other-type', type: 'gauge', ownerType: 'histogram' }]]]));
    expect(names(majority.get(1)!)).toEqual([['m', ['m_count']]]);
    const tie = new Map([[1, [histogram()]], [0, [gauge()]]]);
    expect(keepOwnSeries(tie, new Set())).toEqual(new Map([[1, [{ metric: 'm', reason: 'other-type', type: 'histogram', ownerType: 'gauge' }]]]));
  });
});
