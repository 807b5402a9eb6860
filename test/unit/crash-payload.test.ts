/**
 * [H103] `$crash`: what a worker says it died of is checked (the primary drops a forged or
 * oversized one as a protocol error) and described in one bounded line.
 */
import { describe, expect, it } from '@jest/globals';
import { isCrashPayload, kMaxCrashTextLength } from '../../src/messaging/system-types.js';
import { describeUncaughtError } from '../../src/primary/pool/crash-notice.js';
import { describeUncaught } from '../../src/worker/crash-report.js';

describe('$crash payload', () => {
  it('[H103] accepts an origin with bounded texts, and nothing else', () => {
    for (const payload of [
      { origin: 'uncaughtException', name: 'TypeError', message: 'x' },
      { origin: 'unhandledRejection', name: 'Error', message: '', code: 'E_X', location: '/srv/a.js:1:2' },
    ]) {
      expect(isCrashPayload(payload)).toBe(true);
    }
    for (const payload of [
      undefined,
      null,
      [],
      { name: 'Error', message: 'x' },
      { origin: 'exit', name: 'Error', message: 'x' },
      { origin: 'uncaughtException', name: 1, message: 'x' },
      { origin: 'uncaughtException', name: 'Error', message: 'x'.repeat(kMaxCrashTextLength + 1) },
      { origin: 'uncaughtException', name: 'Error', message: 'x', location: 'y'.repeat(kMaxCrashTextLength + 1) },
      { origin: 'uncaughtException', name: 'Error', message: 'x', code: 7 },
    ]) {
      expect(isCrashPayload(payload)).toBe(false);
    }
  });

  it('[H103] describes what was thrown within the bounds the check accepts, whatever it was', () => {
    const huge = new Error('m'.repeat(1024 * 1024));
    (huge as Error & { code: string }).code = 'c'.repeat(1024 * 1024);
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    for (const thrown of [huge, 42, null, undefined, 'text', revoked.proxy, { toString: () => { throw new Error('no'); } }]) {
      const described = describeUncaught(thrown, 'uncaughtException');
      expect(isCrashPayload(described)).toBe(true);
    }
    const own = describeUncaught(new RangeError('r'), 'unhandledRejection');
    expect(own).toMatchObject({ origin: 'unhandledRejection', name: 'RangeError', message: 'r', location: expect.stringMatching(/crash-payload\.test\.ts:\d+:\d+$/) });
  });

  it('[H103][H594] says the error in a phrase: name, message without its final period, where', () => {
    expect(describeUncaughtError({ origin: 'uncaughtException', name: 'TypeError', message: 'x is undefined.', location: '/srv/a.js:3:7' })).toBe('an uncaught TypeError: x is undefined at /srv/a.js:3:7');
    expect(describeUncaughtError({ origin: 'unhandledRejection', name: 'Error', message: 'gone' })).toBe('an unhandled rejection with Error: gone');
    // [H594] After a message of several sentences, the place is the throw's, not the last sentence's (newcomer t60).
    expect(describeUncaughtError({ origin: 'unhandledRejection', name: 'NoWorkerAvailableError', message: 'No live worker named "cache". Ask a handler of the primary\'s.', location: '/srv/app.ts:21:57' })).toBe(
      'an unhandled rejection with NoWorkerAvailableError: No live worker named "cache". Ask a handler of the primary\'s (thrown at /srv/app.ts:21:57)',
    );
    // Several lines, escaped as the crash notice carries them: a wrapped error's stack (retest t60).
    expect(describeUncaughtError({ origin: 'uncaughtException', name: 'Error', message: 'line one\\nline two', location: '/srv/a.js:3:7' })).toBe('an uncaught Error: line one\\nline two (thrown at /srv/a.js:3:7)');
  });
});
