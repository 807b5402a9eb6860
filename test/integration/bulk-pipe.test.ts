/**
 * The bulk pipe (src/messaging/bulk-channel.ts): with `json` serialization, long strings travel
 * as raw UTF-8 on a second pipe instead of through JSON.stringify. What arrives must be exactly
 * what JSON would have delivered, in the order it was sent, in both directions.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type WorkerHandle } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';

class SequencePrimary extends ClusterPrimary {
  readonly seen: Array<{ index: number; length: number }> = [];

  _onMessage_seq(payload: { index: number; text: string }): void {
    this.seen.push({ index: payload.index, length: payload.text.length });
  }
}

async function start(extra: { serialization?: 'json' | 'advanced' } = {}) {
  const primary = track(new SequencePrimary(testOptions('bulk-worker.ts', extra)));
  const [worker] = await primary.start();
  return { primary, worker: worker! };
}

/** The primary's end of the worker's bulk pipe, if it has one. */
function bulkEnd(worker: WorkerHandle): Socket | undefined {
  const stdio = worker.clusterWorker.process.stdio as unknown as Array<Socket | null>;
  return stdio.length > 4 ? (stdio[stdio.length - 1] ?? undefined) : undefined;
}

class Point {
  x = 'm'.repeat(3_000);
  y = 2;
}

/** Payloads with long strings in every place, and what JSON would deliver of each. */
function payloads(): Array<[string, unknown]> {
  const manySmall: Record<string, unknown> = Object.fromEntries(Array.from({ length: 500 }, (_, index) => [`k${index}`, index]));
  manySmall.big = 'p'.repeat(2_000);
  return [
    ['a long string alone', 'x'.repeat(20_000)],
    ['an object with one', { data: 'x'.repeat(10 * 1024 - 12) }],
    ['non-ASCII text', { text: 'é€😀'.repeat(2_000) }],
    ['nested and in arrays', { list: ['a'.repeat(1_500), 'short', { deep: ['b'.repeat(5_000)] }], other: 'c'.repeat(1_024) }],
    ['strings that look like placeholders', { a: '\u00000', b: '\u0000\u00000', c: `\u00000${'d'.repeat(2_000)}`, d: 'e'.repeat(2_000), e: '\u0000' }],
    ['a key that looks like a placeholder', { '\u00000': 'v'.repeat(2_000), '\u0000': 'w' }],
    ['integer keys first', { b: 'b'.repeat(2_000), 1: 'one'.repeat(700), 0: 'zero'.repeat(600) }],
    ['a lone surrogate (stays JSON)', { s: `${'a'.repeat(5_000)}\ud800b`, t: 'f'.repeat(3_000) }],
    ['toJSON, a Date and a class instance', { when: new Date(0), custom: { toJSON: () => ({ t: 'k'.repeat(4_000) }) }, point: new Point() }],
    ['many small values and one long string', manySmall],
    ['a string just under the threshold', 'g'.repeat(1_023)],
    // [H85] The long strings are found before toJSON runs: one that leaves them all out is plain JSON.
    ['toJSON leaving the long string out', { blob: 'b'.repeat(20_000), meta: Array.from({ length: 12 }, () => 'm'.repeat(1_000)), toJSON: () => ({ size: 20_000, meta: Array.from({ length: 12 }, () => 'm'.repeat(1_000)) }) }],
    ['a nested toJSON leaving it out', { items: [{ body: 'x'.repeat(50_000), short: 'y'.repeat(1_000), toJSON: () => ({ short: 'y'.repeat(1_000), n: 2 }) }], n: 1 }],
    // JSON turns a String object into its string after any replacer: it must be escaped too.
    ['String objects that look like placeholders', { a: new String('\u0000\u0000x'), b: new String('\u00000'), c: { toJSON: () => new String('\u0000abc') }, d: 'l'.repeat(2_000), e: [new String('m'.repeat(3_000))] }],
  ];
}

