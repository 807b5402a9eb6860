/**
 * What the primary's log lines and reports say about scaling, a hang kill and a worker that
 * never started: each line says what happened, never a generic "unexpected" or "did not stop
 * cleanly" for something the primary did or for a start that failed.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { recordClusterEvents } from '../../src/control/record-events.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

describe('report lines', () => {
  it('logs a scale when it starts and when it completes, with how the surplus workers stopped', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 3, logger });
    await primary.start();
    const { log } = recordClusterEvents(primary); // what `clusterkit dashboard` shows
    const complete = onceEvent(primary, 'scaleComplete', 30_000);
    await primary.scale(1);
    const stopped = (await complete) as { from: number; to: number; stopped: { graceful: unknown[] } };
    expect(stopped).toMatchObject({ from: 3, to: 1 });
    expect(stopped.stopped.graceful).toHaveLength(2);
    expect(text()).toContain('[t] scaling from 3 to 1 worker from=3 to=1\n');
    expect(text()).toContain('[t] scaling from 3 to 1 worker complete from=3 to=1 graceful=2 failed=0 killed=0\n');
    expect(log.read().events).toContainEqual(expect.objectContaining({ type: 'scaleComplete', from: 3, to: 1, graceful: 2, failed: 0, killed: 0, requestsCut: 0 }));
    await primary.scale(2);
    expect(text()).toContain('[t] scaling from 1 to 2 workers complete from=1 to=2\n');
    // A scale to the current count is one line that says so, not "scaling from 2 to 2".
    await primary.scale(2);
    expect(text()).toContain('[t] scale to 2 workers: already 2, nothing to do from=2 to=2\n');
    expect(text()).not.toContain('scaling from 2 to 2');
  });

  it('says a hung worker was killed by the primary for being unresponsive, not that it exited unexpectedly or crashed', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 1_000 }, logger });
    const [worker] = await primary.start();
    const exit = onceEvent(primary, 'workerExit', 30_000);
    const crash = onceEvent(primary, 'workerCrash', 30_000);
    const replaced = onceEvent(primary, 'workerReady', 30_000);
    primary.notify(worker!, 'block', { ms: -1 });
    // The public events keep their meaning (docs/events.md): not asked to stop, a failure.
    await expect(exit).resolves.toMatchObject({ worker, signal: 'SIGKILL', expected: false });
    await crash;
    await replaced;
    expect(text()).toMatch(new RegExp(`\\[t\\] WARN worker ${worker!.id} was killed \\(SIGKILL\\) by the primary: it did not answer heartbeats for \\d+ ms(?:, \\d+ ms of them while the primary itself was blocked)? `));
    expect(text()).not.toContain(`worker ${worker!.id} exited unexpectedly`);
    expect(text()).not.toContain(`worker ${worker!.id} crashed`);
  });

  it('[H311] a worker stopped with SIGSTOP: silent because its process is stopped, not "most likely blocked", and the kill says so', async () => {
    const { logger, text } = capturedLogger();
    // workerSilent comes at the first heartbeat tick that finds 1 s of silence, the kill at the
    // timeout: a tick late by more than the gap between them goes straight to the kill. 1.5 s left
    // 0.5 s, which a busy machine took once (under-load run, t59); 4 s leaves 3 s.
    const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 4_000 }, logger });
    const [worker] = await primary.start();
    onCleanup(() => {
      try {
        process.kill(worker!.pid!, 'SIGKILL'); // a stopped process does not end on SIGTERM
      } catch {
        // gone
      }
    });
    const silent = onceEvent(primary, 'workerSilent', 30_000);
    const exit = onceEvent(primary, 'workerExit', 30_000);
    const replaced = onceEvent(primary, 'workerReady', 30_000);
    process.kill(worker!.pid!, 'SIGSTOP');
    await silent;
    await expect(exit).resolves.toMatchObject({ worker, signal: 'SIGKILL' });
    await replaced;
    // Before (hostile t32 LOW-2): "its event loop most likely blocked" for a process in state T.
    expect(text()).toMatch(new RegExp(`\\[t\\] WARN worker ${worker!.id} silent for [^,]+, its process is stopped \\(kill -STOP or a debugger; kill -CONT resumes it\\), not blocked: `));
    expect(text()).not.toContain('its event loop most likely blocked');
    expect(text()).toMatch(new RegExp(`WARN worker ${worker!.id} was killed \\(SIGKILL\\) by the primary: it did not answer heartbeats for \\d+ ms(?:, \\d+ ms of them while the primary itself was blocked)? \\(its process was stopped: kill -STOP or a debugger; kill -CONT resumes it\\)`));
  });

  it('says a worker whose channel the primary could not read was killed by the primary, and why, not that it crashed', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ logger });
    const [worker] = await primary.start();
    const exit = onceEvent(primary, 'workerExit', 30_000);
    const replaced = onceEvent(primary, 'workerReady', 30_000);
    await primary.send(worker!, 'writeRawSoon', { mode: 'garbage' });
    await expect(exit).resolves.toMatchObject({ worker, signal: 'SIGKILL', expected: false });
    await replaced;
    expect(text()).toMatch(new RegExp(`\\[t\\] WARN worker ${worker!.id} was killed \\(SIGKILL\\) by the primary: its IPC channel carried what the primary cannot read \\(not-a-message, the error above\\) `));
    expect(text()).not.toContain(`worker ${worker!.id} exited unexpectedly`);
    expect(text()).not.toContain(`worker ${worker!.id} crashed`);
  });

  it('[H37][H240][H366] says how long a crashed worker was ready, and how the restart policy counts its crash (a failed start, or none after serving, with its backoff)', async () => {
    const { logger, text } = capturedLogger();
    // A minute-long startup window: both deaths below fall inside it.
    const primary = testPrimary({ logger, restart: { backoff: { initialMs: 10, maxMs: 100 }, startupWindowMs: 60_000, maxStartupFailures: 5 } });
    const [first] = await primary.start();
    const crashes: Array<{ readyMs: number; uptimeMs: number; isStartupFailure: boolean }> = [];
    primary.on('workerCrash', (event) => crashes.push(event));
    onCleanup(() => primary.removeAllListeners('workerCrash'));
    // It served (a request message): a crash. Then its replacement dies having served nothing.
    await expect(primary.send(first!, 'echo', 'served')).resolves.toBe('served');
    let ready = onceEvent(primary, 'workerReady', 30_000);
    primary.notify(first!, 'exit', { code: 3 });
    const second = (await ready).worker;
    ready = onceEvent(primary, 'workerReady', 30_000);
    primary.notify(second, 'exit', { code: 3 });
    await ready;
    expect(crashes.map((event) => event.isStartupFailure)).toEqual([false, true]);
    for (const event of crashes) expect(event.uptimeMs).toBeGreaterThanOrEqual(event.readyMs);
    // Within the startup window, having served: an unstable restart, which backs off (H366).
    expect(text()).toMatch(
      new RegExp(
        `\\[t\\] WARN worker ${first!.id} crashed \\(it exited with code \\d+\\) \\d+(\\.\\d)? m?s after it became ready; it had served, so it is no failed start and counts toward no limit; restarting in 10 ms: 1 crash within 60 s of ready \\(restart\\.startupWindowMs\\), the backoff doubling until a worker stays ready longer workerId=`,
      ),
    );
    expect(text()).toMatch(
      new RegExp(`\\[t\\] WARN worker ${second.id} crashed \\(it exited with code \\d+\\) \\d+(\\.\\d)? m?s after it became ready, before it served anything: counted as a failed start \\(restart\\.startupWindowMs\\) workerId=`),
    );
  });

  it('[H42] does not count a worker that never became ready and exits during the shutdown as a failed stop', async () => {
    const { logger, text } = capturedLogger();
    const directory = mkdtempSync(join(tmpdir(), 'clusterkit-'));
    onCleanup(() => rmSync(directory, { recursive: true, force: true }));
    const behaviour = join(directory, 'init-behaviour');
    writeFileSync(behaviour, 'ready');
    const primary = testPrimary({ workerCount: 1, logger, env: { INIT_BEHAVIOUR_FILE: behaviour } }, 'workers/init-from-file.ts');
    const [serving] = await primary.start();
    writeFileSync(behaviour, 'gate'); // the next worker's _init throws once the gate opens
    const forked = onceEvent(primary, 'workerOnline', 30_000);
    const starting = primary.fork({ count: 1 }).catch((error: unknown) => error);
    const { worker: broken } = (await forked) as { worker: { id: number } };
    // In its `_init`, after its `$hello` and its signal handlers: the stop is its own stop (a
    // `$shutdown`, or H202's SIGTERM taken as a stop signal), not the end of a worker still booting.
    await until(() => existsSync(`${behaviour}.waiting`), 30_000, 'the broken worker in its _init');
    // A generous deadline: the broken worker exits on its own, never killed.
    const shutdown = primary.shutdown({ timeoutMs: 60_000 });
    writeFileSync(`${behaviour}.go`, 'now');
    const report = await shutdown;
    // Never ready: not a stop that failed, nor a graceful one (H155), but one that never started.
    expect(report).toEqual({ graceful: [serving], failed: [], killed: [], requestsCut: 0, notStarted: [expect.objectContaining({ id: broken.id })], interrupted: 'replacement' });
    await expect(starting).resolves.toBeInstanceOf(Error);
    await until(() => text().includes('shutdown complete'), 10_000, 'the shutdown line');
    expect(text()).toContain(`[t] ERROR worker ${broken.id} could not start: its _init() threw Error: bad config: the gate opened on a broken release`);
    expect(text()).not.toContain('did not stop cleanly');
    expect(text()).toContain('[t] WARN shutdown complete: a worker was still starting, 1 worker stopped before it was ready (the lines above say how), 1 worker stopped gracefully graceful=1 failed=0 killed=0 notStarted=1\n');
  });
});
