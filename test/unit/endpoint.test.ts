import { describe, expect, it } from '@jest/globals';
import { MessageTimeoutError, NoHandlerError, NotSerializableError, RemoteError, BackpressureError } from '../../src/errors.js';
import { handlerNotFound } from '../../src/messaging/route.js';
import { endpointOptions, endpointPair, trackedEndpoint } from '../helpers/endpoint-pair.js';
import { memoryPortPair, type MemoryPort } from '../helpers/memory-port.js';

async function loopTurns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
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

  it('flushNow() writes what is queued at once, in order, and the end-of-tick flush finds nothing more', async () => {
    const { client, portA } = endpointPair((_type, payload) => payload);
    const first = client.request('echo', 1);
    const second = client.requestChecked('echo', 2, 8);
    expect(portA.writes).toBe(0);
    client.flushNow();
    expect(portA.writes).toBe(1);
    const third = client.request('echo', 3);
    await expect(Promise.all([first, second, third])).resolves.toEqual([1, 2, 3]);
    expect(portA.writes).toBe(2);
    expect(client.channel.stats).toEqual({ writes: 2, messages: 3 });
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

  it('[H678] a reply record whose third field is not 0 is malformed: it never settles the request', async () => {
    const problems: string[] = [];
    const { client } = endpointPair(() => new Promise(() => {}), { onProtocolError: (problem) => void problems.push(problem) });
    const hanging = client.request('t', 'hang', 60_000).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    // The request's id: the next one issued minus one, read from a reply-less request made after it.
    const { nextRequestId } = await import('../../src/messaging/pending.js');
    const id = nextRequestId() - 1;
    // Before (hostile t68 F9): resolved the request with 'bad status'.
    client.receive({ __ck: 1, m: [1, id, 5, 'bad status'] });
    expect(problems).toEqual(['malformed-record']);
    client.receive({ __ck: 1, m: [1, id, 0, 'good'] });
    await expect(hanging).resolves.toEqual({ value: 'good' });
  });

  it('reports what breaks the protocol, and only that: a late reply is dropped without a report', async () => {
    const problems: string[] = [];
    const { client } = endpointPair(() => new Promise(() => {}), { onProtocolError: (problem) => void problems.push(problem) });
    client.receive({ __ck: 1 });
    client.receive({ __ck: 1, m: [3, 0, '$hello'] });
    client.receive({ __ck: 1, m: [99, 1, 't', 1, 0, 'x', 't', 1, 3, 0, '', 1] });
    client.receive({ __ck: 1, m: [1, Number.MAX_SAFE_INTEGER, 0, 'forged', 2, Number.MAX_SAFE_INTEGER, 0, { name: 'E', message: 'm' }, 8, Number.MAX_SAFE_INTEGER, 0, null] });
    expect(problems).toEqual(['malformed-frame', 'malformed-frame', 'malformed-record', 'malformed-record', 'malformed-record', 'forged-reply', 'forged-reply', 'forged-reply']);
    // A reply to a request that timed out is late, not forged.
    await expect(client.request('t', 1, 10)).rejects.toBeInstanceOf(MessageTimeoutError);
    const late = { __ck: 1, m: [1, 1, 0, 'late'] };
    client.receive(late);
    expect(problems).toHaveLength(8);
  });

  it('[H382] tells a second reply to a request answered already, with its type; a reply to one answered long ago is only dropped', async () => {
    const told: Array<[string, string | undefined]> = [];
    const { client, portA } = endpointPair((_type, payload) => payload, { onProtocolError: (problem, type) => void told.push([problem, type]) });
    const frames: Array<{ m: unknown[] }> = [];
    const send = portA.send.bind(portA);
    portA.send = (message, callback) => (frames.push(message as { m: unknown[] }), send(message, callback));
    await expect(client.request('$ping', 'first')).resolves.toBe('first');
    const id = frames[0]!.m[1] as number;
    // Other code of the peer answered first; the genuine answer comes second (before: dropped as late, untold).
    client.receive({ __ck: 1, m: [1, id, 0, 'again', 2, id, 0, { name: 'E', message: 'm' }] });
    expect(told).toEqual([
      ['duplicate-reply', '$ping'],
      ['duplicate-reply', '$ping'],
    ]);
    // 64 answers later it is no longer remembered: dropped, as a late reply is.
    for (let index = 0; index < 64; index++) await client.request('t', index);
    client.receive({ __ck: 1, m: [1, id, 0, 'much later'] });
    expect(told).toHaveLength(2);
  });

  it('counts a reply that reached it before the deadline, though it was too busy to read it then', async () => {
    const { client } = endpointPair((_type, payload) => payload);
    const reply = client.request('t', 'in time', 20);
    reply.catch(() => {});
    // The request went out and was answered; now busy past the deadline, with the reply waiting to be read.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // blocked
    }
    await expect(reply).resolves.toBe('in time');
  });

  it('waits past the deadline for a reply announced before it, once', async () => {
    const { client, portA, portB } = endpointPair(() => undefined);
    portB.deliver = () => {}; // the peer never answers by itself
    const frames: Array<{ m: unknown[] }> = [];
    const send = portA.send.bind(portA);
    portA.send = (message, callback) => (frames.push(message as { m: unknown[] }), send(message, callback));
    const announced = client.request('big', 1, 200);
    const silent = client.request('big', 2, 200);
    for (const request of [announced, silent]) request.catch(() => {});
    // Both requests go out in one frame at the end of this tick; announce the first one's reply.
    await new Promise<void>((resolve) => process.nextTick(resolve));
    const [, announcedId] = frames[0]!.m;
    client.receive({ __ck: 1, m: [8, announcedId, 0, null] });
    // Both timed out together; the announced one is still waiting for the rest of its reply.
    await expect(silent).rejects.toBeInstanceOf(MessageTimeoutError);
    expect(client.pendingCount).toBe(1);
    client.receive({ __ck: 1, m: [1, announcedId, 0, 'all of it'] });
    await expect(announced).resolves.toBe('all of it');
  });

  it('drops replies to a peer that leaves more than 64 MiB unread, instead of queueing them', async () => {
    const [portA, portB] = memoryPortPair();
    // The server's side of the channel never completes a write: its peer does not read.
    const stuck: MemoryPort = { ...portB, send: () => false };
    const megabyte = 'x'.repeat(1024 * 1024);
    const options = { maxMessageBytes: 2 * 1024 * 1024, defaultTimeoutMs: 5_000 };
    const client = trackedEndpoint(endpointOptions(portA, () => undefined, options));
    const server = trackedEndpoint(endpointOptions(stuck, () => megabyte, options));
    portB.deliver = (message) => server.receive(message);
    for (let i = 0; i < 100; i++) void client.request('get', i, 60_000).catch(() => {});
    await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
    expect(server.stats.unsentReplies).toBeGreaterThan(0);
    expect(server.channel.queuedBytes).toBeLessThanOrEqual(66 * 1024 * 1024);
  });

  it('runningHandlers() names the types of the handlers still running, each once, after 40 other types ran and settled', async () => {
    const gates = new Map<string, () => void>();
    const { client, server } = endpointPair((type) => new Promise((resolve) => gates.set(type, () => resolve(type))));
    const types = Array.from({ length: 40 }, (_, index) => `type${index}`);
    const replies = [...types, 'hang', 'hang', 'slow'].map((type) => client.request(type, null));
    // The endpoints' close after the test rejects what is left unanswered (`hang`, or all on a failure).
    for (const reply of replies) reply.catch(() => {});
    await loopTurns(3);
    expect(server.runningHandlers()).toEqual({ count: 43, types: [...types, 'hang', 'slow'] });
    for (const type of types) gates.get(type)!();
    await expect(Promise.all(replies.slice(0, 40))).resolves.toEqual(types);
    expect(server.runningHandlers()).toEqual({ count: 3, types: ['hang', 'slow'] });
    gates.get('slow')!();
    await replies[42];
    expect(server.runningHandlers()).toEqual({ count: 2, types: ['hang'] });
  });
});
