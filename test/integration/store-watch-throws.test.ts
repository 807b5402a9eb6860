/**
 * A shared-store watch() callback that throws or rejects is reported as a notification
 * handler's throw is, never ends the worker (H493): said as a process warning when nothing
 * listens for 'error', a StoreWatcherError on 'error' otherwise. The key's other callbacks are
 * told of the change, and the failing ones of the next.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

interface Report {
  pid: number;
  told: { throwing: unknown[]; rejecting: unknown[]; recording: unknown[] };
  warnings: Array<{ name: string; code: unknown; message: string; detail: unknown }>;
  errors: Array<Record<string, unknown>>;
}

/** A primary over workers/watch-throws.ts whose worker watches "tw" with a throwing, a rejecting and a recording callback; two changes made (one by the worker, one by the primary). */
async function twoChangesWatched(env: Record<string, string> = {}) {
  const primary = track(new ClusterPrimary(testOptions('workers/watch-throws.ts', { env })));
  const crashes: unknown[] = [];
  primary.on('workerCrash', (crash) => crashes.push(crash));
  const [worker] = await primary.start();
  const report = () => primary.send(worker!, 'watchReport') as Promise<Report>;
  const { pid } = await report();
  await primary.send(worker!, 'watchThrowing', { key: 'tw' });
  // The repro: the worker itself writes the key it watches.
  await primary.send(worker!, 'storeSet', { key: 'tw', value: 1 });
  await until(async () => (await report()).told.recording.length === 1, 30_000, 'the first change told');
  primary.store.set('tw', 2);
  await until(async () => {
    const { told, warnings, errors } = await report();
    return told.recording.length === 2 && told.rejecting.length === 2 && warnings.length + errors.length >= 4;
  }, 30_000, 'the second change told, and four failures reported');
  return { primary, crashes, pid, last: await report() };
}

const kAdvice = "Nothing listens for 'error' on the ClusterWorker, so it is only said here: add worker.on('error', ...) to handle it, or catch in the handler";

describe('store watch() callbacks that throw', () => {
  it('[H493] a throwing or rejecting watch() callback is said as a warning, with nothing listening for \'error\'; the worker goes on and every callback is told of every change', async () => {
    const { primary, crashes, pid, last } = await twoChangesWatched();
    expect(last.pid).toBe(pid);
    expect(crashes).toEqual([]);
    expect(primary.workers.map((worker) => worker.pid)).toEqual([pid]);
    // Each callback, the failing ones too, told of both changes, in order.
    expect(last.told).toEqual({ throwing: [1, 2], rejecting: [1, 2], recording: [1, 2] });
    const threw = { name: 'ClusterkitWarning', code: 'CLUSTERKIT_HANDLER_THREW', message: `A watch() callback of store key "tw" threw: Error: watcher boom. ${kAdvice}`, detail: expect.stringMatching(/^Error: watcher boom\n\s+at .*watch-throws/) };
    const rejected = { ...threw, message: `A watch() callback of store key "tw" rejected: Error: watcher async boom. ${kAdvice}`, detail: expect.stringMatching(/^Error: watcher async boom\n\s+at .*watch-throws/) };
    expect(last.warnings).toEqual([threw, rejected, threw, rejected]);
    expect(last.errors).toEqual([]);
  });

  it("[H493] with an 'error' listener, it hears a StoreWatcherError naming the key, with what was thrown as cause; no warning", async () => {
    const { crashes, pid, last } = await twoChangesWatched({ WATCH_ERRORS: 'listen' });
    expect(last.pid).toBe(pid);
    expect(crashes).toEqual([]);
    expect(last.told).toEqual({ throwing: [1, 2], rejecting: [1, 2], recording: [1, 2] });
    const threw = {
      name: 'StoreWatcherError',
      code: 'ERR_STORE_WATCHER_FAILED',
      isStoreWatcherError: true,
      key: 'tw',
      isRejection: false,
      cause: 'watcher boom',
      message: expect.stringMatching(/^A watch\(\) callback of store key "tw" threw: Error: watcher boom\. The worker goes on/),
    };
    const rejected = { ...threw, isRejection: true, cause: 'watcher async boom', message: expect.stringMatching(/^A watch\(\) callback of store key "tw" rejected: Error: watcher async boom\. /) };
    expect(last.errors).toEqual([threw, rejected, threw, rejected]);
    expect(last.warnings).toEqual([]);
  });
});
