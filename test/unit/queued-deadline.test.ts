import { afterEach, describe, expect, it } from '@jest/globals';
import { BackpressureError, MessageTimeoutError } from '../../src/errors.js';
import { Endpoint, type EndpointOptions, type InboundHandler } from '../../src/messaging/endpoint.js';
import { kPingRequest } from '../../src/messaging/system-types.js';
import { memoryPortPair } from '../helpers/memory-port.js';

const created: Endpoint[] = [];

afterEach(() => {
  for (const endpoint of created.splice(0)) endpoint.close(() => new Error('test over'));
});

/** A client limited to `maxPending` requests in flight, and a server answering with `handler`. */
function pair(handler: InboundHandler, options: Partial<EndpointOptions> = {}) {
  const [portA, portB] = memoryPortPair();
  const base = (port: typeof portA, onInbound: InboundHandler): EndpointOptions => ({
    port,
    serialization: 'json',
    maxMessageBytes: 1024 * 1024,
    defaultTimeoutMs: 5_000,
    maxPending: 1,
    backpressure: 'wait',
    describePeer: () => 'the peer',
    onInbound,
    channelClosedError: (type) => new Error(`closed before ${type}`),
    onError: (error) => {
      throw error;
    },
    ...options,
  });
  const client = new Endpoint(base(portA, () => undefined));
  const server = new Endpoint(base(portB, handler));
  created.push(client, server);
  portA.deliver = (message) => client.receive(message);
  portB.deliver = (message) => server.receive(message);
  return { client, server };
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
      expect((error as Error).message).toContain('within 50 ms');
    }
    expect(Date.now() - calledAt).toBeLessThan(2_000);
    expect(client.pendingCount).toBe(1);
    const after = client.request('t', 'after');
    release();
    await expect(held).resolves.toBe('released');
    await expect(after).resolves.toBe('after');
    expect(seen).toEqual(['hold', 'after']);
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
});
