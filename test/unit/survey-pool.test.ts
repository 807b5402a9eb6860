/**
 * The survey pool's scheduling, without sockets: EMFILE retried once a connection closes (H90),
 * the connection limit, results in name order, nothing started once aborted.
 */
import { describe, expect, it } from '@jest/globals';
import { surveyPool } from '../../src/control/survey-pool.js';

type Result = 'ok' | 'EMFILE' | 'not-asked';

/** An ask per name that the test settles by hand. */
function manualAsks() {
  const pending = new Map<string, (result: Result) => void>();
  const started: string[] = [];
  let open = 0;
  let maxOpen = 0;
  const ask = (name: string): Promise<Result> => {
    started.push(name);
    maxOpen = Math.max(maxOpen, ++open);
    return new Promise((resolve) =>
      pending.set(name, (result) => {
        open--;
        pending.delete(name);
        resolve(result);
      }),
    );
  };
  return { pending, started, ask, maxOpen: () => maxOpen };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('surveyPool', () => {
  it('[H90] a name met by EMFILE is tried again once another connection closes, never reported untried', async () => {
    const asks = manualAsks();
    const names = ['a', 'b', 'c', 'd'];
    const done = surveyPool<Result>(names, { limit: 2, quickLimit: 2, timeoutMs: 60_000, quickMs: 60_000, ask: asks.ask, isOutOfDescriptors: (result) => result === 'EMFILE', notAsked: () => 'not-asked' });
    await flush();
    expect(asks.started).toEqual(['a', 'b']);
    asks.pending.get('b')!('EMFILE'); // a is still open: b waits for it
    await flush();
    expect(asks.started).toEqual(['a', 'b']);
    asks.pending.get('a')!('ok'); // a slot freed: b again, then c
    await flush();
    expect(asks.started).toEqual(['a', 'b', 'b', 'c']);
    asks.pending.get('b')!('ok');
    asks.pending.get('c')!('ok');
    await flush();
    // Alone, an EMFILE is final: no connection of ours will free a descriptor.
    asks.pending.get('d')!('EMFILE');
    await expect(done).resolves.toEqual(['ok', 'ok', 'ok', 'EMFILE']);
    expect(asks.maxOpen()).toBeLessThanOrEqual(2);
  });

  it('[H89] once aborted, the names not started are not asked, and it resolves as the open ones end', async () => {
    const asks = manualAsks();
    const controller = new AbortController();
    const done = surveyPool<Result>(['a', 'b', 'c'], { limit: 1, quickLimit: 1, timeoutMs: 60_000, quickMs: 60_000, ask: asks.ask, isOutOfDescriptors: () => false, notAsked: () => 'not-asked', signal: controller.signal });
    await flush();
    controller.abort();
    asks.pending.get('a')!('ok');
    await expect(done).resolves.toEqual(['ok', 'not-asked', 'not-asked']);
    expect(asks.started).toEqual(['a']);
  });
});
