/**
 * A value left out is said to be missing, with what to pass, not "Received undefined" (hostile
 * t84, wording); a value whose reading threw is not said to be undefined.
 */
import { describe, expect, it } from '@jest/globals';
import { checkConfig } from '../../src/cli/config/check-config.js';
import { InvalidOptionError } from '../../src/errors.js';
import { checkStoreKey } from '../../src/store-key.js';
import { readingOption } from '../../src/validate.js';
import { assertUserType } from '../../src/messaging/envelope.js';

function messageOf(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('did not throw');
}

describe('a missing value, in words', () => {
  it('[H762] says the value is missing and to pass it, never "Received undefined"', () => {
    expect(new InvalidOptionError('health.port', 'a port number from 0 to 65535', undefined).message).toBe('The "health.port" option must be a port number from 0 to 65535. It is missing (undefined): pass it');
    expect(new InvalidOptionError('health.port', 'a port number from 0 to 65535', -1).message).toBe('The "health.port" option must be a port number from 0 to 65535. Received -1');
    expect(messageOf(() => checkStoreKey(undefined))).toBe('Store keys are non-empty strings of at most 1024 characters. It is missing (undefined): pass it.');
    expect(messageOf(() => checkConfig({}, '/srv/clusterkit.config.json'))).toContain('"apps" must be a non-empty array of apps. It is missing (undefined): pass it.');
    // An option whose getter threw was never undefined: no "Received" at all.
    const unreadable = messageOf(() => readingOption('logger', undefined, () => { throw new Error('getter boom'); }));
    expect(unreadable).toBe('The "logger" option must be readable: reading it threw Error: getter boom.');
  });

  // Retest t89: `send(worker)`, `broadcast()` said "The message type undefined must be a non-empty string."
  it('[H769] says a message type left out is missing, and what to pass', () => {
    expect(messageOf(() => assertUserType(undefined))).toBe("The message type is missing: pass it, a non-empty string naming the handler (`'greet'` runs `_onMessage_greet`).");
    expect(messageOf(() => assertUserType(''))).toBe('The message type "" must be a non-empty string.');
  });
});
