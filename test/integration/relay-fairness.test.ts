/**
 * Worker-to-worker requests share their target fairly: one sender's open `sendTo()` requests used
 * to fill the target's `maxPendingPerWorker` slots, and every other sender's relay, and the
 * primary's own `send()`, queued behind them, unsent, and timed out blaming a slow handler
 * (H471). A worker whose `maxPending` is the primary's `maxPendingPerWorker` used to be refused
 * by the primary anyway once its queued relays went out, its freed slots reused before the
 * primary let go of the relays they stood for (H472).
 */
import { describe, expect, it } from '@jest/globals';
import type { ProtocolError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';

describe('relays to one target, from several senders', () => {
  it('[H471] one sender\'s hanging sendTo() requests hold back neither another sender\'s nor the primary\'s send(), and one that never left its queue says so', async () => {
    const primary = testPrimary({ maxPendingPerWorker: 20 });
    await primary.start();
    const [victim] = await primary.fork({ name: 'victim' });
    const [evil] = await primary.fork({ name: 'evil' });
    const [bystander] = await primary.fork({ name: 'bystander' });
    const row = (id: number) => primary.stats().find((each) => each.id === id)!;
    // 20 relays whose handler never answers: the whole of maxPendingPerWorker.
    await primary.send(evil!, 'relayFlood', { target: 'victim', type: 'hang', count: 20, timeoutMs: 60_000 });
    // Half of them (evil's share) reach the victim; the other half wait behind them, in evil's own queue.
    await until(() => row(victim!.id).pending >= 10, 30_000, 'evil\'s share of relays at the victim');
    await expect(primary.send(bystander!, 'relay', { target: 'victim', type: 'echo', payload: 'hi', timeoutMs: 20_000 })).resolves.toBe('hi');
    await expect(primary.send(victim!, 'echo', 'direct', { timeoutMs: 20_000 })).resolves.toBe('direct');
    // None of evil's 20 has failed: the held ones wait, none was refused.
    const tally = await primary.send(evil!, 'relayTally', undefined);
    expect(tally.counts).toEqual({});
    // A relay that waits out its time in its sender's queue was never sent, and says so.
    const primary2 = testPrimary({ maxPendingPerWorker: 4 });
    await primary2.start();
    await primary2.fork({ name: 'victim' });
    const [evil2] = await primary2.fork({ name: 'evil' });
    await primary2.send(evil2!, 'relayFlood', { target: 'victim', type: 'hang', count: 2, timeoutMs: 60_000 });
    const unsent = await primary2.send(evil2!, 'relayTimed', { target: 'victim', type: 'hang', timeoutMs: 1_500 }, { timeoutMs: 30_000 });
    expect(unsent).toMatchObject({ name: 'MessageTimeoutError', code: 'ERR_MESSAGE_TIMEOUT' });
    expect(unsent.message).toMatch(/^"hang" was never sent to worker \d+ \(pid \d+\): its 1500 ms were \(nearly\) spent while it was queued behind 2 earlier requests to it/);
  });

  it('[H472] a sendTo() flood from a worker whose maxPending is the primary\'s maxPendingPerWorker is never refused by the primary: every request times out, none is reported', async () => {
    const primary = testPrimary({ maxPendingPerWorker: 20 });
    await primary.start();
    const reports = record<{ error: ProtocolError }>(primary, 'workerProtocolError');
    await primary.fork({ name: 'victim' });
    const [evil] = await primary.fork({ name: 'evil', env: { TEST_MAX_PENDING: '20' } });
    // Three times the bound: 20 go out, 40 wait in the worker. The second 20 go out when the
    // primary answers the first (a little before their deadline), and time out in the worker at
    // once: their slots used to be freed then, and the third 20 went out while the primary still
    // held the second (it counted their time from when it read them), to be refused.
    await primary.send(evil!, 'relayFlood', { target: 'victim', type: 'hang', count: 20, timeoutMs: 1_500 });
    await primary.send(evil!, 'relayFlood', { target: 'victim', type: 'hang', count: 20, timeoutMs: 1_500 });
    await primary.send(evil!, 'relayFlood', { target: 'victim', type: 'hang', count: 20, timeoutMs: 4_000 });
    await until(async () => (await primary.send(evil!, 'relayTally', undefined)).settled === 60, 30_000, 'all 60 relays settled');
    const tally = await primary.send(evil!, 'relayTally', undefined);
    expect(tally.counts).toEqual({ MessageTimeoutError: 60 });
    expect(reports.events).toEqual([]);
    expect(primary.stats().find((each) => each.id === evil!.id)!.protocolErrors).toBe(0);
    reports.stop();
  });
});
