/**
 * [H296] A worker that dies of a fatal signal it raised on itself (V8's heap out of memory and
 * process.abort() raise SIGABRT, a crash in native code SIGSEGV...) is told as its own fatal
 * error, not as a kill "from outside clusterkit" that sends the reader looking for a sender
 * that is not there. Real workers that call process.abort().
 */
import { describe, expect, it } from '@jest/globals';
import type { CrashLoopEvent, WorkerCrashEvent } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

const kFixture = 'workers/throws-after-ready.ts';
const kDied = 'died of SIGABRT (a fatal error in the process itself: V8 out of memory, process.abort(), a crash in native code; its output says which)';

describe('a worker that dies of its own fatal signal', () => {
  it('[H296] a ready worker that calls process.abort(): its crash line and the crash-loop "Last crash" say it died of SIGABRT, not a kill from outside', async () => {
    const { logger, text } = capturedLogger();
    // silent: the abort's native stack on stderr is not this test's output.
    const primary = testPrimary({ logger, silent: true, env: { THROW_MODE: 'abort' }, restart: { backoff: { initialMs: 10 }, startupWindowMs: 0, maxRestarts: 1, windowMs: 60_000 } }, kFixture);
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash');
    const crashLoop = onceEvent<CrashLoopEvent>(primary, 'crashLoop');
    await primary.start();
    const { worker, signal } = await crash;
    expect(signal).toBe('SIGABRT');
    const loop = await crashLoop;
    // Before: "worker 1 was killed by SIGABRT from outside clusterkit (kill, a process manager, ...)", and "Last crash: ... was killed by SIGABRT".
    // A stall of the primary's own, of a second or more, after the worker was ready (a loaded machine) makes its figure a lower bound (H486).
    const readyFor = `(at least )?\\d+(\\.\\d)? m?s after it became ready( \\(its exit was seen only after the primary's own [\\d.]+ m?s stall\\))?`;
    expect(text()).toMatch(new RegExp(`WARN worker ${worker.id} ${escape(kDied)} ${readyFor}`));
    expect(loop.error.message).toMatch(new RegExp(`Last crash: worker \\d+ \\(pid \\d+\\) ${escape(kDied)} ${readyFor}\\. Fix that, then start it again\\.$`));
    expect(text()).not.toContain('from outside clusterkit');
    expect(text()).not.toContain('killed by SIGABRT');
  });

  it('[H296] a worker that calls process.abort() before it is ready: its could-not-start line and the crash-loop "Last failure" say it died of SIGABRT', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ logger, silent: true, env: { THROW_MODE: 'abort-before-ready' }, restart: { backoff: { initialMs: 10 }, maxStartupFailures: 1 } }, kFixture);
    const started = primary.start().catch((error: unknown) => error as Error);
    await until(() => text().includes('could not start'), 30_000, 'the failed start logged');
    // Before: "it was killed by SIGABRT before it was ready".
    expect(text()).toMatch(new RegExp(`worker \\d+ could not start: it ${escape(kDied)} before it was ready workerId=`));
    const error = await started;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`Last failure: Worker \\d+ \\(pid \\d+\\) ${escape(kDied)} before it was ready\\. Check its output for the error\\.`));
    expect(text()).not.toContain('killed by SIGABRT');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
