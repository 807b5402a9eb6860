/**
 * Non-finite values in workers' prom-client metrics (hostile t36 MEDIUM-1, H353). With JSON
 * serialization a gauge set to NaN, Infinity or -Infinity travelled as null, which prom-client's
 * aggregation summed as 0 and wrote as `+Inf` under `first`: `app_inf_sum 0` where the worker's
 * registry said `+Inf`. They now travel as their Prometheus spelling and the primary restores the
 * number before the merge, so `primary.metrics()` writes what the worker's registry writes, and
 * what prom-client's own AggregatorRegistry gives over the real numbers. A tag where no value is
 * (a label, a metricName) stays what it is, and a tag that is none of the three is refused.
 * Real workers, real prom-client registries.
 */
import { describe, expect, it } from '@jest/globals';
import client from 'prom-client';
import { ClusterPrimary, type ProtocolError, type WorkerHandle } from '../../src/index.js';
import { registerNonFiniteMetrics } from '../fixtures/nonfinite-metrics.js';
import { testOptions, track } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';

/** The workers' part of a cluster exposition: what comes before clusterkit's own families. */
function workersPart(text: string): string {
  const own = text.indexOf('# HELP clusterkit_');
  return text.slice(0, own).trimEnd();
}

/** The sample lines of an exposition (no comments, no blank lines). */
function samples(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** What prom-client's own cluster aggregation writes for these slots' registries, over the real numbers. */
async function promClientAggregate(slots: number[]): Promise<string> {
  const answers = await Promise.all(
    slots.map((slot) => {
      const registry = new client.Registry();
      registerNonFiniteMetrics(registry, slot);
      return registry.getMetricsAsJSON();
    }),
  );
  return (await client.AggregatorRegistry.aggregate(answers).metrics()).trimEnd();
}

describe('non-finite metric values [H353]', () => {
  it('[H353] with JSON serialization, one worker\'s NaN, +Inf and -Inf gauges, counter and histogram sum show in the cluster\'s exposition as in its own registry', async () => {
    const primary = track(new ClusterPrimary(testOptions('nonfinite-metrics-worker.ts', { serialization: 'json', heartbeat: false })));
    const [worker] = await primary.start();
    const text = await primary.metrics({ timeoutMs: 10_000 });
    const own = await primary.send(worker!, 'own', undefined);

    // The worker's own samples, but for the families its `omit` aggregator leaves out of any merge.
    const expected = samples(String(own)).filter((line) => !line.startsWith('app_omit_'));
    expect(samples(workersPart(text))).toEqual(expected);
    // Spelled out, as prom-client writes them (its NaN is `Nan`, which Prometheus reads as NaN).
    for (const aggregator of ['sum', 'first', 'max', 'min', 'average']) {
      expect(text).toContain(`\napp_${aggregator}_nan Nan\n`);
      expect(text).toContain(`\napp_${aggregator}_inf +Inf\n`);
      expect(text).toContain(`\napp_${aggregator}_neginf -Inf\n`);
    }
    expect(text).toContain('\napp_labelled{kind="nan"} Nan\n');
    expect(text).toContain('\napp_overflow_total +Inf\n');
    expect(text).toContain('\napp_big_sum +Inf\n');
    expect(text).toContain('\napp_big_count 2\n');
    expect(text).not.toMatch(/^app_omit_/m);
    // Nothing was refused.
    expect(text).toMatch(/^clusterkit_worker_scrape_errors_total\{slot="0"\} 0$/m);
    expect(primary.stats()[0]!.protocolErrors).toBe(0);
  }, 90_000);

  it.each(['json', 'advanced'] as const)('[H353] with %s serialization, two workers\' values merge as prom-client\'s AggregatorRegistry merges the real numbers', async (serialization) => {
    const primary = track(new ClusterPrimary(testOptions('nonfinite-metrics-worker.ts', { serialization, workerCount: 2, heartbeat: false })));
    await primary.start();
    const text = await primary.metrics({ timeoutMs: 10_000 });

    expect(workersPart(text)).toBe(await promClientAggregate([0, 1]));
    // Slot 0's non-finite value beside slot 1's 1, as JavaScript's arithmetic gives it.
    expect(text).toContain('\napp_sum_inf +Inf\n');
    expect(text).toContain('\napp_sum_nan Nan\n');
    expect(text).toContain('\napp_sum_neginf -Inf\n');
    expect(text).toContain('\napp_first_nan Nan\n');
    expect(text).toContain('\napp_first_neginf -Inf\n');
    expect(text).toContain('\napp_max_neginf 1\n');
    expect(text).toContain('\napp_max_nan Nan\n');
    expect(text).toContain('\napp_min_inf 1\n');
    expect(text).toContain('\napp_min_neginf -Inf\n');
    expect(text).toContain('\napp_average_inf +Inf\n');
    expect(text).toContain('\napp_mixed_sum Nan\n');
    expect(text).toContain('\napp_overflow_total +Inf\n');
    expect(text).toContain('\napp_big_sum +Inf\n');
    expect(text).toContain('\napp_big_count 4\n');
    expect(text).toMatch(/^clusterkit_worker_scrape_errors_total\{slot="1"\} 0$/m);
  }, 90_000);

  it('[H353] a tag in a label or a metricName stays a string, and a value that is no tag is refused as bad-metrics; the scrape answers', async () => {
    const primary = track(new ClusterPrimary(testOptions('forged-tag-metrics-worker.ts', { serialization: 'json', workerCount: 2, heartbeat: false })));
    const reports = record<{ worker: WorkerHandle; error: ProtocolError; dropped: number }>(primary, 'workerProtocolError');
    await primary.start();
    const text = await primary.metrics({ timeoutMs: 10_000 });

    // Slot 0: its tagged value restored; the labels written as the strings they are.
    expect(samples(workersPart(text))).toEqual(['app_tagged -Inf', 'app_tagged{x="NaN"} 1', 'app_tagged{x="+Inf"} 2']);
    expect(text).not.toMatch(/^NaN /m);
    // Slot 1's answer is left out whole, and counted.
    expect(text).not.toContain('app_bogus');
    expect(text).toMatch(/^clusterkit_worker_scrape_errors_total\{slot="0"\} 0$/m);
    expect(text).toMatch(/^clusterkit_worker_scrape_errors_total\{slot="1"\} 1$/m);

    await until(() => [0, 1].every((slot) => reports.events.some((event) => event.worker.slot === slot)), 30_000, 'the reports of slots 0 and 1');
    const misnamed = reports.events.find((event) => event.worker.slot === 0)!;
    expect(misnamed.error).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'misnamed-series', messageType: '$metrics' });
    expect(misnamed.dropped).toBe(1);
    expect(misnamed.error.message).toContain('"NaN" in metric "app_tagged" (not "app_tagged" nor a series its type writes)');
    const refused = reports.events.find((event) => event.worker.slot === 1)!.error;
    expect(refused).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'bad-metrics', messageType: '$metrics' });
    expect(refused.detail).toBe('metric "app_bogus", value #0: its value is "Infinity", not a number (nor "NaN", "+Inf" or "-Inf")');
  }, 90_000);
});
