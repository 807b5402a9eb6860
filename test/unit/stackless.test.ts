/**
 * H646: the refusals the primary answers to a worker's requests are made with no stack frames,
 * and an error with none is sent without its stack (its name and message again). Hostile t64:
 * 50,000 forged relays to no worker, in one frame, blocked the primary 6 s, two thirds of it
 * capturing and formatting stack traces and writing them back.
 */
import { describe, expect, it } from '@jest/globals';
import { NoWorkerAvailableError } from '../../src/errors.js';
import { serializeError } from '../../src/messaging/serialize-error.js';
import { stackless } from '../../src/stackless.js';

describe('[H646] stackless refusals', () => {
  it('[H646] makes the error with no frames, and leaves the stack trace limit as it was', () => {
    const limit = Error.stackTraceLimit;
    const error = stackless(() => new NoWorkerAvailableError('No live worker named "x" can receive "echo".'));
    expect(error.stack).toBe('NoWorkerAvailableError: No live worker named "x" can receive "echo".');
    expect(Error.stackTraceLimit).toBe(limit);
    expect(() => stackless(() => { throw new Error('made none'); })).toThrow('made none');
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('[H646] sends an error with no frames without its stack; one with frames, or a stack of its own, with it', () => {
    expect(serializeError(stackless(() => new NoWorkerAvailableError('gone')))).toEqual({ name: 'NoWorkerAvailableError', message: 'gone', code: 'ERR_NO_WORKER_AVAILABLE' });
    expect(serializeError(new Error('here')).stack).toMatch(/^Error: here\n {4}at /);
    const custom = Object.assign(new Error('x'), { stack: 'a stack of its own' });
    expect(serializeError(custom).stack).toBe('a stack of its own');
  });
});
