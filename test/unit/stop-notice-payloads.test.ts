import { describe, expect, it } from '@jest/globals';
import { isDestroyFailedPayload, isHandlersCutPayload, isRequestsCutPayload, isScriptCleanupPayload, isStoppingPayload } from '../../src/messaging/system-types.js';

describe('stop notice payloads', () => {
  it('$requestsCut: a count of at least 1, and a finite non-negative timeoutMs or none', () => {
    for (const payload of [{ openRequests: 1 }, { openRequests: 3, timeoutMs: 7500 }, { openRequests: 1, timeoutMs: 0 }]) expect(isRequestsCutPayload(payload)).toBe(true);
    for (const payload of [
      undefined,
      null,
      [],
      { openRequests: 0 },
      { openRequests: -1 },
      { openRequests: 1.5 },
      { openRequests: '1' },
      { openRequests: 2 ** 53 },
      { openRequests: 1, timeoutMs: -1 },
      { openRequests: 1, timeoutMs: Infinity },
      { openRequests: 1, timeoutMs: '10' },
    ]) {
      expect(isRequestsCutPayload(payload)).toBe(false);
    }
  });

  it('[H350] $destroyFailed: a finite non-negative timeoutMs, with the slice kept for _destroy and what shortened it, each checked', () => {
    for (const payload of [{ timeoutMs: 1 }, { timeoutMs: 250, reservedMs: 300 }, { timeoutMs: 3, reservedMs: 300, shortenedBy: 'blocked' }, { timeoutMs: 1, reservedMs: 800, shortenedBy: 'init' }]) {
      expect(isDestroyFailedPayload(payload)).toBe(true);
    }
    for (const payload of [
      { timeoutMs: -1 },
      { timeoutMs: 1, reservedMs: -1 },
      { timeoutMs: 1, reservedMs: Infinity },
      { timeoutMs: 1, reservedMs: '300' },
      { timeoutMs: 1, reservedMs: 300, shortenedBy: 'drain' },
      { timeoutMs: 1, reservedMs: 300, shortenedBy: 1 },
    ]) {
      expect(isDestroyFailedPayload(payload)).toBe(false);
    }
  });

  it("[H694] $destroyFailed's hook: onWorkerShutdown or none; any other name is refused (a forged one would name what never ran)", () => {
    const error = { name: 'Error', message: 'x' };
    for (const payload of [{ timeoutMs: 1, hook: 'onWorkerShutdown' }, { error, hook: 'onWorkerShutdown' }, { error }]) expect(isDestroyFailedPayload(payload)).toBe(true);
    for (const hook of ['_destroy', 'rm -rf /', '', 1, null, {}, ['onWorkerShutdown'], 'onWorkerShutdown\n']) {
      expect(isDestroyFailedPayload({ timeoutMs: 1, hook })).toBe(false);
      expect(isDestroyFailedPayload({ error, hook })).toBe(false);
    }
  });

  it('[H229] $handlersCut: a count of at least 1, at most 10 message type names, a finite non-negative timeoutMs', () => {
    for (const payload of [{ handlers: 1, types: ['hang'], timeoutMs: 2250 }, { handlers: 40, types: Array.from({ length: 10 }, (_, index) => `t${index}`), timeoutMs: 0 }]) expect(isHandlersCutPayload(payload)).toBe(true);
    for (const payload of [
      undefined,
      null,
      { handlers: 0, types: ['hang'], timeoutMs: 1 },
      { handlers: 1.5, types: ['hang'], timeoutMs: 1 },
      { handlers: 1, types: 'hang', timeoutMs: 1 },
      { handlers: 1, types: [''], timeoutMs: 1 },
      { handlers: 1, types: ['x'.repeat(257)], timeoutMs: 1 },
      { handlers: 1, types: [7], timeoutMs: 1 },
      { handlers: 11, types: Array.from({ length: 11 }, (_, index) => `t${index}`), timeoutMs: 1 },
      { handlers: 1, types: ['hang'] },
      { handlers: 1, types: ['hang'], timeoutMs: Infinity },
    ]) {
      expect(isHandlersCutPayload(payload)).toBe(false);
    }
  });

  it('[H360] $requestsCut and $handlersCut: what held the stop before its drain, both or neither, each checked', () => {
    for (const held of [{ heldMs: 2500, shortenedBy: 'blocked' }, { heldMs: 0, shortenedBy: 'init' }]) {
      expect(isRequestsCutPayload({ openRequests: 2, timeoutMs: 2025, ...held })).toBe(true);
      expect(isHandlersCutPayload({ handlers: 1, types: ['hang'], timeoutMs: 2025, ...held })).toBe(true);
    }
    for (const held of [{ heldMs: 2500 }, { shortenedBy: 'blocked' }, { heldMs: -1, shortenedBy: 'blocked' }, { heldMs: Infinity, shortenedBy: 'blocked' }, { heldMs: '2500', shortenedBy: 'blocked' }, { heldMs: 2500, shortenedBy: 'timeout' }]) {
      expect(isRequestsCutPayload({ openRequests: 2, timeoutMs: 2025, ...held })).toBe(false);
      expect(isHandlersCutPayload({ handlers: 1, types: ['hang'], timeoutMs: 2025, ...held })).toBe(false);
    }
  });

  it('$scriptCleanup: SIGINT or SIGTERM only', () => {
    expect(isScriptCleanupPayload({ signal: 'SIGINT' })).toBe(true);
    expect(isScriptCleanupPayload({ signal: 'SIGTERM' })).toBe(true);
    for (const payload of [undefined, {}, { signal: 'SIGKILL' }, { signal: 2 }, ['SIGINT']]) expect(isScriptCleanupPayload(payload)).toBe(false);
  });

  it('[H106] $stopping: a count of 0 or more', () => {
    for (const payload of [{ openRequests: 0 }, { openRequests: 20 }]) expect(isStoppingPayload(payload)).toBe(true);
    for (const payload of [undefined, null, [], {}, { openRequests: -1 }, { openRequests: 1.5 }, { openRequests: '1' }, { openRequests: 2 ** 53 }]) expect(isStoppingPayload(payload)).toBe(false);
  });
});
