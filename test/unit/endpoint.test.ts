import { afterEach, describe, expect, it } from '@jest/globals';
import { MessageTimeoutError, NoHandlerError, NotSerializableError, RemoteError, BackpressureError } from '../../src/errors.js';
import { handlerNotFound } from '../../src/messaging/dispatch.js';
import { Endpoint, type EndpointOptions, type InboundHandler } from '../../src/messaging/endpoint.js';
import { memoryPortPair, type MemoryPort } from '../helpers/memory-port.js';

const created: Endpoint[] = [];

// Closing rejects whatever a test left pending, which also clears its timeout timers.
afterEach(() => {
  for (const endpoint of created.splice(0)) endpoint.close(() => new Error('test over'));
});

async function loopTurns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

function endpointPair(handler: InboundHandler, options: Partial<EndpointOptions> = {}) {
  const [portA, portB] = memoryPortPair();
  const base = (port: MemoryPort, onInbound: InboundHandler): EndpointOptions => ({
    port,
    serialization: 'json',
    maxMessageBytes: 1024 * 1024,
    // Generous: only the tests about timeouts set short ones, on the requests meant to expire.
    defaultTimeoutMs: 60_000,
    maxPending: 10_000,
    backpressure: 'wait',
    describePeer: () => 'the peer',
    onInbound,
    channelClosedError: (type) => new Error(`closed before ${type}`),
    onError: (error) => {
      throw error;
    },
    ...options,
  });
  const client = new Endpoint(base(portA, (type) => {
    throw handlerNotFound(type, 'client');
  }));
  const server = new Endpoint(base(portB, handler));
  created.push(client, server);
  portA.deliver = (message) => client.receive(message);
  portB.deliver = (message) => server.receive(message);
  return { client, server, portA, portB };
}

describe('Endpoint', () => {
  it('coalesces a burst into one write per direction and keeps order', async () => {
    const seen: number[] = [];
    const { client, portA, portB } = endpointPair((_type, payload) => {
      seen.push(payload as number);
      return (payload as number) * 2;
    });
    const replies = await Promise.all(Array.from({ length: 100 }, (_, index) => client.request('double', index)));
    expect(replies).toEqual(Array.from({ length: 100 }, (_, index) => index * 2));
    expect(seen).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(portA.writes).toBe(1);
    expect(portB.writes).toBe(1);
    expect(client.channel.stats).toEqual({ writes: 1, messages: 100 });
  });

  it('fails only the request whose handler throws inside a batch', async () => {
    const { client } = endpointPair((_type, payload) => {
      if (payload === 3) throw new Error('three is bad');
      return payload;
    });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => client.request('n', n)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(RemoteError);
  });

  it('times out only the request that gets no reply inside a batch', async () => {
    const { client } = endpointPair((_type, payload) => (payload === 'hang' ? new Promise(() => {}) : payload));
    // Only the unanswered request has a short deadline: on a busy machine a 50 ms timer could
    // otherwise beat the answers too.
    const results = await Promise.allSettled(['a', 'hang', 'b'].map((p) => client.request('t', p, p === 'hang' ? 50 : 60_000)));
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(MessageTimeoutError);
    expect(client.pendingCount).toBe(0);
  });

  it('maps a routing miss to NoHandlerError and a rethrown NoHandlerError to RemoteError', async () => {
    const { client } = endpointPair((type) => {
      if (type === 'nested') throw new NoHandlerError('inner', 'someone else');
      throw handlerNotFound(type, 'server');
    });
    await expect(client.request('missing', 1)).rejects.toBeInstanceOf(NoHandlerError);
    await expect(client.request('nested', 1)).rejects.toBeInstanceOf(RemoteError);
  });

  it('rejects unserializable payloads before sending and unserializable replies after', async () => {
    const { client, portA } = endpointPair(() => ({ fn: () => 1 }));
    await expect(client.request('t', { n: 1n })).rejects.toBeInstanceOf(NotSerializableError);
    expect(portA.writes).toBe(0);
    await expect(client.request('t', 1)).rejects.toMatchObject({ remoteName: 'NotSerializableError' });
  });

  it('rejects everything pending at once when closed, and refuses new requests', async () => {
    const { client } = endpointPair(() => new Promise(() => {}));
    const pending = [client.request('a', 1), client.request('b', 2)];
    client.close((type) => new Error(`gone before ${type}`));
    await expect(pending[0]).rejects.toThrow('gone before a');
    await expect(pending[1]).rejects.toThrow('gone before b');
    await expect(client.request('c', 3)).rejects.toThrow('gone before c');
    expect(() => client.notify('d', 4)).toThrow('gone before d');
  });

  it('applies backpressure: waits or rejects beyond maxPending', async () => {
    const release: Array<() => void> = [];
    const handler = () => new Promise<string>((resolve) => release.push(() => resolve('ok')));
    const waiting = endpointPair(handler, { maxPending: 2 });
    const replies = [1, 2, 3].map((n) => waiting.client.request('t', n));
    // The in-memory port delivers on setImmediate: a few loop turns (not a sleep, which a busy
    // machine can stretch past them or not) let everything admitted arrive.
    await loopTurns(10);
    expect(release).toHaveLength(2);
    release.shift()!();
    await loopTurns(10);
    expect(release).toHaveLength(2);
    for (const fn of release.splice(0)) fn();
    await expect(Promise.all(replies)).resolves.toEqual(['ok', 'ok', 'ok']);

    const rejecting = endpointPair(handler, { maxPending: 1, backpressure: 'reject' });
    rejecting.client.request('t', 1).catch(() => {});
    await expect(rejecting.client.request('t', 2)).rejects.toBeInstanceOf(BackpressureError);
  });

  it('makes requests wait for room when their bytes outrun the channel, and never loses one', async () => {
    // Copying 100 MB through the in-memory port takes seconds on a busy machine: no timeouts here.
    const { client } = endpointPair((_type, payload) => (payload as string).length, { defaultTimeoutMs: 120_000 });
    const megabyte = 'x'.repeat(1_000_000);
    // About 95 MiB issued in one tick: more than the channel queues at once, so some must wait.
    const replies = await Promise.all(Array.from({ length: 100 }, () => client.request('size', megabyte)));
    expect(replies).toEqual(Array(100).fill(megabyte.length));
    expect(client.pendingCount).toBe(0);
    const rejecting = endpointPair(() => 1, { backpressure: 'reject', defaultTimeoutMs: 120_000 });
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => rejecting.client.request('size', megabyte)));
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_BACKPRESSURE', queuedBytes: expect.any(Number) });
  });

  it('aborts a request with its signal and frees the entry', async () => {
    const { client } = endpointPair(() => new Promise(() => {}));
    const controller = new AbortController();
    const reply = client.request('t', 1, 5_000, controller.signal);
    controller.abort(new Error('user gave up'));
    await expect(reply).rejects.toThrow('user gave up');
    expect(client.pendingCount).toBe(0);
  });

  it('counts and drops malformed envelopes and late replies', async () => {
    const { client } = endpointPair((_type, payload) => payload);
    client.receive({ __ck: 1, m: [1, 123_456, 0, 1] });
    client.receive({ __ck: 1, m: ['nope', 1, 0, 1] });
    client.receive({ __ck: 1, m: [null, 1, 0, 0, 1, 5, 0, 1, 0, -1, 't', 1] });
    expect(client.stats.dropped).toBe(5);
    await expect(client.request('t', 'fine')).resolves.toBe('fine');
  });
});
