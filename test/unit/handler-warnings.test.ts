/**
 * A notification handler's failures said as process warnings when nothing listens for 'error'
 * (H421) are bounded: a worker notifying in a loop must not flood stderr with one warning each.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { EventEmitter } from 'eventemitter3';
import { safeEmitter } from '../../src/safe-emit.js';

describe('handler failure warnings', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('[H421] says at most 10 a window, and the next one said counts those left unsaid', () => {
    const warnings: string[] = [];
    // What is written, not how Node prints it: the calls to process.emitWarning.
    jest.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error) => {
      warnings.push(String(message));
    }) as typeof process.emitWarning);
    const emitter = safeEmitter(new EventEmitter(), 'primary');
    for (let index = 0; index < 25; index++) emitter.reportHandlerError(new Error(`boom ${index}`), `the handler of notification "evt" from worker 1 (pid 1) threw`);
    expect(warnings).toHaveLength(10);
    expect(warnings[9]).toContain('boom 9');
    expect(warnings.join('\n')).not.toContain('more handler failures');
  });

  it('[H421] goes to the error listener, unbounded, when there is one', () => {
    const target = new EventEmitter();
    const heard: Error[] = [];
    target.on('error', (error: Error) => heard.push(error));
    const emitter = safeEmitter(target, 'worker');
    for (let index = 0; index < 25; index++) emitter.reportHandlerError(new Error(`boom ${index}`), 'the handler threw');
    expect(heard).toHaveLength(25);
  });
});
