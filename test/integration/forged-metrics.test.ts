/**
 * A worker's metric samples named as series that are not its metric's (hostile t32 MEDIUM-1):
 * prom-client writes a value's `metricName` as the sample's name, and only the metric's name was
 * checked, so a worker that registered, through prom-client's public `registerMetric()`, a gauge
 * whose values said `metricName: 'clusterkit_workers_target'` wrote that series ahead of
 * clusterkit's own (Prometheus keeps the first of two and drops the other). Real workers, a real
 * prom-client registry, the exposition `primary.metrics()` writes for `/metrics`.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, MetricsScrapeError, RemoteError, type ProtocolError, type WorkerHandle } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';

/** Each series (name and label set) of an exposition, the series written more than once, and each family's `# TYPE` lines. */
function parseExposition(text: string): { values: Map<string, number>; duplicates: string[]; types: Map<string, number> } {
  const values = new Map<string, number>();
  const duplicates: string[] = [];
  const types = new Map<string, number>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) types.set(type[1]!, (types.get(type[1]!) ?? 0) + 1);
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    if (values.has(series)) duplicates.push(series);
    values.set(series, Number(line.slice(space + 1)));
  }
  return { values, duplicates, types };
}

describe('worker samples named as series not their own [H308][H317]', () => {
  it('[H308][H317][H325] are left out of the exposition and told as the worker\'s protocol error, counted one per series dropped; the real series are written once each', async () => {
    const primary = track(new ClusterPrimary(testOptions('forged-metrics-worker.ts', { workerCount: 2, heartbeat: false })));
    const reports = record<{ worker: WorkerHandle; error: ProtocolError; dropped: number }>(primary, 'workerProtocolError');
    const [first, second] = await primary.start();
    const forger = first!.slot === 1 ? first! : second!;
    const honest = forger === first ? second! : first!;
    const { values, duplicates, types } = parseExposition(await primary.metrics({ timeoutMs: 10_000 }));

    expect(duplicates).toEqual([]);
    expect([...types].filter(([, count]) => count > 1)).toEqual([]);
    // clusterkit's own series, written by clusterkit only.
    expect(values.get('clusterkit_workers_target')).toBe(2);
    expect(values.get('clusterkit_slots_given_up')).toBe(0);
    expect(values.get('clusterkit_worker_crashes_total{slot="1"}')).toBe(0);
    expect(values.has('clusterkit_worker_up{slot="7"}')).toBe(false);
    expect(values.get('clusterkit_store_keys')).toBe(0);
    // The forger's metric keeps its own sample, not the one its type does not write.
    expect(values.get('app_forged')).toBe(3);
    expect(values.has('app_forged_sum')).toBe(false);
    // The real metrics of both workers, merged.
    expect(values.get('app_real')).toBe(2);
    expect(values.get('app_split')).toBe(2);
    expect(values.get('app_latency_seconds_bucket{le="1"}')).toBe(2);
    expect(values.get('app_latency_seconds_sum')).toBe(1);
    // `app_latency_seconds_count` is the histogram's, from both workers: the forger's gauge of that name is left out (H317).
    expect(types.has('app_latency_seconds_count')).toBe(false);
    expect(values.get('app_latency_seconds_count')).toBe(2);

    // Told per worker (the first at once, rate-limited after), as its protocol error.
    await until(() => reports.events.some((event) => event.worker.id === forger.id), 30_000, 'the forger\'s workerProtocolError');
    const told = reports.events.find((event) => event.worker.id === forger.id)!;
    expect(told.error).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'misnamed-series', messageType: '$metrics' });
    // 5 samples of app_forged, the metrics app_latency_seconds_count and clusterkit_store_keys (H325: was 1, the answer).
    expect(told.dropped).toBe(7);
    expect(told.error.message).toBe(
      `Worker ${forger.id} (pid ${forger.pid}) sent an answer to "$metrics" with metrics or series named as another's: ` +
        'metric "clusterkit_store_keys" (named as one of clusterkit\'s own), ' +
        '"clusterkit_workers_target" in metric "app_forged" (one of clusterkit\'s own series), ' +
        '"clusterkit_worker_up" in metric "app_forged" (one of clusterkit\'s own series) and 4 more names. ' +
        'They were left out of the exposition; the rest of its metrics were merged. ' +
        "A sample is named as its metric (a histogram's also <name>_bucket, _sum and _count, a summary's <name>_sum and _count), never as one of clusterkit's own series or another metric's; " +
        'a histogram or summary keeps the names it writes, and a name keeps the type most workers give it: ' +
        'rename the worker\'s metric, or fix the "metricName" its values give (a registerMetric() with its own get(), or the worker\'s "metricsRegistry").',
    );
    // The honest worker lost nothing, and is not told anything (H317: it was told its histogram's `_count` was left out).
    expect(reports.events.filter((event) => event.worker.id === honest.id)).toEqual([]);
    expect(primary.stats().find((row) => row.id === honest.id)!.protocolErrors).toBe(0);
    expect(primary.stats().find((row) => row.id === forger.id)!.protocolErrors).toBe(7);
  }, 90_000);
});

