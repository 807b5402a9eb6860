/**
 * A warning the primary reports with no 'error' listener goes to `process.emitWarning`, which
 * throws a TypeError for an Error of another realm (Jest's vm context here): thrown from the
 * heartbeat's timer, the stall warning ended the test under load (full suite: bulk-pipe [H82],
 * relay-limit [H67]). It is emitted as its text then.
 */
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from '@jest/globals';
import { PrimaryBlockedError } from '../../src/errors.js';
import { safeEmitter } from '../../src/safe-emit.js';

describe('a warning with no error listener', () => {
  it('[H470] is emitted, not thrown, even when its Error comes from another realm', () => {
    const { reportWarning } = safeEmitter(new EventEmitter() as never, 'primary');
    expect(() => reportWarning(new PrimaryBlockedError(1_500, 1_500))).not.toThrow();
  });
});
