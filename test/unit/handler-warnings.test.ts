/**
 * A notification handler's failures said as process warnings when nothing listens for 'error'
 * (H421) are bounded: a worker notifying in a loop must not flood stderr with one warning each.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { EventEmitter } from 'eventemitter3';
import { NotificationHandlerError } from '../../src/errors.js';
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

  it('[H703] an error with a huge message makes a bounded warning and error: its message cut, its stack\'s frames kept', () => {
    const said: Array<{ message: string; detail: string | undefined }> = [];
    jest.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error, options?: { detail?: string }) => {
      said.push({ message: String(message), detail: options?.detail });
    }) as typeof process.emitWarning);
    const huge = new Error('x'.repeat(5_000_000));
    const emitter = safeEmitter(new EventEmitter(), 'primary');
    emitter.reportHandlerError(new NotificationHandlerError('evt', 'worker 1 (pid 1)', false, 1, { cause: huge }), 'the handler of notification "evt" from worker 1 (pid 1) threw', huge);
    // Before (hostile t75 F1): the whole 5 MB message, and the whole stack (the message again) as its detail.
    expect(said).toHaveLength(1);
    expect(said[0]!.message.length).toBeLessThan(3_000);
    expect(said[0]!.message).toMatch(/^The handler of notification "evt" from worker 1 \(pid 1\) threw: Error: x+\.\.\.\. Nothing listens/);
    expect(said[0]!.detail!.length).toBeLessThanOrEqual(8_000);
    expect(said[0]!.detail).toMatch(/^Error: x+\.\.\.\n {4}at /);
    // [F4] The error a listener gets is bounded the same way.
    expect(new NotificationHandlerError('evt', 'the primary', true, undefined, { cause: huge }).message.length).toBeLessThan(3_000);
  });

  it('[H442] a burst that ends inside its window has its unsaid count said when the window ends', async () => {
    const warnings: string[] = [];
    let onCount!: () => void;
    const counted = new Promise<void>((resolve) => (onCount = resolve));
    jest.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error) => {
      warnings.push(String(message));
      if (String(message).includes('more handler failures')) onCount();
    }) as typeof process.emitWarning);
    // A short window, so the test waits for the count's warning, not for 10 s.
    const emitter = safeEmitter(new EventEmitter(), 'primary', { count: 10, windowMs: 300 });
    for (let index = 0; index < 13; index++) emitter.reportHandlerError(new Error(`boom ${index}`), `the handler of notification "evt" from worker 1 (pid 1) threw`);
    expect(warnings).toHaveLength(10);
    // No failure follows: before, the 3 were never said. A generous bound, not a pace.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([counted, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
    expect(warnings).toHaveLength(11);
    expect(warnings[10]).toMatch(/^3 more handler failures were not said, at most 10 are every 0\.3 s; nothing listens for 'error' on the ClusterPrimary: add primary\.on\('error', \.\.\.\)/);
    // Said once: the next failure, in a new window, counts none.
    emitter.reportHandlerError(new Error('boom 13'), 'the handler threw');
    expect(warnings).toHaveLength(12);
    expect(warnings[11]).not.toContain('more handler failures');
  });

  it('[H496] a watch() callback that rejected with undefined is said as undefined, not in its wrapper\'s words again', () => {
    const warnings: string[] = [];
    jest.spyOn(process, 'emitWarning').mockImplementation(((message: string | Error) => {
      warnings.push(String(message));
    }) as typeof process.emitWarning);
    const emitter = safeEmitter(new EventEmitter(), 'worker');
    const wrapper = new Error('A watch() callback of store key "k" rejected: undefined. The worker goes on');
    emitter.reportHandlerError(wrapper, 'a watch() callback of store key "k" rejected', undefined);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^A watch\(\) callback of store key "k" rejected: undefined\. Nothing listens/);
    expect(warnings[0]).not.toContain('The worker goes on');
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
