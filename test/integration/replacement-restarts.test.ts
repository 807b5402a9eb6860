/**
 * `restarts` (`WorkerStats.restarts`, `WorkerHandle.restarts`, `clusterkit status`): the workers
 * a slot had before this one. A reload's replacement is counted from its start, not only once it
 * took over (hostile t58). Real workers through node:cluster.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkerHandle } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';

describe('a reload replacement still starting', () => {
  it('[H568] counts the worker it replaces in its restarts from its start, as its slot will once it took over', async () => {
    const primary = testPrimary({ workerCount: 1, env: { INIT_DELAY_MS: '1500', INIT_NOTIFY: '1' } }, 'workers/init-slow.ts');
    const [first] = await primary.start();
    // The fixture's own notice, outside the test protocol's map.
    const begun = new Promise<WorkerHandle>((resolve) => primary.on('workerMessage', (message: { type: string; worker: WorkerHandle }) => message.type === 'initBegun' && resolve(message.worker)));
    const reloaded = primary.reload();
    // A failed expectation below shuts the primary down, and this rejects then: never unhandled.
    reloaded.catch(() => {});
    const incoming = await begun;
    // Before (hostile t58): `restarts 0` while it started, beside the slot's 1 once it took over.
    expect(primary.stats().map((row) => [row.id, row.state, row.restarts])).toEqual([
      [first!.id, 'ready', 0],
      [incoming.id, 'starting', 1],
    ]);
    expect(incoming.restarts).toBe(1);
    await reloaded;
    expect(primary.stats().map((row) => [row.id, row.restarts])).toEqual([[incoming.id, 1]]);
  });
});
