/**
 * A watcher whose worker cannot read for a while is never lost: notifications for a key
 * coalesce to its latest value under back-pressure, and the last one always arrives.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

interface Seen {
  seen: number;
  last: unknown;
}

describe('store watchers under back-pressure', () => {
  it('[F51] a watcher blocked while 200 values of 256 KiB are written sees the last one, and keeps watching', async () => {
    const primary = track(new ClusterPrimary(testOptions('watch-worker.ts', { heartbeat: false })));
    const [watcher] = await primary.start();
    await primary.send(watcher!, 'watch', { key: 'big' });
    await primary.send(watcher!, 'blockSoon', { ms: 500 });
    const blob = 'x'.repeat(256 * 1024);
    for (let seq = 0; seq < 200; seq++) primary.store.set('big', { seq, blob });
    const seen = async () => (await primary.send(watcher!, 'seen', undefined, { timeoutMs: 20_000 })) as Seen;
    await until(async () => (await seen()).last === 199, 20_000, 'the last value reaching the watcher');
    const { seen: delivered } = await seen();
    expect(delivered).toBeLessThanOrEqual(200);
    // The watch is still there: a later change arrives too.
    primary.store.set('big', { seq: 200, blob: 'small' });
    await until(async () => (await seen()).last === 200, 20_000, 'a later change');
    primary.store.delete('big');
    await until(async () => (await seen()).last === 'deleted', 20_000, 'the deletion');
  });

  it('[F51] a change whose value and previous value together exceed maxMessageBytes still reaches the watcher, without previous', async () => {
    const primary = track(new ClusterPrimary(testOptions('watch-worker.ts', { heartbeat: false, maxMessageBytes: 8_192 })));
    const [watcher] = await primary.start();
    await primary.send(watcher!, 'watch', { key: 'near-limit' });
    // Each value fits the limit (the lowest it may be, H355), two together do not.
    const blob = 'y'.repeat(6_000);
    for (let seq = 0; seq < 3; seq++) primary.store.set('near-limit', { seq, blob });
    await until(async () => ((await primary.send(watcher!, 'seen')) as Seen).last === 2, 30_000, 'every change');
    await expect(primary.send(watcher!, 'seen')).resolves.toEqual({ seen: 3, last: 2 });
  });
});