describe('worker metrics named as another worker\'s histogram series, or rejected by the check [H317]', () => {
  it('[H317][H325] a gauge app_lat_count in one worker never replaces the histogram\'s count from every worker; the WARN names that worker and metric, dropped=2 for its 2; a bad label name is told as such', async () => {
    const primary = track(new ClusterPrimary(testOptions('colliding-metrics-worker.ts', { workerCount: 3, heartbeat: false })));
    const reports = record<{ worker: WorkerHandle; error: ProtocolError; dropped: number }>(primary, 'workerProtocolError');
    const workers = await primary.start();
    const bySlot = (slot: number) => workers.find((worker) => worker.slot === slot)!;
    const { values, duplicates, types } = parseExposition(await primary.metrics({ timeoutMs: 10_000 }));

    expect(duplicates).toEqual([]);
    // Slot 2's answer is left out whole (its bad label name): slots 0 and 1 make the histogram.
    expect(values.get('app_lat_count')).toBe(2);
    expect(values.get('app_lat_sum')).toBe(1);
    expect(values.get('app_lat_bucket{le="1"}')).toBe(2);
    expect(types.has('app_lat_count')).toBe(false);
    expect(types.has('app_lat_sum')).toBe(false);
    expect(values.get('app_ok')).toBe(2);
    expect(values.has('app_bad_label')).toBe(false);
    expect(values.get('clusterkit_worker_scrape_errors_total{slot="2"}')).toBe(1);
    expect(values.get('clusterkit_worker_scrape_errors_total{slot="1"}')).toBe(0);

    await until(() => reports.events.some((event) => event.worker.slot === 1) && reports.events.some((event) => event.worker.slot === 2), 30_000, 'the reports of slots 1 and 2');
    const collidingEvent = reports.events.find((event) => event.worker.slot === 1)!;
    expect(collidingEvent.dropped).toBe(2);
    const colliding = collidingEvent.error;
    expect(colliding).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'misnamed-series', messageType: '$metrics' });
    expect(colliding.message).toMatch(
      new RegExp(
        `^Worker ${bySlot(1).id} \\(pid ${bySlot(1).pid}\\) sent an answer to "\\$metrics" with metrics or series named as another's: ` +
          'metric "app_lat_count" \\(a gauge named as a series of the histogram "app_lat", which keeps the name\\), ' +
          'metric "app_lat_sum" \\(a gauge named as a series of the histogram "app_lat", which keeps the name\\)\\. ',
      ),
    );
    const rejected = reports.events.find((event) => event.worker.slot === 2)!.error;
    expect(rejected).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'bad-metrics', messageType: '$metrics' });
    expect(rejected.detail).toBe('metric "app_bad_label", value #0: the label name "bad\\"name" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, at most 256 characters)');
    expect(rejected.message).not.toMatch(/process\.send|IPC protocol/);
    // The workers with only the histogram are told nothing.
    expect(reports.events.filter((event) => event.worker.slot === 0)).toEqual([]);
    expect(primary.stats().find((row) => row.id === bySlot(0).id)!.protocolErrors).toBe(0);
  }, 120_000);
});

describe('a worker whose registry throws at a scrape [H666]', () => {
  it('[H666] is left out of the scrape and counted, and said once with its error (hostile t67: without a word, the error lost)', async () => {
    const primary = track(new ClusterPrimary(testOptions('throwing-metrics-worker.ts', { workerCount: 2, heartbeat: false })));
    const warnings: Error[] = [];
    primary.on('error', (error) => warnings.push(error));
    const workers = await primary.start();
    const thrower = workers.find((worker) => worker.slot === 1)!;
    for (let scrape = 1; scrape <= 2; scrape++) {
      const { values } = parseExposition(await primary.metrics({ timeoutMs: 10_000 }));
      // The other worker's series only.
      expect(values.get('app_ok')).toBe(1);
      expect(values.get('clusterkit_worker_scrape_errors_total{slot="1"}')).toBe(scrape);
    }
    // Once, for two failed scrapes.
    expect(warnings).toHaveLength(1);
    const [warning] = warnings as [MetricsScrapeError];
    expect(warning).toBeInstanceOf(MetricsScrapeError);
    expect(warning).toMatchObject({ code: 'ERR_METRICS_SCRAPE', reason: 'threw', worker: `worker ${thrower.id} (pid ${thrower.pid})` });
    expect(warning.message).toMatch(new RegExp(`^Worker ${thrower.id} \\(pid ${thrower.pid}\\) could not give its metrics: its registry's getMetricsAsJSON\\(\\) threw Error: registry boom <b>\\. `));
    expect(warning.cause).toBeInstanceOf(RemoteError);
  }, 90_000);
});

