import { describe, expect, it } from '@jest/globals';
import { isRequestsCutPayload, isScriptCleanupPayload, isStoppingPayload } from '../../src/messaging/system-types.js';

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
