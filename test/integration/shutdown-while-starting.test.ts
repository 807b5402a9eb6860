/**
 * A shutdown while a worker's `_init()` runs says, as it begins, what it waits for (H423): before,
 * only `shutting down`, then silence until the SIGKILL at the timeout.
 */
import { describe, expect, it } from '@jest/globals';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';
import { describeStartingAtShutdown } from '../../src/primary/primary-logging.js';

describe('a shutdown while workers are starting', () => {
  it('[H423] says how many workers are still in _init() and how long it waits for them', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 1, shutdownTimeoutMs: 2_000, logger, env: { INIT_DELAY_MS: '120000', INIT_NOTIFY: '1' } }, 'workers/init-slow.ts');
    const inInit = onceEvent(primary, 'workerMessage', 60_000, (event: { type: string }) => event.type === 'initBegun');
    const started = primary.start();
    started.catch(() => {});
    await inInit;
    const report = await primary.shutdown();
    expect(report.killed).toHaveLength(1);
    const lines = text().split('\n');
    const at = lines.findIndex((line) => line.includes('shutting down'));
    expect(lines[at + 1]).toContain(
      "[t] 1 worker is still starting (not ready yet): a worker may stop only once its start-up code ends (a ClusterWorker's _init(); a clusterkit run script stops at once), so the shutdown may wait up to 2.0 s for it, then kills it",
    );
    // This primary does not handle signals: no Ctrl-C is promised.
    expect(lines[at + 1]).not.toContain('Ctrl-C');
  });

  it('[H423] promises the forced stop of a second Ctrl-C only where signals are handled', () => {
    expect(describeStartingAtShutdown(2, 10_000, true)).toBe(
      "2 workers are still starting (not ready yet): a worker may stop only once its start-up code ends (a ClusterWorker's _init(); a clusterkit run script stops at once), so the shutdown may wait up to 10.0 s for them, then kills them; Ctrl-C again (a second SIGINT or SIGTERM) kills every worker at once",
    );
  });
});
