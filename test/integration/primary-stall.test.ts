/**
 * The primary's own event loop blocked (a synchronous hook or scan, a GC, SIGSTOP): no worker
 * could be heard meanwhile, so none is called silent or killed for the silence, and the stall is
 * said once as the primary's (`PrimaryBlockedError`). A worker that is really blocked is still
 * killed, its silence counted without the primary's stall.
 *
 * The test process is the primary: the stall is a busy loop in it, run once a heartbeat answer
 * came (a ping is then in flight, as in production).
 */
import { describe, expect, it } from '@jest/globals';
import { PrimaryBlockedError, type WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

/**
 * Blocks this process (the primary) for `chunks` stretches of `ms` each, from setImmediate: the
 * loop turns between them, but its next turn runs the timers (the heartbeat's tick) before it
 * reads the sockets (the workers' answers), as with a watcher's scan in its fs callbacks.
 * Resolves when the last ended (ms since the epoch).
 */
function blockPrimary(ms: number, chunks = 1): Promise<number> {
  return new Promise((resolve) => {
    const next = (left: number) =>
      setImmediate(() => {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          // the primary's event loop is blocked, as by a synchronous scan of a large directory
        }
        if (left > 1) next(left - 1);
        else resolve(until);
      });
    next(chunks);
  });
}

/** Blocks this process (the primary) for `ms`, asleep (`Atomics.wait`): no CPU taken from the rest of the run. */
function sleepPrimary(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Two workers at a 1 s heartbeat timeout, each past its first heartbeat answer. */
async function twoWorkersAnswering() {
  const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 1_000 }, workerCount: 2 });
  const workers = await primary.start();
  for (const worker of workers) await until(() => worker.health !== undefined, 30_000, 'first heartbeat');
  return { primary, workers };
}

const isStallWarning = (error: unknown): error is PrimaryBlockedError => error instanceof PrimaryBlockedError;

/** Two heartbeat answers after `at`: the workers' answers were read, the heartbeat judged meanwhile. */
async function twoAnswersAfter(worker: WorkerHandle, at: number): Promise<void> {
  await until(() => worker.health !== undefined && worker.health.at > at, 30_000, 'a heartbeat answer after the stall');
  const first = worker.health!.at;
  await until(() => worker.health!.at > first, 30_000, 'a second heartbeat answer after the stall');
}

