/**
 * [H103] A worker that dies of an uncaught exception or an unhandled rejection after it became
 * ready: the primary learns the error from the worker before its exit ($crash), and its crash
 * line, `workerCrash.error` and the crash-loop error's "Last crash" name it and where it was
 * thrown (before, they said only "exited with code 1 306 ms after it became ready"). The text is
 * the worker's: bounded and escaped. A handler of the worker's own that keeps it alive is no crash.
 */
import { describe, expect, it } from '@jest/globals';
import type { CrashLoopEvent, WorkerCrashEvent } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

const kFixture = 'workers/throws-after-ready.ts';
/** The fixture's throw, in its bundle (.js) or its TypeScript source. */
const kLocation = /\/throws-after-ready\.[jt]s:\d+:\d+$/;

/** A primary whose slot gives up at its second crash: every worker of the fixture dies 100 ms after ready. */
function crashingPrimary(mode: string) {
  const { logger, text } = capturedLogger();
  const primary = testPrimary({ logger, env: { THROW_MODE: mode }, restart: { backoff: { initialMs: 10 }, startupWindowMs: 0, maxRestarts: 1, windowMs: 60_000 } }, kFixture);
  return { primary, text };
}

/** Starts `crashingPrimary(mode)`; resolves with its first crash, and its crash loop to await. */
async function firstCrash(mode: string) {
  const { primary, text } = crashingPrimary(mode);
  const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash');
  const crashLoop = onceEvent<CrashLoopEvent>(primary, 'crashLoop');
  await primary.start();
  return { event: await crash, crashLoop, text };
}

describe('crash cause', () => {
  it('[H103] names the uncaught exception a ready worker died of, and where it was thrown, in its crash line, workerCrash and the crash-loop error', async () => {
    const { event, crashLoop, text } = await firstCrash('throw');
    expect(event.error).toEqual({ origin: 'uncaughtException', name: 'TypeError', message: 'boom after ready', location: expect.stringMatching(kLocation) });
    const { location } = event.error!;
    expect(text()).toContain(`WARN worker ${event.worker.id} crashed `);
    expect(text()).toMatch(new RegExp(`worker ${event.worker.id} crashed \\d+(\\.\\d)? m?s after it became ready, of an uncaught TypeError: boom after ready at ${location} workerId=`));
    const loop = await crashLoop;
    expect(loop.error.message).toMatch(/Last crash: worker \d+ \(pid \d+\) exited with code 1 \d+(\.\d)? m?s after it became ready, of an uncaught TypeError: boom after ready at \/\S+\/throws-after-ready\.[jt]s:\d+:\d+\. Fix that, then start it again\.$/);
  });

  it('[H103] names the uncaught exception a worker died of before it was ready in the crash-loop error', async () => {
    const { logger } = capturedLogger();
    const primary = testPrimary({ logger, env: { THROW_MODE: 'before-ready' }, restart: { backoff: { initialMs: 10 }, maxStartupFailures: 1 } }, kFixture);
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash');
    await expect(primary.start()).rejects.toThrow(/Last failure: Worker \d+ \(pid \d+\) exited with code 1 before it was ready, of an uncaught TypeError: boom before ready at \/\S+\/throws-after-ready\.[jt]s:\d+:\d+\. Fix that, then start it again\./);
    expect((await crash).error).toMatchObject({ origin: 'uncaughtException', name: 'TypeError', message: 'boom before ready' });
  });

  it('[H103] names an unhandled rejection a ready worker died of', async () => {
    const { event, crashLoop, text } = await firstCrash('reject');
    expect(event.error).toEqual({ origin: 'unhandledRejection', name: 'RangeError', message: 'rejected after ready', location: expect.stringMatching(kLocation) });
    expect(text()).toContain(`, of an unhandled rejection with RangeError: rejected after ready at ${event.error!.location} workerId=`);
    expect((await crashLoop).error.message).toContain('after it became ready, of an unhandled rejection with RangeError: rejected after ready at /');
  });

  it('[H103] bounds and escapes what a hostile worker says it died of: a 1 MiB message and code full of control characters', async () => {
    const { event: { error }, crashLoop, text } = await firstCrash('hostile');
    expect(error).toBeDefined();
    expect(error!.message.startsWith('\\x1b]0;owned\\x07\\x1b[2J\\u202eevil\\r\\nforged line xxx')).toBe(true);
    expect(error!.message.length).toBeLessThan(2_000);
    expect(error!.message.endsWith('...')).toBe(true);
    expect(error!.code!.length).toBeLessThan(600);
    expect(error!.location).toMatch(kLocation);
    // eslint-disable-next-line no-control-regex
    const control = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;
    const { message } = (await crashLoop).error;
    expect(message).toContain('of an uncaught Error: \\x1b]0;owned');
    expect(message.length).toBeLessThan(3_000);
    expect(message).not.toMatch(control);
    expect(text()).not.toMatch(control);
    expect(text()).not.toContain('\nforged line');
  });

  it('[H103] reports an error whose message and name getters throw as what could be read', async () => {
    const { event: { error } } = await firstCrash('getter');
    expect(error).toMatchObject({ origin: 'uncaughtException', name: 'Error' });
    // Said unreadable, never the getter's text; no location: V8 formats the stack lazily, with
    // the same getters, so it cannot be read either.
    expect(error!.message).toBe('(its message could not be read)');
    expect(error!.message).not.toContain('getter throws');
  });

  it('[H111] reports a crash of an error whose class has a throwing message getter by its class, its message unreadable', async () => {
    const { event: { error }, crashLoop, text } = await firstCrash('getter-class');
    // Before: a bare "Error", the class that was thrown not named.
    expect(error).toMatchObject({ origin: 'uncaughtException', name: 'DbError', message: '(its message could not be read)' });
    expect(text()).toMatch(/crashed .* of an uncaught DbError: \(its message could not be read\)/);
    expect((await crashLoop).error.message).toContain('of an uncaught DbError: (its message could not be read)');
    expect(text()).not.toContain('message getter throws');
  });

  it("[H103] an error the worker's own 'uncaughtException' handler survived is no crash; one it exits 1 for is reported", async () => {
    const { primary, text } = crashingPrimary('caught');
    const survived = onceEvent(primary, 'workerMessage', undefined, (event: { type: string }) => event.type === 'lifecycle');
    const [worker] = await primary.start();
    await survived;
    // It still serves: the error it survived was no crash.
    await expect(primary.send(worker!, 'echo', 'alive')).resolves.toBe('alive');
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash');
    primary.notify(worker!, 'crashAsync', undefined);
    const event = await crash;
    expect(event.worker.id).toBe(worker!.id);
    // The error its handler exited for, not the one it survived.
    expect(event.error).toMatchObject({ origin: 'uncaughtException', name: 'Error', message: 'uncaught in worker' });
    expect(text()).not.toContain('boom after ready');
  });
});
