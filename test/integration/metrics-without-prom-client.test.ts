/**
 * [H523] A worker's custom `metricsRegistry` needs no prom-client in the worker, but its series
 * need prom-client in the primary, whose AggregatorRegistry merges them. Without it there, the
 * answers were checked and then dropped without a word: /metrics looked healthy, scrape errors 0,
 * no warning (tester t55). Now a WARN line says so once per primary (`metricsDropped`), and
 * `clusterkit_worker_series_dropped_total{reason="no-prom-client"}` counts the series left out
 * at every scrape, in `primary.metrics()` and `/metrics` alike.
 *
 * prom-client is installed in this repository, so the fixture primary runs in a process that
 * cannot load it (a module-resolution hook, test/fixtures/hide-package: the import fails as for
 * a package not installed); its workers run without the hook. Real forked workers, a real HTTP
 * scrape.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { fixture } from '../helpers/primary.js';
import { jsonLines, spawnNode, type Spawned } from '../helpers/spawn.js';

const kScript = 'custom-registry-primary.ts';
/** A primary with two tsx workers on a busy 2-core machine: generous. */
const kPatienceMs = 120_000;

interface MetricsDroppedLine {
  event: 'metricsDropped';
  reason: string;
  workers: number;
  series: number;
  metrics: string[];
  metricCount: number;
  error?: string;
}

/** The fixture primary (its bundle when this run built one), prom-client hidden from it or not. */
function runPrimary(isPromClientHidden: boolean): Spawned {
  const bundles = process.env.CLUSTERKIT_TEST_FIXTURES;
  const bundle = bundles && join(bundles, kScript.replace(/\.ts$/, '.js'));
  const script = bundle && existsSync(bundle) ? [bundle] : ['--import', 'tsx', fixture(kScript)];
  const hide = isPromClientHidden ? ['--import', fixture('hide-package/register.mjs')] : [];
  return spawnNode([...hide, ...script], { env: isPromClientHidden ? { HIDE_PACKAGES: 'prom-client' } : {}, label: `${kScript}${isPromClientHidden ? ' (prom-client hidden)' : ''}` });
}

/** The `metrics()` text the primary printed, and its health endpoint's port. */
async function started(primary: Spawned): Promise<{ text: string; port: number }> {
  const [, port] = await primary.waitFor(/"event":"listening","port":(\d+)/, kPatienceMs);
  const text = jsonLines<{ event: string; text: string }>(primary.stdout()).find((line) => line.event === 'metrics')!.text;
  return { text, port: Number(port) };
}

/** Stops the primary (SIGTERM: its shutdown) and waits until all of its output was read. */
async function stopped(primary: Spawned): Promise<void> {
  primary.child.kill('SIGTERM');
  await primary.exited(kPatienceMs);
}

const kDroppedSeries = /^clusterkit_worker_series_dropped_total\{reason="no-prom-client"\} (\d+)$/m;

describe('workers\' metrics when the primary cannot load prom-client [H523]', () => {
  it('[H523] are never dropped without a word: one WARN line per primary, metricsDropped once, and clusterkit_worker_series_dropped_total counts them in metrics() and /metrics', async () => {
    const primary = runPrimary(true);
    const { text, port } = await started(primary);

    // primary.metrics(): clusterkit's own series, the workers' left out, and counted so.
    expect(text).not.toMatch(/^app_ok/m);
    expect(text).toContain('# TYPE clusterkit_worker_series_dropped_total counter\n');
    expect(text.match(kDroppedSeries)?.[1]).toBe('2');
    // The workers answered: no scrape error, as before (what hid the loss).
    expect(text).toContain('clusterkit_worker_scrape_errors_total{slot="0"} 0\nclusterkit_worker_scrape_errors_total{slot="1"} 0\n');

    // GET /metrics, twice: each scrape counts the 2 series it left out.
    const first = await get(`http://127.0.0.1:${port}/metrics`, 60_000);
    expect(first.status).toBe(200);
    expect(first.body).not.toMatch(/^app_ok/m);
    expect(first.body.match(kDroppedSeries)?.[1]).toBe('4');
    const second = await get(`http://127.0.0.1:${port}/metrics`, 60_000);
    expect(second.body.match(kDroppedSeries)?.[1]).toBe('6');

    // The WARN line of the default logger: what, how many, why, and what to do.
    await primary.waitFor(/WARN the workers' own metrics are left out/, kPatienceMs);
    await stopped(primary);
    const warnings = primary.stderr().split('\n').filter((line) => line.includes("the workers' own metrics are left out"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\[clusterkit\] WARN the workers' own metrics are left out of \/metrics and primary\.metrics\(\): 2 workers answered the scrape with 2 series of 1 metric \("app_ok"\), but the primary could not load prom-client, whose AggregatorRegistry merges them \(Cannot find package 'prom-client' imported from /);
    expect(warnings[0]).toContain("npm i prom-client in the primary's project");
    expect(warnings[0]).toContain('clusterkit_worker_series_dropped_total{reason="no-prom-client"}');
    expect(warnings[0]).toMatch(/ reason=no-prom-client workers=2 series=2$/);

    // The event: once per primary, over three scrapes.
    const events = jsonLines<MetricsDroppedLine>(primary.stdout()).filter((line) => line.event === 'metricsDropped');
    expect(events).toEqual([{ event: 'metricsDropped', reason: 'no-prom-client', workers: 2, series: 2, metrics: ['app_ok'], metricCount: 1, error: expect.stringContaining("Cannot find package 'prom-client'") }]);
  });

  it('[H523] with prom-client loadable, merges them, counts nothing dropped and warns nothing (the same fixture, no hook)', async () => {
    const primary = runPrimary(false);
    const { text, port } = await started(primary);
    expect(text).toMatch(/^app_ok\{a="x"\} 2$/m);
    expect(text.match(kDroppedSeries)?.[1]).toBe('0');
    const scrape = await get(`http://127.0.0.1:${port}/metrics`, 60_000);
    expect(scrape.body).toMatch(/^app_ok\{a="x"\} 2$/m);
    expect(scrape.body.match(kDroppedSeries)?.[1]).toBe('0');
    await stopped(primary);
    expect(primary.stderr()).not.toContain('left out');
    expect(jsonLines<{ event: string }>(primary.stdout()).filter((line) => line.event === 'metricsDropped')).toEqual([]);
  });
});