describe('the bulk pipe', () => {
  it('[H85] delivers long strings exactly as JSON would, both ways, through the bulk pipe', async () => {
    const { primary, worker } = await start();
    const end = bulkEnd(worker);
    expect(end).toBeDefined();
    for (const [, payload] of payloads()) {
      await expect(primary.send(worker, 'echo' as never, payload as never)).resolves.toEqual(JSON.parse(JSON.stringify(payload)));
    }
    // The worker wrote its replies' strings on the pipe (the primary read them there).
    expect(end!.bytesRead).toBeGreaterThan(10_000);
    // It removed the variable once it opened the pipe: a process it starts does not see it.
    await expect(primary.send(worker, 'bulkFdVariable' as never)).resolves.toBeNull();
  });

  it('keeps the order of messages of every size, both ways', async () => {
    const { primary, worker } = await start();
    const sizes = [10, 5_000, 20, 200_000, 3, 2_000, 2_000, 1, 70_000, 1_100, 0, 9_000];
    // All in one tick (one frame, or a few), then spread over ticks.
    for (const [index, size] of sizes.entries()) primary.notify(worker, 'remember' as never, { index, text: 'z'.repeat(size) } as never);
    for (const [index, size] of sizes.entries()) {
      primary.notify(worker, 'remember' as never, { index: 100 + index, text: 'z'.repeat(size) } as never);
      if (index % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const kept = (await primary.send(worker, 'remembered' as never)) as Array<{ index: number; text: string }>;
    expect(kept.map(({ index, text }) => [index, text.length])).toEqual([...sizes.map((size, index) => [index, size]), ...sizes.map((size, index) => [100 + index, size])]);
    await expect(primary.send(worker, 'sendSequence' as never, { sizes } as never)).resolves.toBe(sizes.length);
    // The notifications were written before the reply, on the same channel: they have been read.
    expect(primary.seen).toEqual(sizes.map((length, index) => ({ index, length })));
  });

  it('[H82] takes a legitimate flood of long strings, one message per tick, to a primary that stopped reading for a while', async () => {
    const { primary, worker } = await start();
    const errors: Error[] = [];
    primary.on('workerError', ({ error }) => errors.push(error));
    // 17 KB each: over the 8 KiB from which a frame goes on the pipe (a lone smaller one does not).
    const count = 4_000;
    const sent = primary.send(worker, 'sendSpread' as never, { count, size: 17_000 } as never, { timeoutMs: 120_000 });
    // The primary's event loop stops for a second: the worker's frames and bytes back up, and
    // then arrive, frames well ahead of their bytes. None of it is an attack.
    const until = Date.now() + 1_000;
    while (Date.now() < until) {
      // busy: nothing is read meanwhile
    }
    await expect(sent).resolves.toBe(count);
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (primary.seen.length === count || errors.length > 0) {
          clearInterval(check);
          resolve();
        }
      }, 20);
      setTimeout(() => (clearInterval(check), reject(new Error(`${primary.seen.length} of ${count} arrived`))), 60_000).unref();
    });
    expect(errors).toEqual([]);
    expect(primary.seen.every((item, index) => item.index === index && item.length === 17_000)).toBe(true);
    expect(worker.state).toBe('ready');
  });

  it('is closed in the primary when its worker exits (a process the worker started may hold the other end)', async () => {
    const { primary, worker } = await start();
    const end = bulkEnd(worker)!;
    const exited = new Promise((resolve) => primary.once('workerExit', resolve));
    worker.clusterWorker.process.kill('SIGKILL');
    await exited;
    expect(end.destroyed).toBe(true);
  });

  it('is not used with advanced serialization, nor with CLUSTERKIT_BULK=0 (messages are the same)', async () => {
    const advanced = await start({ serialization: 'advanced' });
    expect(bulkEnd(advanced.worker)).toBeUndefined();
    await expect(advanced.primary.send(advanced.worker, 'echo' as never, { data: 'x'.repeat(5_000) } as never)).resolves.toEqual({ data: 'x'.repeat(5_000) });
    process.env.CLUSTERKIT_BULK = '0';
    try {
      const { primary, worker } = await start();
      expect(bulkEnd(worker)).toBeUndefined();
      for (const [, payload] of payloads()) {
        await expect(primary.send(worker, 'echo' as never, payload as never)).resolves.toEqual(JSON.parse(JSON.stringify(payload)));
      }
    } finally {
      delete process.env.CLUSTERKIT_BULK;
    }
  });
});
