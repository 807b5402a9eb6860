/**
 * A worker that dies of a signal runs none of its own cleanup (worker/descendants-at-exit.ts):
 * `process.abort()`, out of V8 heap, a segfault, or a `kill -9` from outside. Its children were
 * left to init, one more per crash-loop restart (a hostile tester: a `sleep` per restart, alive
 * after `clusterkit stop`). The primary ends those its heartbeat last saw (H295). Real processes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { ClusterPrimary } from '../../src/index.js';
import { isAlive, uniqueSleeps, waitUntilGone } from '../helpers/processes.js';
import { onCleanup } from '../helpers/cleanup.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import type { ToPrimary, ToWorker } from '../fixtures/protocol.js';

const kIntervalMs = 200;
/** Frequent ticks; a timeout no busy machine reaches, so that no heartbeat kill muddles the exit. */
const heartbeat = { heartbeat: { intervalMs: kIntervalMs, timeoutMs: 60_000 } };

/**
 * Waits for three heartbeat answers from `workerId` received after `since` (from `stats()`): the
 * second and third were asked at ticks after the first answer, so after `since`, and each tick
 * refreshes the snapshot of the worker's processes (read in a few ms, never overlapping). A wait
 * on events, not on time: nothing public tells of the snapshot itself.
 */
async function heartbeatsAfter(primary: ClusterPrimary<ToWorker, ToPrimary>, workerId: number, since: number): Promise<void> {
  const answers: number[] = [];
  await until(
    () => {
      const row = primary.stats().find((stats) => stats.id === workerId);
      if (row?.healthAgeMs === undefined) return false;
      const at = Date.now() - row.healthAgeMs;
      // The same answer seen again gives the same time, give or take a ms.
      if (at > since && (answers.length === 0 || at - answers.at(-1)! > kIntervalMs / 2)) answers.push(at);
      return answers.length >= 3;
    },
    20_000,
    `three heartbeat answers from worker ${workerId} after its child started`,
  );
}

