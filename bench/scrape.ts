/**
 * `npm run bench:scrape`: `primary.metrics()` over large prom-client registries (the case of
 * docs/metrics.md, "Sizing the timeout"): each of `--workers` workers holds `--series` counter
 * series, all incremented once, so every scrape must read `app_hits_total{series="s1"}` as the
 * number of workers. Prints, per scrape, its time, that sum and the scrape errors.
 *
 *   npm run bench:scrape -- [--workers 4] [--series 10000] [--scrapes 6] [--timeout 2000]
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';
import { ClusterPrimary, ClusterWorker } from 'clusterkit';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '4' },
    series: { type: 'string', default: '10000' },
    scrapes: { type: 'string', default: '6' },
    timeout: { type: 'string', default: '2000' },
  },
});

if (cluster.isPrimary) {
  const workers = Number(values.workers);
  const primary = new ClusterPrimary({
    workerScript: fileURLToPath(import.meta.url),
    execArgv: ['--import', 'tsx'],
    workerCount: workers,
    env: { BENCH_SERIES: values.series },
    logger: false,
  });
  await primary.start();
  let complete = 0;
  for (let i = 0; i < Number(values.scrapes); i++) {
    const startedAt = performance.now();
    const text = await primary.metrics({ timeoutMs: Number(values.timeout) });
    const ms = Math.round(performance.now() - startedAt);
    const sum = Number(/^app_hits_total\{series="s1"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    const errors = [...text.matchAll(/clusterkit_worker_scrape_errors\{slot="(\d+)"\} (\d+)/g)].map((match) => `slot ${match[1]}: ${match[2]}`);
    if (sum === workers) complete++;
    console.log(`scrape ${i + 1}: ${ms} ms, ${Math.round(text.length / 1024)} KiB, summed counter ${sum}/${workers}, scrape errors so far: ${errors.join(', ') || 'none'}`);
  }
  console.log(`${complete} of ${values.scrapes} scrapes complete (${values.workers} workers x ${values.series} series, timeout ${values.timeout} ms)`);
  await primary.shutdown();
} else {
  const hits = new client.Counter({ name: 'app_hits_total', help: 'Hits.', labelNames: ['series', 'route', 'method'] });
  for (let i = 0; i < Number(process.env.BENCH_SERIES); i++) hits.inc({ series: `s${i}`, route: `/api/v1/items/${i % 50}`, method: 'GET' });
  await new (class extends ClusterWorker {})().start();
}
