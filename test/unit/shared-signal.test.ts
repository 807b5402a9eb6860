/**
 * Many requests on one AbortSignal, and many timeouts at once (hostile t67 F3, F4): one worker's
 * 20 000 relayed `sendTo()` share the signal the primary aborts when their sender exits, and each
 * had a listener of its own on it. Node's EventTarget scans a signal's listeners on every add and
 * remove, so 20 000 cost O(N²): 2.3 s of the primary's time, and their answers reached the sender
 * after its own timer ("did not reply", never "never sent"). Each expiry of a timeout group also
 * looked through every pending request; a relay's timeout is what is left of its sender's, so a
 * flood had as many groups as relays.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { MessageTimeoutError } from '../../src/errors.js';
import { onAbort } from '../../src/messaging/on-abort.js';
import { endpointPair } from '../helpers/endpoint-pair.js';

describe('requests sharing one abort signal', () => {
  it('[H670] 5 000 requests on one signal add one listener to it; an abort rejects the unsettled ones, in order, and no settled one', async () => {
    const { client } = endpointPair((_type, payload) => (payload === 'hang' ? new Promise(() => {}) : payload));
    const controller = new AbortController();
    const added = () => getEventListeners(controller.signal, 'abort').length;
    const answered = await Promise.all(Array.from({ length: 100 }, (_, index) => client.request('t', index, 60_000, controller.signal)));
    expect(answered).toHaveLength(100);
    const order: number[] = [];
    const hanging = Array.from({ length: 5_000 }, (_, index) =>
      client.request('t', 'hang', 60_000, controller.signal).catch((error: unknown) => {
        order.push(index);
        return error;
      }),
    );
    expect(added()).toBe(1);
    controller.abort(new Error('the caller gave up'));
    const errors = await Promise.all(hanging);
    expect(errors.every((error) => (error as Error).message === 'the caller gave up')).toBe(true);
    expect(order).toEqual(Array.from({ length: 5_000 }, (_, index) => index));
    expect(client.pendingCount).toBe(0);
  });

  it('[H670] callbacks run in the order they were added; one unsubscribed does not run, and none runs for a signal aborted already', () => {
    const controller = new AbortController();
    const ran: string[] = [];
    onAbort(controller.signal, () => ran.push('first'));
    const off = onAbort(controller.signal, () => ran.push('removed'));
    onAbort(controller.signal, () => ran.push('last'));
    off();
    controller.abort();
    onAbort(controller.signal, () => ran.push('after the abort'));
    expect(ran).toEqual(['first', 'last']);
  });

  it('[H670] timeouts of 2 000 distinct lengths each expire their own requests only, among 2 000 others that stay pending', async () => {
    const { client } = endpointPair(() => new Promise(() => {}));
    const kept = Array.from({ length: 2_000 }, () => client.request('t', 'keep', 600_000).catch((error: unknown) => error));
    const expiring = Array.from({ length: 2_000 }, (_, index) => client.request('t', index, 20 + index / 10).catch((error: unknown) => error));
    const errors = await Promise.all(expiring);
    expect(errors.every((error) => error instanceof MessageTimeoutError)).toBe(true);
    expect(client.pendingCount).toBe(2_000);
    client.close(() => new Error('closed by the test'));
    await expect(Promise.all(kept)).resolves.toHaveLength(2_000);
  });
});
