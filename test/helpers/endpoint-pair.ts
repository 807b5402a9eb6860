/**
 * Endpoints joined by an in-memory port pair (memory-port.ts), for the messaging protocol's
 * unit tests. Every endpoint made here is closed after its test (cleanup.ts): closing rejects
 * what the test left pending, which also clears its timeout timers.
 */
import { Endpoint, type EndpointOptions, type InboundHandler } from '../../src/messaging/endpoint.js';
import { handlerNotFound } from '../../src/messaging/route.js';
import { onCleanup } from './cleanup.js';
import { memoryPortPair, type MemoryPort } from './memory-port.js';

/** Options of an endpoint on `port` answering with `onInbound`; `options` win. */
export function endpointOptions(port: MemoryPort, onInbound: InboundHandler, options: Partial<EndpointOptions> = {}): EndpointOptions {
  return {
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
  };
}

/** An endpoint closed after the test. */
export function trackedEndpoint(options: EndpointOptions): Endpoint {
  const endpoint = new Endpoint(options);
  onCleanup(() => endpoint.close(() => new Error('test over')));
  return endpoint;
}

/**
 * A client (which has no handlers) and a server answering with `handler`, both with `options`,
 * each delivering what the other writes.
 */
export function endpointPair(handler: InboundHandler, options: Partial<EndpointOptions> = {}) {
  const [portA, portB] = memoryPortPair();
  const client = trackedEndpoint(
    endpointOptions(
      portA,
      (type) => {
        throw handlerNotFound(type, 'client');
      },
      options,
    ),
  );
  const server = trackedEndpoint(endpointOptions(portB, handler, options));
  portA.deliver = (message) => client.receive(message);
  portB.deliver = (message) => server.receive(message);
  return { client, server, portA, portB };
}
