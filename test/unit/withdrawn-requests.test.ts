/**
 * Requests whose caller gave up before their frame went out are withdrawn from it, never written
 * (hostile t68 F2, retest t68 #3): 500 sends aborted in the tick they were made all ran at the
 * peer, though each caller was told "aborted"; and a request that timed out while a congested
 * channel held its frame said "did not reply ... the handler may be slow", then ran anyway.
 */
import { describe, expect, it } from '@jest/globals';
import { MessageTimeoutError } from '../../src/errors.js';
import { endpointPair } from '../helpers/endpoint-pair.js';

/** Endpoints whose server echoes each payload, and the payloads it ran, in order. */
function echoPair(): { client: ReturnType<typeof endpointPair>['client']; ran: unknown[] } {
  const ran: unknown[] = [];
  const { client } = endpointPair((_type, payload) => {
    ran.push(payload);
    return payload;
  });
  return { client, ran };
}

describe('a request withdrawn before its frame went out', () => {
  it('[H673] aborted in the tick it was made: its caller gets the reason, and the peer never runs it', async () => {
    const { client, ran } = echoPair();
    const controller = new AbortController();
    const aborted = Array.from({ length: 500 }, (_, index) => client.request('t', index, 60_000, controller.signal).catch((error: unknown) => error));
    controller.abort(new Error('the caller gave up'));
    const after = await client.request('t', 'after');
    expect(after).toBe('after');
    expect((await Promise.all(aborted)).every((error) => (error as Error).message === 'the caller gave up')).toBe(true);
    // Before: all 500 ran.
    expect(ran).toEqual(['after']);
  });

  it('[H673] a broadcast\'s requests aborted in the tick they were made are withdrawn too (retest t68b: they ran on every worker)', async () => {
    const { client, ran } = echoPair();
    const controller = new AbortController();
    const errors: Error[] = [];
    for (let index = 0; index < 200; index++) client.requestInto('t', index, 8, 60_000, controller.signal, () => {}, (error) => void errors.push(error));
    controller.abort(new Error('the caller gave up'));
    await expect(client.request('t', 'after')).resolves.toBe('after');
    expect(errors).toHaveLength(200);
    expect(ran).toEqual(['after']);
  });

  it('[H673] timed out while a congested channel held its frame: said never sent, and never run', async () => {
    const ran: unknown[] = [];
    const { client, portA } = endpointPair(
      (_type, payload) => {
        ran.push(typeof payload === 'string' && payload.length > 100 ? 'big' : payload);
        return 'ok';
      },
      { maxMessageBytes: 16 * 1024 * 1024 },
    );
    // Node's queue reports full, and the big write's completion is held: the channel is congested.
    const send = portA.send.bind(portA);
    const held: Array<() => void> = [];
    portA.send = (message, callback) => {
      send(message, (error) => held.push(() => callback(error)));
      return false;
    };
    const big = client.request('t', 'x'.repeat(9 * 1024 * 1024));
    await new Promise((resolve) => setImmediate(resolve));
    const small = client.request('t', 'small', 50);
    const error = await small.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MessageTimeoutError);
    // Before: "The peer did not reply ... The handler may be slow", queuedBehind undefined.
    expect(error).toMatchObject({ queuedBehind: 0 });
    expect((error as Error).message).toMatch(/^"t" was never sent to the peer/);
    portA.send = send;
    for (const release of held.splice(0)) release();
    await expect(big).resolves.toBe('ok');
    await expect(client.request('t', 'after')).resolves.toBe('ok');
    expect(ran).toEqual(['big', 'after']);
  });
});