describe('[H295] a worker dead of a signal: the processes the heartbeat saw end', () => {
  it('[H295] process.abort() (SIGABRT) after ready: its sleep child ends after the exit', async () => {
    const sleeps = uniqueSleeps(); // its cleanup SIGKILLs any left, whatever happens
    const primary = testPrimary({ silent: true, ...heartbeat });
    const [worker] = await primary.start();
    const child = await primary.send(worker!, 'spawnSleep', { seconds: sleeps.seconds });
    const spawnedAt = Date.now();
    expect(isAlive(child)).toBe(true);
    await heartbeatsAfter(primary, worker!.id, spawnedAt);
    const exit = onceEvent(primary, 'workerExit', 20_000, (event: { worker: { id: number } }) => event.worker.id === worker!.id);
    await primary.send(worker!, 'abortSoon');
    await expect(exit).resolves.toMatchObject({ signal: 'SIGABRT', killed: false });
    // Before: the sleep lived on, a child of init, one more per restart.
    await waitUntilGone([child], 20_000);
    expect(sleeps.pids()).toEqual([]);
  });

  it('[H295] process.abort() while the start runs (before ready): its sleep child ends after the exit', async () => {
    // Before (retest t31 M-A): the snapshots came with the pings, which begin once the start is
    // over, so a worker dead before it (a crash loop before ready) left every child it had.
    const sleeps = uniqueSleeps();
    const directory = mkdtempSync(join(tmpdir(), 'ck-abort-start-'));
    onCleanup(() => rmSync(directory, { recursive: true, force: true }));
    const pidFile = join(directory, 'child.pid');
    const primary = testPrimary({ silent: true, ...heartbeat, restart: false, env: { ABORT_SLEEP_SECONDS: sleeps.seconds, ABORT_PID_FILE: pidFile } }, 'workers/aborts-while-starting.ts');
    const exit = onceEvent(primary, 'workerExit', 30_000);
    const started = primary.start().catch((error: unknown) => error);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 20_000, 'the child started');
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(child)).toBe(true);
    // Nothing public tells of a snapshot: ten of its intervals, where one is enough, is a lower bound.
    await new Promise((resolve) => setTimeout(resolve, 10 * kIntervalMs));
    writeFileSync(`${pidFile}.go`, '');
    await expect(exit).resolves.toMatchObject({ signal: 'SIGABRT', killed: false });
    await started;
    await waitUntilGone([child], 20_000);
    expect(sleeps.pids()).toEqual([]);
  });

  it('[H295] kill -9 from outside of a ready worker: its sleep child ends after the exit', async () => {
    const sleeps = uniqueSleeps();
    const primary = testPrimary({ silent: true, ...heartbeat });
    const [worker] = await primary.start();
    const child = await primary.send(worker!, 'spawnSleep', { seconds: sleeps.seconds });
    const spawnedAt = Date.now();
    await heartbeatsAfter(primary, worker!.id, spawnedAt);
    const exit = onceEvent(primary, 'workerExit', 20_000, (event: { worker: { id: number } }) => event.worker.id === worker!.id);
    process.kill(worker!.pid!, 'SIGKILL');
    await expect(exit).resolves.toMatchObject({ signal: 'SIGKILL', killed: false });
    await waitUntilGone([child], 20_000);
    expect(sleeps.pids()).toEqual([]);
  });

  it('[H309] kill -9 from outside of a worker with a setsid child: the child is left running, named once by workerDescendantsLeft and a warn line', async () => {
    const sleeps = uniqueSleeps(); // its cleanup SIGKILLs the child, whatever happens
    const log = capturedLogger();
    const primary = testPrimary({ silent: true, logger: log.logger, ...heartbeat });
    const [worker] = await primary.start();
    const left = record(primary, 'workerDescendantsLeft');
    onCleanup(() => left.stop());
    const child = await primary.send(worker!, 'spawnOwnSession', { seconds: sleeps.seconds });
    await until(() => sleeps.pids().length === 1, 30_000, 'setsid running its sleep');
    const spawnedAt = Date.now();
    await heartbeatsAfter(primary, worker!.id, spawnedAt);
    const exit = onceEvent(primary, 'workerExit', 20_000, (event: { worker: { id: number } }) => event.worker.id === worker!.id);
    const ready = onceEvent(primary, 'workerReady', 20_000);
    process.kill(worker!.pid!, 'SIGKILL');
    await expect(exit).resolves.toMatchObject({ signal: 'SIGKILL', killed: false });
    await ready;
    await until(() => left.events.length > 0, 20_000, 'workerDescendantsLeft');
    // Before: no event, no line: the worker ran no cleanup to say it, and the primary said nothing.
    expect(left.events).toEqual([{ worker, processes: [{ pid: child, command: 'sleep' }], count: 1 }]);
    expect(isAlive(child)).toBe(true);
    expect(log.text()).toContain(`WARN worker ${worker!.id} (pid ${worker!.pid}): left its process ${child} (sleep) running: it leads a session of its own`);
    // Said at the worker's exit only: the shutdown after it names nothing more.
    await primary.shutdown();
    expect(left.events).toHaveLength(1);
    expect(isAlive(child)).toBe(true);
  });

  it('[H305] kill -9 of a worker whose child ignores SIGTERM: its replacement is forked only once that child has ended', async () => {
    // Before (retest t31 L-C): the restart came after the 100 ms backoff, while the child still
    // lived out its 1 s grace (holding whatever port or file the replacement's own would want).
    const primary = testPrimary({ silent: true, ...heartbeat });
    const [worker] = await primary.start();
    const tree = await primary.send(worker!, 'spawnTree');
    onCleanup(() => {
      for (const pid of Object.values(tree)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    const spawnedAt = Date.now();
    await heartbeatsAfter(primary, worker!.id, spawnedAt);
    let aliveAtRestart: number[] | undefined;
    const restart = onceEvent(primary, 'workerRestart', 20_000, (event: { previous: { id: number } }) => {
      if (event.previous.id !== worker!.id) return false;
      aliveAtRestart = Object.values(tree).filter((pid) => isAlive(pid));
      return true;
    });
    process.kill(worker!.pid!, 'SIGKILL');
    await restart;
    expect(aliveAtRestart).toEqual([]);
  });
});
