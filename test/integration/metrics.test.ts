import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type PrimaryOptions } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';

const metricsPrimary = (options: PrimaryOptions) => track(new ClusterPrimary(testOptions('metrics-worker.ts', options)));
import { onceEvent, until } from '../helpers/wait.js';

describe('metrics', () => {
  it('merges the workers prom-client registries and adds clusterkit figures per slot', async () => {
    const primary = metricsPrimary({ workerCount: 2, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } });
    const [first, second] = await primary.start();
    for (let i = 0; i < 3; i++) await primary.send(first!, 'hit', { route: '/a' });
    for (let i = 0; i < 2; i++) await primary.send(second!, 'hit', { route: '/a' });
    await primary.send(second!, 'hit', { route: '/b' });
    await until(() => primary.stats().every((row) => row.rssBytes !== undefined), 30_000, 'heartbeat figures');
    const text = await primary.metrics();
    expect(text).toContain('app_requests_total{route="/a"} 5');
    expect(text).toContain('app_requests_total{route="/b"} 1');
    expect(text).toContain('app_worker_slot 1');
    expect(text).toContain('clusterkit_workers{state="ready"} 2');
    expect(text).toMatch(/clusterkit_worker_rss_bytes\{slot="0"\} \d+/);
    expect(text).toContain('clusterkit_worker_up{slot="1"} 1');
    expect(text).toContain('# TYPE clusterkit_worker_scrape_errors_total counter');
    // A series per slot from the first scrape, at 0.
    expect(text).toContain('clusterkit_worker_scrape_errors_total{slot="0"} 0\nclusterkit_worker_scrape_errors_total{slot="1"} 0\n');
  });

  it('[H254] counts crashes apart from restarts: a reload restarts the slot without a crash, a kill -9 counts in both', async () => {
    const primary = metricsPrimary({ workerCount: 1, heartbeat: false });
    await primary.start();
    expect(primary.stats()).toMatchObject([{ slot: 0, restarts: 0, crashes: 0 }]);
    await primary.reload();
    // Planned: a restart of the slot, no crash.
    expect(primary.stats()).toMatchObject([{ slot: 0, restarts: 1, crashes: 0 }]);
    let text = await primary.metrics();
    expect(text).toContain('# TYPE clusterkit_worker_crashes_total counter\nclusterkit_worker_crashes_total{slot="0"} 0\n');
    expect(text).toContain('clusterkit_worker_restarts_total{slot="0"} 1\n');
    const reloaded = primary.workers[0]!;
    const replaced = onceEvent(primary, 'workerReady', 20_000, ({ worker }: { worker: { id: number } }) => worker.id !== reloaded.id);
    process.kill(reloaded.pid!, 'SIGKILL');
    const { worker } = await replaced;
    // Unplanned: counted in both.
    expect(primary.stats()).toMatchObject([{ slot: 0, restarts: 2, crashes: 1 }]);
    expect(worker).toMatchObject({ restarts: 2, crashes: 1 });
    text = await primary.metrics();
    expect(text).toContain('clusterkit_worker_crashes_total{slot="0"} 1\n');
    expect(text).toContain('clusterkit_worker_restarts_total{slot="0"} 2\n');
  });

  it('returns a partial result when a worker is hung, counting it in clusterkit_worker_scrape_errors_total', async () => {
    const primary = metricsPrimary({ workerCount: 2, heartbeat: false });
    const [healthy, hung] = await primary.start();
    await primary.send(healthy!, 'hit', { route: '/a' });
    await primary.send(hung!, 'hit', { route: '/a' });
    primary.notify(hung!, 'block');
    const startedAt = Date.now();
    // Long enough for the healthy worker to answer on a busy machine; the hung one never does.
    const text = await primary.metrics({ timeoutMs: 2_000 });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(text).toContain('app_requests_total{route="/a"} 1');
    expect(text).toContain(`clusterkit_worker_scrape_errors_total{slot="${hung!.slot}"} 1`);
    await primary.metrics({ timeoutMs: 200 });
    expect(await primary.metrics({ timeoutMs: 200 })).toContain(`clusterkit_worker_scrape_errors_total{slot="${hung!.slot}"} 3`);
    await primary.stopWorker(hung!, { timeoutMs: 500 });
  });
});
