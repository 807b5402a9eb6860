import { describe, expect, it, jest } from '@jest/globals';
import { BackpressureError, MessageTimeoutError } from '../../src/errors.js';
import type { EndpointOptions, InboundHandler } from '../../src/messaging/endpoint.js';
import { kPingRequest } from '../../src/messaging/system-types.js';
import { endpointPair } from '../helpers/endpoint-pair.js';

/** A client limited to one request in flight (more wait for admission), and a server answering with `handler`. */
function pair(handler: InboundHandler, options: Partial<EndpointOptions> = {}) {
  return endpointPair(handler, { maxPending: 1, ...options });
}

describe('requests waiting for admission', () => {
  it('time out counted from the call, leave the queue, and are never written', async () => {
    const seen: unknown[] = [];
    let release: () => void = () => {};
    const { client } = pair((_type, payload) => {
      seen.push(payload);
      return payload === 'hold' ? new Promise<string>((resolve) => (release = () => resolve('released'))) : payload;
    });
    const held = client.request('t', 'hold', 60_000);
    const calledAt = Date.now();
    const waiting = Array.from({ length: 5 }, (_, index) => client.request('t', `queued ${index}`, 50).catch((error: unknown) => error));
    for (const error of await Promise.all(waiting)) {
      expect(error).toBeInstanceOf(MessageTimeoutError);
      // It was never sent, and says so rather than blaming a slow handler (H471).
      expect((error as Error).message).toContain('its 50 ms were (nearly) spent while it was queued behind 1 earlier request to it (awaiting replies, or queued before it)');
      expect(error).toMatchObject({ queuedBehind: 1 });
    }
    // Counted from admission they would never expire (the slot is held): any bound shows it.
    expect(Date.now() - calledAt).toBeLessThan(10_000);
    expect(client.pendingCount).toBe(1);
    const after = client.request('t', 'after');
    release();
    await expect(held).resolves.toBe('released');
    await expect(after).resolves.toBe('after');
    expect(seen).toEqual(['hold', 'after']);
  });

  it('[H476][H484] are not sent with less than a twentieth of their time left: said as never sent, behind those ahead as they were queued', async () => {
    const seen: unknown[] = [];
    const { client } = endpointPair(
      (_type, payload) => {
        seen.push(payload);
        // The first ten never answer: their slots free only at their deadline.
        return payload === 'after' ? payload : new Promise(() => {});
      },
      { maxPending: 10 },
    );
    const timeoutMs = 4_000;
    // 30 ms later by the clock, past the first ten's timeout group (10 ms): these wait, with
    // deadlines 30 ms after theirs, so their turn comes, when the first ten time out, with about
    // 20 ms of 4 s left. The clock is held at each: a busy loop of 30 ms preempted for half a
    // second on a loaded machine gave the queued ones 500 ms left, and they were sent (under-load run).
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    let first: Promise<unknown>[];
    let queued: Promise<unknown>[];
    try {
      first = Array.from({ length: 10 }, (_, index) => client.request('t', `first ${index}`, timeoutMs).catch((error: unknown) => error));
      clock.mockReturnValue(now + 30);
      queued = Array.from({ length: 10 }, (_, index) => client.request('t', `queued ${index}`, timeoutMs).catch((error: unknown) => error));
    } finally {
      clock.mockRestore();
    }
    for (const error of await Promise.all(first)) expect(error).toMatchObject({ queuedBehind: undefined });
    for (const error of await Promise.all(queued)) {
      // Before, each was written with ms to go, then timed out as "did not reply": its peer ran it after its caller gave up (tester t51).
      expect(error).toBeInstanceOf(MessageTimeoutError);
      expect((error as Error).message).toMatch(/^"t" was never sent to the peer: its 4000 ms were \(nearly\) spent while it was queued behind 10 earlier requests/);
      // The ten ahead as it was queued, though they had timed out first (retest t51: 0, 1 or 20 by timing).
      expect(error).toMatchObject({ queuedBehind: 10 });
    }
    await expect(client.request('t', 'after')).resolves.toBe('after');
    expect(seen.filter((payload) => String(payload).startsWith('queued'))).toEqual([]);
  });

  it('[H476] that time out with those ahead of them say how many were ahead, not none', async () => {
    const { client } = pair(() => new Promise(() => {}), { maxPending: 3 });
    // One timeout group: the three sent and the two queued expire together. The clock is held
    // while the five are made: on a busy machine a preemption between two calls outlasted the
    // group's 2 ms window, and the two queued ones were then sent, in a group of their own (CI).
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    let all: Promise<unknown>[];
    try {
      all = Array.from({ length: 5 }, (_, index) => client.request('t', index, 200).catch((error: unknown) => error));
    } finally {
      clock.mockRestore();
    }
    const errors = await Promise.all(all);
    expect(errors.slice(0, 3).map((error) => (error as MessageTimeoutError).queuedBehind)).toEqual([undefined, undefined, undefined]);
    // Before, the three were rejected first, and the two said "queued behind 0" (tester t51).
    expect(errors.slice(3).map((error) => (error as MessageTimeoutError).queuedBehind)).toEqual([3, 3]);
  });

  it('reject at once when aborted while waiting', async () => {
    const { client } = pair(() => new Promise(() => {}));
    void client.request('t', 'hold', 60_000).catch(() => {});
    const controller = new AbortController();
    const waiting = client.request('t', 'queued', 60_000, controller.signal);
    controller.abort(new Error('stop waiting'));
    await expect(waiting).rejects.toThrow('stop waiting');
  });

  it('never hold up supervision requests, and still fail at once with backpressure "reject"', async () => {
    const { client } = pair((type) => (type === kPingRequest ? 'pong' : new Promise(() => {})));
    void client.request('t', 'hold', 60_000).catch(() => {});
    await expect(client.request(kPingRequest, undefined, 1_000)).resolves.toBe('pong');
    const rejecting = pair(() => new Promise(() => {}), { backpressure: 'reject' }).client;
    void rejecting.request('t', 'hold', 60_000).catch(() => {});
    await expect(rejecting.request('t', 'more', 60_000)).rejects.toBeInstanceOf(BackpressureError);
  });

  it('drop a reply to a request not sent yet: it can only be forged', async () => {
    let release: () => void = () => {};
    let holding: () => void = () => {};
    const isHolding = new Promise<void>((resolve) => (holding = resolve));
    const { client, portA } = pair((_type, payload) => {
      if (payload !== 'hold') return payload;
      holding();
      return new Promise((resolve) => (release = () => resolve('held')));
    });
    const sent: unknown[] = [];
    const send = portA.send.bind(portA);
    portA.send = (message, callback) => {
      sent.push(message);
      return send(message, callback);
    };
    const held = client.request('t', 'hold', 60_000);
    const queued = client.request('t', 'queued', 60_000);
    // Settled by the endpoint's close if an expectation fails first.
    held.catch(() => {});
    queued.catch(() => {});
    await isHolding;
    const heldId = (sent[0] as { m: unknown[] }).m[1] as number;
    const dropped = client.stats.dropped;
    // The queued request took the next id; replies to it arrive before it was ever written.
    client.receive({ __ck: 1, m: [1, heldId + 1, 0, 'forged', 2, heldId + 1, 0, { name: 'Error', message: 'forged' }] });
    expect(client.stats.dropped).toBe(dropped + 2);
    release();
    await expect(held).resolves.toBe('held');
    await expect(queued).resolves.toBe('queued');
  });
});
