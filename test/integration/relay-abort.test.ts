/**
 * A worker's `sendTo()` calls aborted by their caller's signal (retest t68): the primary was not
 * told. The relays it still held were sent to the target later, when room freed, and ran there,
 * up to 21 s after their callers were told "aborted"; and until their timeouts they held the
 * sender's places, so its next `sendTo()` to that target failed. Now the sender names them to the
 * primary (`$relayCancel`), which withdraws those it holds and answers each at once.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkerMessageEvent } from '../../src/index.js';
import type { ToPrimary } from '../fixtures/protocol.js';
import { testPrimary } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';

describe('sendTo() aborted by its caller', () => {
  it('[H674] the relays the primary still holds never run, and the sender\'s next sendTo() to that target goes', async () => {
    // One sender's share of a target is 2: of its 4 relays (all the primary holds for it), 2 reach the target, 2 wait at the primary.
    const primary = testPrimary({ workerCount: 0, maxPendingPerWorker: 4 });
    await primary.start();
    const [victim] = await primary.fork({ name: 'victim' });
    const [sender] = await primary.fork({ name: 'sender' });
    const running = record<WorkerMessageEvent<ToPrimary>>(primary, 'workerMessage');
    const runs = () => running.events.filter((event) => event.worker.id === victim!.id && event.type === 'lifecycle' && event.payload.event === 'running slow').length;
    await primary.send(sender!, 'relayAbortable', { target: 'victim', type: 'slow', payload: { ms: 1_000, announce: true }, count: 4, timeoutMs: 60_000 });
    await until(() => runs() >= 2, 30_000, 'the sender\'s share of relays running at the victim');
    const outcomes = await primary.send(sender!, 'relayAbort', undefined);
    expect(outcomes).toEqual(Array.from({ length: 4 }, () => 'aborted by the test'));
    // Its next relay goes, though its aborted ones took every place it had. It ends after the two
    // aborted ones still running at the victim (1.5 s against 1 s): the held two, had they been sent
    // as those ended, would have announced themselves on the victim's channel before its reply.
    await expect(primary.send(sender!, 'relay', { target: 'victim', type: 'slow', payload: { ms: 1_500, announce: true }, timeoutMs: 30_000 }, { timeoutMs: 40_000 })).resolves.toBe('done');
    // Before: 5 (the 2 held ones ran once the first 2 ended), and the next relay was refused: the 4 places stayed taken.
    expect(runs()).toBe(3);
    running.stop();
  }, 90_000);

  // Retest t68b: the relays the primary still held when their target was killed said `waited in the
  // primary's queue, and the worker never got it` with `queuedBehind` 0, though they waited behind the sender's earlier ones.
  it('[H684] relays held for a target that is killed say how many of the sender\'s were ahead of them', async () => {
    const primary = testPrimary({ workerCount: 0, maxPendingPerWorker: 4, restart: false });
    await primary.start();
    const [victim] = await primary.fork({ name: 'victim' });
    const [sender] = await primary.fork({ name: 'sender' });
    const running = record<WorkerMessageEvent<ToPrimary>>(primary, 'workerMessage');
    const runs = () => running.events.filter((event) => event.worker.id === victim!.id && event.type === 'lifecycle' && event.payload.event === 'running hang').length;
    // One sender's share of a target is 2: of 4 relays written together (all the primary holds for it), 2 reach the victim, 2 wait at the primary.
    await primary.send(sender!, 'relayAbortable', { target: 'victim', type: 'hang', payload: { announce: true }, count: 4, timeoutMs: 60_000 });
    await until(() => runs() >= 2, 30_000, "the sender's share of relays running at the victim");
    process.kill(victim!.pid!, 'SIGKILL');
    const outcomes = await primary.send(sender!, 'relayOutcomes', undefined, { timeoutMs: 60_000 });
    running.stop();
    expect(outcomes.slice(0, 2)).toEqual(Array.from({ length: 2 }, () => expect.stringMatching(/before it replied to "hang"/)));
    // Held behind the 2 running and the held ones before it.
    expect(outcomes.slice(2)).toEqual([2, 3].map((ahead) => expect.stringMatching(new RegExp(`waited in the primary's queue behind ${ahead} earlier requests to it, and the worker never got it`))));
  }, 90_000);
});