describe('a primary whose own event loop was blocked', () => {
  it.each([
    // Under half the timeout, over the silence threshold (1 s): before, the worker was called silent.
    ['0.4x the heartbeat timeout', { intervalMs: 100, timeoutMs: 5_000 }, 2_000],
    // Past the timeout: before, the clocks restarted, and the stall went unsaid.
    ['1.5x the heartbeat timeout', { intervalMs: 100, timeoutMs: 1_000 }, 1_500],
    // Eight stretches of 0.2x the timeout, the loop turning between them without reading: before,
    // the worker was killed once the silence passed the timeout.
    ['8 stretches of 0.2x the heartbeat timeout', { intervalMs: 100, timeoutMs: 2_000 }, 400, 8],
  ])('[H470] blocked for %s: no worker blamed or killed, the stall said once as the primary\'s', async (_what, heartbeat, stallMs, chunks = 1) => {
    const primary = testPrimary({ heartbeat, workerCount: 2 });
    const workers = await primary.start();
    for (const worker of workers) await until(() => worker.health !== undefined, 30_000, 'first heartbeat');
    const silent = record(primary, 'workerSilent');
    const unresponsive = record(primary, 'workerUnresponsive');
    const exits = record(primary, 'workerExit');
    const errors = record(primary, 'error');
    const said = onceEvent<PrimaryBlockedError>(primary, 'error', 30_000, isStallWarning);
    const stalledUntil = await blockPrimary(stallMs, chunks);
    for (const worker of workers) await twoAnswersAfter(worker, stalledUntil);
    expect(silent.events).toEqual([]);
    expect(unresponsive.events).toEqual([]);
    expect(exits.events).toEqual([]);
    const warning = await said;
    expect(warning).toMatchObject({ code: 'ERR_PRIMARY_BLOCKED' });
    // What was measured: each stall's lateness past its check (a lower bound; a chunk that began just after a check reads a period short).
    expect(warning.blockedMs).toBeGreaterThanOrEqual(chunks === 1 ? stallMs - 300 : (stallMs * chunks) / 2);
    expect(warning.message).toMatch(/^The primary's own event loop was blocked for \d+ ms/);
    for (const worker of workers) await twoAnswersAfter(worker, Date.now());
    expect(errors.events.filter(isStallWarning)).toHaveLength(1);
    for (const worker of workers) await expect(primary.send(worker, 'echo', 'alive')).resolves.toBe('alive');
  });

  it('[H480] blocked for 3x the heartbeat timeout (kill -STOP of the primary): no worker killed', async () => {
    const { primary, workers } = await twoWorkersAnswering();
    const unresponsive = record(primary, 'workerUnresponsive');
    const exits = record(primary, 'workerExit');
    record(primary, 'error');
    // Before, at most one timeout was given back per silence: 2 s were counted, and both were killed (chaos tester t51).
    const stalledUntil = await blockPrimary(3_000);
    for (const worker of workers) await twoAnswersAfter(worker, stalledUntil);
    expect(unresponsive.events).toEqual([]);
    expect(exits.events).toEqual([]);
  });

  it('[H470][H474] still kills a worker that is blocked itself, its silence counted without the primary\'s stall, and its kill line says how much of it was the primary\'s', async () => {
    const log = capturedLogger('info');
    const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 1_000 }, logger: log.logger });
    const [worker] = await primary.start();
    await until(() => worker!.health !== undefined, 30_000, 'first heartbeat');
    record(primary, 'error');
    const unresponsive = onceEvent(primary, 'workerUnresponsive');
    const exit = onceEvent(primary, 'workerExit');
    primary.notify(worker!, 'block', { ms: -1 });
    await blockPrimary(1_500);
    const { silentMs, primaryBlockedMs } = await unresponsive;
    expect(silentMs).toBeGreaterThan(1_000);
    await expect(exit).resolves.toMatchObject({ worker, signal: 'SIGKILL', expected: false });
    // [H474] Measured lateness: at least the stall less a check period and jitter, never more than the silence.
    expect(primaryBlockedMs).toBeGreaterThanOrEqual(1_100);
    expect(primaryBlockedMs).toBeLessThanOrEqual(silentMs);
    await until(() => /was killed \(SIGKILL\) by the primary/.test(log.text()), 30_000, 'the kill line');
    expect(log.text()).toMatch(new RegExp(`it did not answer heartbeats for ${silentMs} ms, ${primaryBlockedMs} ms of them while the primary itself was blocked`));
    expect(log.text()).toMatch(new RegExp(`silentMs=${silentMs} primaryBlockedMs=${primaryBlockedMs}`));
  });

  it('[H475] a wall clock 30 s ahead (a resumed machine, an NTP step) kills no worker and is no stall', async () => {
    const { primary, workers } = await twoWorkersAnswering();
    const silent = record(primary, 'workerSilent');
    const unresponsive = record(primary, 'workerUnresponsive');
    const exits = record(primary, 'workerExit');
    const errors = record(primary, 'error');
    // The primary's wall clock steps 30 s forward, as after a suspend; its monotonic clock does not.
    const realNow = Date.now;
    Date.now = () => realNow.call(Date) + 30_000;
    try {
      const steppedAt = Date.now();
      for (const worker of workers) await twoAnswersAfter(worker, steppedAt);
      for (const worker of workers) await twoAnswersAfter(worker, Date.now());
    } finally {
      Date.now = realNow;
    }
    expect(silent.events).toEqual([]);
    expect(unresponsive.events).toEqual([]);
    expect(exits.events).toEqual([]);
    expect(errors.events.filter(isStallWarning)).toEqual([]);
  });

  it('[H474] a kill with no stall of the primary names none', async () => {
    const log = capturedLogger('info');
    const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 1_000 }, logger: log.logger });
    const [worker] = await primary.start();
    await until(() => worker!.health !== undefined, 30_000, 'first heartbeat');
    const unresponsive = onceEvent(primary, 'workerUnresponsive');
    const exit = onceEvent(primary, 'workerExit');
    primary.notify(worker!, 'block', { ms: -1 });
    const event = (await unresponsive) as { primaryBlockedMs?: number };
    await exit;
    await until(() => /was killed \(SIGKILL\) by the primary/.test(log.text()), 30_000, 'the kill line');
    // On an idle machine the primary is never late, and nothing is named. On a loaded one this
    // process itself can be late by some 100 ms (measured 262 ms under load): then the event and
    // the line both name it, and what they name is less than the silence.
    if (event.primaryBlockedMs === undefined) expect(log.text()).not.toMatch(/primary itself was blocked|primaryBlockedMs/);
    else expect(log.text()).toContain(`primaryBlockedMs=${event.primaryBlockedMs}`);
  });

  it('[H486] a crash seen only after a stall of the primary counts as ready up to the stall\'s start: no backoff reset on a guess', async () => {
    const log = capturedLogger('info');
    const restart = { stableAfterMs: 4_000, startupWindowMs: 0, backoff: { initialMs: 100, factor: 2, maxMs: 10_000 } };
    const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 60_000 }, restart, logger: log.logger });
    const [first] = await primary.start();
    record(primary, 'error');
    const crashes = record(primary, 'workerCrash');
    // A first crash, seen at once: the slot's backoff is at its first step.
    let ready = onceEvent(primary, 'workerReady');
    primary.notify(first!, 'exit', { code: 1 });
    const { worker: second } = await ready;
    expect(crashes.events).toMatchObject([{ restartAttempt: 1 }]);
    expect(crashes.events[0]).not.toHaveProperty('unseenMs');
    ready = onceEvent(primary, 'workerReady');
    // It answers, exits 20 ms later: while the primary sleeps 5 s, past stableAfterMs.
    await primary.send(second, 'exitSoon', { code: 1 });
    sleepPrimary(5_000);
    await ready;
    const crash = crashes.events[1]!;
    // Before, readyMs counted to the exit's sight (about 5 s), the backoff was reset (attempt 1).
    expect(crash.unseenMs).toBeGreaterThanOrEqual(4_900);
    expect(crash.readyMs).toBeLessThan(restart.stableAfterMs);
    expect(crash.readyMs + crash.unseenMs!).toBeGreaterThanOrEqual(5_000);
    // Whole ms, as every figure of an event (the under-load suite read 16.473388671875).
    expect(Number.isInteger(crash.readyMs) && Number.isInteger(crash.unseenMs)).toBe(true);
    expect(crash).toMatchObject({ restartAttempt: 2, restartDelayMs: 200 });
    await until(() => /crashed (?:\(it exited with code \d+\) )?at least/.test(log.text()), 30_000, 'the crash line');
    expect(log.text()).toMatch(new RegExp(`at least ${crash.readyMs} ms after it became ready \\(its exit was seen only after the primary's own ${crash.unseenMs} ms stall\\)`));
  });
});
