/**
 * The shared store's figures reach `clusterkit status` (text and JSON) and the dashboard's
 * status over the control socket: keys and bytes against the budget, watches, ephemeral keys,
 * refused writes.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterPrimary, StoreFullError } from '../../src/index.js';
import { controlRequest } from '../../src/control/control-client.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { cleanUpCli, cli, runtimeDir } from '../cli/cli-process.js';
import { testOptions, track } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

const kSavedRuntime = process.env.XDG_RUNTIME_DIR;
afterEach(() => {
  if (kSavedRuntime === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = kSavedRuntime;
  cleanUpCli();
});

describe('store figures in status', () => {
  it('[H53] reports keys, bytes and limits, watches, ephemeral keys and refusals, and the CLI shows them', async () => {
    const runtime = runtimeDir();
    process.env.XDG_RUNTIME_DIR = runtime;
    // Each worker watches `leader` and claims it ephemerally in its _init (leader-worker.ts).
    const primary = track(new ClusterPrimary(testOptions('leader-worker.ts', { serviceName: 'stored', workerCount: 2, maxStoreKeys: 3, maxStoreBytes: 4_096 })));
    const [, second] = await primary.start();
    const status = async () => ((await controlRequest('stored', 'status')) as ClusterStatus).store;
    expect(await status()).toEqual({ keys: 1, maxKeys: 3, bytes: primary.store.bytes, maxBytes: 4_096, ephemeralKeys: 1, watches: 2, watchedKeys: 1, watchers: 2, heldChanges: 0, refusals: 0, watchLimitRefusals: 0 });

    primary.store.set('config', { retries: 3 });
    await primary.send(second!, 'storeOp' as never, { op: 'set', args: ['w2', 'x'] } as never);
    // Full: a worker's write and the primary's own are refused, and counted.
    const refused = onceEvent(primary, 'storeFull');
    await expect(primary.send(second!, 'storeOp' as never, { op: 'set', args: ['more', 1] } as never)).rejects.toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'ERR_STORE_FULL' });
    await refused;
    expect(() => primary.store.set('more', 1)).toThrow(StoreFullError);
    const full = await status();
    expect(full).toEqual({ keys: 3, maxKeys: 3, bytes: primary.store.bytes, maxBytes: 4_096, ephemeralKeys: 1, watches: 2, watchedKeys: 1, watchers: 2, heldChanges: 0, refusals: 2, watchLimitRefusals: 0 });
    expect(primary.store.stats()).toEqual(full);

    // What users run: the CLI, text and JSON.
    const text = await cli(['status', 'stored'], { runtime });
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[2]).toBe(`store 3/3 keys  ${primary.store.bytes} B/4.0 KiB  2 watches (2 workers)  1 ephemeral  2 refused (full)`);
    const json = await cli(['status', 'stored', '--json'], { runtime });
    expect((JSON.parse(json.stdout) as ClusterStatus).store).toEqual(full);

    // A worker's exit frees its ephemeral key and its watch. When the leaving worker held
    // `leader`, the one left claims it once told of the delete: wait for that, not for a time.
    primary.store.delete('config');
    await primary.scale(1);
    await until(async () => (await status())?.ephemeralKeys === 1, 30_000, 'the remaining worker holding leader');
    expect(await status()).toMatchObject({ keys: 2, ephemeralKeys: 1, watches: 1, watchers: 1 });
    await primary.shutdown();
  });

  // Before: a watch refused by maxStoreWatchesPerWorker was shown as `1 refused (full)` while
  // the store held 517 B of 64 MiB (tester t21).
  it('[H167] says a watch was refused by the per-worker watch limit, not that the store is full', async () => {
    const runtime = runtimeDir();
    process.env.XDG_RUNTIME_DIR = runtime;
    const primary = track(new ClusterPrimary(testOptions(undefined, { serviceName: 'watchlimit', maxStoreWatchesPerWorker: 2 })));
    const [worker] = await primary.start();
    const report = await primary.send(worker!, 'watchMany' as never, { prefix: 'w', max: 5 } as never);
    expect(report).toMatchObject({ watched: 2, error: { option: 'maxStoreWatchesPerWorker' } });
    expect(primary.store.stats()).toMatchObject({ refusals: 1, watchLimitRefusals: 1 });
    const text = await cli(['status', 'watchlimit'], { runtime });
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[2]).toMatch(/^store 0\/1000000 keys {2}0 B\/64\.0 MiB {2}2 watches \(1 worker\) {2}1 watch refused \(limit\)$/);
    await primary.shutdown();
  });

  it('[H53] shows no store line while the store is unused; an unbounded budget is null in JSON', async () => {
    const runtime = runtimeDir();
    process.env.XDG_RUNTIME_DIR = runtime;
    const primary = track(new ClusterPrimary(testOptions('workers/ready.ts', { serviceName: 'unused', maxStoreBytes: Infinity })));
    await primary.start();
    const text = await cli(['status', 'unused'], { runtime });
    expect([text.code, text.stdout]).toEqual([0, expect.not.stringMatching(/^store /m)]);
    const json = await cli(['status', 'unused', '--json'], { runtime });
    expect((JSON.parse(json.stdout) as ClusterStatus).store).toMatchObject({ keys: 0, bytes: 0, maxBytes: null, watches: 0, refusals: 0 });
    await primary.shutdown();
  });
});
