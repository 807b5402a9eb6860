import { describe, expect, it } from '@jest/globals';
import { NoHandlerError } from '../../src/errors.js';
import { kNoReply } from '../../src/messaging/inbound.js';
import { isHandlerNotFound } from '../../src/messaging/route.js';
import { SystemRouter, type ProtocolProblem } from '../../src/messaging/system-router.js';
import { isNoPayload, isShutdownPayload, isStoreOperation } from '../../src/messaging/system-types.js';

function router() {
  const dropped: Array<[string, string, ProtocolProblem]> = [];
  const system = new SystemRouter<string>({ receiver: 'the primary', onProtocolError: (peer, type, problem) => dropped.push([peer, type, problem]) });
  const handled: unknown[] = [];
  system.register('$shutdown', { kind: 'request', check: isShutdownPayload, handle: (payload, peer) => (handled.push([peer, payload.timeoutMs]), 'bye') });
  system.register('$watchdog', { kind: 'notification', check: isNoPayload, handle: () => void handled.push('armed') });
  return { system, dropped, handled };
}

describe('SystemRouter', () => {
  it('hands a well-formed message of the declared kind to its handler', () => {
    const { system, dropped, handled } = router();
    expect(system.route('w1', '$shutdown', { timeoutMs: 5 }, true)).toBe('bye');
    expect(system.route('w1', '$watchdog', undefined, false)).toBeUndefined();
    expect(handled).toEqual([['w1', 5], 'armed']);
    expect(dropped).toEqual([]);
    expect(system.protocolErrors).toBe(0);
  });

  it('drops and counts a message of the wrong kind or with a malformed payload, without a reply', () => {
    const { system, dropped, handled } = router();
    expect(system.route('w1', '$shutdown', { timeoutMs: 5 }, false)).toBe(kNoReply);
    expect(system.route('w2', '$shutdown', null, true)).toBe(kNoReply);
    expect(system.route('w2', '$shutdown', { timeoutMs: '5' }, true)).toBe(kNoReply);
    expect(system.route('w3', '$watchdog', undefined, true)).toBe(kNoReply);
    expect(system.route('w3', '$watchdog', 42, false)).toBe(kNoReply);
    expect(handled).toEqual([]);
    expect(system.protocolErrors).toBe(5);
    expect(dropped.map(([peer, , problem]) => `${peer} ${problem}`)).toEqual(['w1 wrong-kind', 'w2 bad-payload', 'w2 bad-payload', 'w3 wrong-kind', 'w3 bad-payload']);
  });

  it('answers a request of an unknown system type with NoHandlerError, and counts it', () => {
    const { system } = router();
    let thrown: unknown;
    try {
      system.route('w1', '$future', {}, true);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NoHandlerError);
    expect(isHandlerNotFound(thrown)).toBe(true);
    expect(system.route('w1', '$future', {}, false)).toBe(kNoReply);
    expect(system.protocolErrors).toBe(2);
  });

  it('checks structure only: store operations are objects with an op', () => {
    expect(isStoreOperation({ op: 'get', key: 'k' })).toBe(true);
    expect(isStoreOperation({ op: 'nope' })).toBe(true); // the store itself rejects it with a reply
    for (const bad of [undefined, null, 'get', [], { key: 'k' }, { op: 1 }]) expect(isStoreOperation(bad)).toBe(false);
  });
});
