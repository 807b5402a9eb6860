/**
 * Scrape deadlines: a worker's metrics reply that was written before the deadline counts, even
 * when the primary was too busy (parsing other workers' replies, say) to read it in time.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterPrimary } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';

let markers: string | undefined;
afterEach(() => {
  if (markers) rmSync(markers, { recursive: true, force: true });
  markers = undefined;
});

/**
 * Scrapes with `timeoutMs`, keeping the primary's event loop busy from just after the requests
 * went out until every worker has written its reply and the deadline is 100 ms past.
 */
async function scrapeWhileBusy(primary: ClusterPrimary, pids: number[], timeoutMs: number): Promise<string> {
  for (const pid of pids) rmSync(join(markers!, String(pid)), { force: true });
  const startedAt = Date.now();
  const scrape = primary.metrics({ timeoutMs });
  setImmediate(() => {
    const giveUpAt = Date.now() + 20_000;
    const written = () => pids.every((pid) => existsSync(join(markers!, String(pid))));
    while (!(written() && Date.now() > startedAt + timeoutMs + 100) && Date.now() < giveUpAt) {
      // busy, as a primary parsing large replies is
    }
  });
  return scrape;
}

describe('scrape deadlines', () => {
  it('[F50] counts replies written before the deadline though the primary was too busy to read them in time', async () => {
    markers = mkdtempSync(join(tmpdir(), 'ck-scrape-'));
    const primary = track(new ClusterPrimary(testOptions('scrape-worker.ts', { workerCount: 1, heartbeat: false, env: { SCRAPE_MARKERS: markers } })));
    const workers = await primary.start();
    const pids = workers.map((worker) => worker.pid!);
    // Small replies: they wait whole in the socket when the deadline fires.
    const small = await scrapeWhileBusy(primary, pids, 300);
    expect(small).toContain('app_series_total{series="s0"} 1');
    expect(small).not.toMatch(/clusterkit_worker_scrape_errors_total\{[^}]*\} [1-9]/);
    // Large replies (about 700 KB each): only their beginning can have arrived by then.
    await Promise.all(workers.map((worker) => primary.send(worker, 'series', { count: 10_000 })));
    const large = await scrapeWhileBusy(primary, pids, 300);
    expect(large).toContain('app_series_total{series="s9999"} 1');
    expect(large).not.toMatch(/clusterkit_worker_scrape_errors_total\{[^}]*\} [1-9]/);
  });
});
