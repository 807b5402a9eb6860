import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { isAlive, uniqueSleeps, waitUntilGone } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { kRepeatWindowMs } from '../../src/primary/lifecycle/stop-signal-repeat.js';

async function started(harness: Harness): Promise<{ pid: number; pids: number[] }> {
  const line = await harness.waitForEvent('started');
  return { pid: line.pid as number, pids: line.pids as number[] };
}

/** Two workers that print a line when their `_destroy` runs. */
const twoWorkers = (extra: object = {}, worker = 'workers/destroy-logs.ts') => ({
  HARNESS_OPTIONS: JSON.stringify({ workerCount: 2, ...extra }),
  HARNESS_WORKER: worker,
});

function destroyedPids(harness: Harness): number[] {
  return harness
    .events()
    .filter((line) => line.event === 'workerDestroy')
    .map((line) => line.pid as number)
    .sort();
}

describe('signals on the primary', () => {
  it('[F24] SIGTERM: one graceful shutdown, every _destroy once, exit 0', async () => {
    const harness = startHarness(twoWorkers());
    const { pid, pids } = await started(harness);
    process.kill(pid, 'SIGTERM');
    await expect(harness.exited()).resolves.toBe(0);
    expect(destroyedPids(harness)).toEqual([...pids].sort());
    expect(harness.events().filter((line) => line.event === 'shutdownComplete')).toEqual([{ event: 'shutdownComplete', graceful: 2, killed: 0 }]);
    await waitUntilGone(pids);
  });

  it('[F22] Ctrl-C to the whole process group: workers wait for the primary, one orderly shutdown, no restarts', async () => {
    const harness = startHarness(twoWorkers(), { detached: true });
    const { pid, pids } = await started(harness);
    process.kill(-pid, 'SIGINT');
    await expect(harness.exited()).resolves.toBe(0);
    const events = harness.events();
    expect(events.filter((line) => line.event === 'shutdown')).toEqual([{ event: 'shutdown', signal: 'SIGINT' }]);
    expect(events.filter((line) => line.event === 'workerRestart')).toEqual([]);
    expect(destroyedPids(harness)).toEqual([...pids].sort());
    expect(events.filter((line) => line.event === 'workerExit').every((line) => line.code === 0 && line.expected === true)).toBe(true);
    await waitUntilGone(pids);
  });

  it('[F25] a second SIGINT during shutdown kills the workers at once and exits non-zero', async () => {
    const harness = startHarness(twoWorkers({ shutdownTimeoutMs: 60_000 }, 'workers/destroy-hangs.ts'));
    const { pid, pids } = await started(harness);
    process.kill(pid, 'SIGINT');
    const firstAt = Date.now();
    await harness.waitForEvent('shutdown');
    // Past the window in which the same signal counts as a copy of the first.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstAt + kRepeatWindowMs + 50 - Date.now())));
    const secondAt = Date.now();
    process.kill(pid, 'SIGINT');
    await expect(harness.exited()).resolves.toBe(130);
    // Without the second signal the stop would wait for shutdownTimeoutMs (60 s).
    expect(Date.now() - secondAt).toBeLessThan(15_000);
    await waitUntilGone(pids, 30_000);
  });

  it('[F55] the same SIGTERM twice back to back (coreutils timeout: the primary, then its group) is one graceful stop', async () => {
    const harness = startHarness(twoWorkers(), { detached: true });
    const { pid, pids } = await started(harness);
    // As timeout does it: the primary, then its whole group (the kernel may merge the two when
    // the first is still pending; the CLI test under a real timeout covers the rest).
    process.kill(pid, 'SIGTERM');
    process.kill(-pid, 'SIGTERM');
    await expect(harness.exited()).resolves.toBe(0);
    const events = harness.events();
    expect(events.filter((line) => line.event === 'shutdownComplete')).toEqual([{ event: 'shutdownComplete', graceful: 2, killed: 0 }]);
    expect(destroyedPids(harness)).toEqual([...pids].sort());
    await waitUntilGone(pids);
  });

  it('[H76] SIGINT after SIGTERM forces the stop: the event names both signals, the line says "SIGINT after SIGTERM"', async () => {
    const harness = startHarness({ ...twoWorkers({ shutdownTimeoutMs: 60_000 }, 'workers/destroy-hangs.ts'), HARNESS_LOGGER: 'default' });
    const { pid, pids } = await started(harness);
    process.kill(pid, 'SIGTERM');
    await harness.waitForEvent('shutdown');
    process.kill(pid, 'SIGINT');
    await expect(harness.exited()).resolves.toBe(130);
    expect(harness.events().filter((line) => line.event === 'shutdownForced')).toEqual([{ event: 'shutdownForced', signal: 'SIGINT', firstSignal: 'SIGTERM', killed: 2 }]);
    expect(harness.stderr()).toContain('[clusterkit] ERROR SIGINT after SIGTERM forced the stop: 2 workers killed signal=SIGINT firstSignal=SIGTERM killed=2\n');
    await waitUntilGone(pids, 30_000);
  });

  it('[H69] SIGUSR2 (nodemon, log rotation) is logged and ignored, not a silent death; silently left to the app when it listens itself', async () => {
    const harness = startHarness({ ...twoWorkers(), HARNESS_LOGGER: 'default' });
    const { pid, pids } = await started(harness);
    process.kill(pid, 'SIGUSR2');
    await harness.waitFor(/\[clusterkit\] WARN SIGUSR2 ignored: clusterkit reloads the workers on SIGHUP .* signal=SIGUSR2 count=1\n/);
    expect([pid, ...pids].every(isAlive)).toBe(true);
    process.kill(pid, 'SIGTERM');
    await expect(harness.exited()).resolves.toBe(0);
    expect(destroyedPids(harness)).toEqual([...pids].sort());

    const own = startHarness({ ...twoWorkers(), HARNESS_LOGGER: 'default', HARNESS_OWN_USR2: '1' });
    const second = await started(own);
    process.kill(second.pid, 'SIGUSR2');
    await own.waitForEvent('ownUsr2');
    process.kill(second.pid, 'SIGTERM');
    await expect(own.exited()).resolves.toBe(0);
    expect(own.stderr()).not.toContain('SIGUSR2');
  });

  it('[H132] two SIGTERMs that arrive while the primary is busy are handled together and read as one request, however far apart they came (the limit the signals docs state)', async () => {
    const release = join(tmpdir(), `clusterkit-h132-${process.pid}-${Date.now()}`);
    onCleanup(() => rmSync(release, { force: true }));
    const harness = startHarness({ ...twoWorkers(), HARNESS_OWN_USR2: `block:${release}` });
    const { pid, pids } = await started(harness);
    process.kill(pid, 'SIGUSR2');
    await harness.waitForEvent('ownUsr2');
    // The loop is busy now: both wait for it, sent further apart than the repeat window.
    process.kill(pid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, kRepeatWindowMs * 2));
    process.kill(pid, 'SIGTERM');
    writeFileSync(release, '');
    await expect(harness.exited()).resolves.toBe(0);
    const events = harness.events();
    expect(events.filter((line) => line.event === 'shutdownForced')).toEqual([]);
    expect(events.filter((line) => line.event === 'shutdownComplete')).toEqual([{ event: 'shutdownComplete', graceful: 2, killed: 0 }]);
    await waitUntilGone(pids);
  });

  it('[H709] a SIGTERM right after a SIGHUP: the shutdown\'s line first, then the SIGHUP said ignored for it', async () => {
    const harness = startHarness({ ...twoWorkers(), HARNESS_LOGGER: 'default' });
    const { pid, pids } = await started(harness);
    // Within the SIGHUP's 250 ms window: its reload waits for its copies, and the stop wins.
    process.kill(pid, 'SIGHUP');
    process.kill(pid, 'SIGTERM');
    await expect(harness.exited()).resolves.toBe(0);
    // One stream (the default logger writes every line on stderr): the order is the order written.
    const stderr = harness.stderr();
    const stopping = stderr.indexOf('shutting down');
    const ignored = stderr.indexOf('SIGHUP ignored: the primary is shutting down');
    // Before (hostile t77): the SIGHUP's line came first, as if a shutdown ran before the one that started it.
    expect({ stopping: stopping >= 0, ignored: ignored >= 0, isInOrder: stopping < ignored }).toEqual({ stopping: true, ignored: true, isInOrder: true });
    expect(destroyedPids(harness)).toEqual([...pids].sort());
  });

  it('SIGHUP reloads the workers without stopping the service', async () => {
    const harness = startHarness(twoWorkers());
    const { pid, pids } = await started(harness);
    process.kill(pid, 'SIGHUP');
    const reloaded = await harness.waitForEvent('reloadComplete');
    expect(reloaded.replaced).toBe(2);
    const fresh = reloaded.pids as number[];
    expect(fresh.some((worker) => pids.includes(worker))).toBe(false);
    await waitUntilGone(pids);
    expect(fresh.every(isAlive)).toBe(true);
    expect(isAlive(pid)).toBe(true);
    process.kill(pid, 'SIGTERM');
    await expect(harness.exited()).resolves.toBe(0);
  });
});

// Orphans go within about 1 s on an idle machine (the watchdog polls every 100 ms and kills a
// loop stuck for 400 ms); the tests allow 30 s so that a loaded machine cannot fail them.
describe('orphan protection', () => {
  it('[F19] primary SIGKILLed: every worker runs _destroy and exits on its own', async () => {
    const harness = startHarness(twoWorkers());
    const { pid, pids } = await started(harness);
    process.kill(pid, 'SIGKILL');
    await waitUntilGone(pids, 30_000);
    expect(destroyedPids(harness)).toEqual([...pids].sort());
  });

  it('[F20] primary SIGKILLed while the workers are blocked: the watchdog kills them', async () => {
    // The harness prints "started" once every worker has answered that it is blocking now.
    const harness = startHarness({ ...twoWorkers({ heartbeat: false }), HARNESS_AFTER_START: 'block' });
    const { pid, pids } = await started(harness);
    expect(pids.every(isAlive)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await waitUntilGone(pids, 30_000);
  });

  it.each([
    ['responsive: after their _destroy', undefined],
    ['blocked: by the watchdog', 'block'],
  ])('[H98] primary SIGKILLed, workers %s: the processes the workers started themselves go with them', async (_case, afterStart) => {
    const harness = startHarness({ ...twoWorkers({ heartbeat: false }, 'workers/spawns-child.ts'), ...(afterStart ? { HARNESS_AFTER_START: afterStart } : {}) });
    const { pid, pids } = await started(harness);
    const children = (await harness.waitForCount('childSpawned', 2)).map((line) => line.pid as number);
    const detached = (await harness.waitForCount('detachedSpawned', 2)).map((line) => line.pid as number);
    expect([...children, ...detached].every(isAlive)).toBe(true);
    // A process of the test's own, in the workers' process group: never touched.
    const bystander = spawn('sleep', ['1000'], { stdio: 'ignore' });
    onCleanup(() => bystander.kill('SIGKILL'));
    process.kill(pid, 'SIGKILL');
    await waitUntilGone(pids, 30_000);
    // Before: both sleep processes lived on, orphans of orphans.
    await waitUntilGone(children, 30_000);
    expect(isAlive(bystander.pid!)).toBe(true);
    // Started with `detached: true`, to outlive its parent: left alone (the cleanup kills them).
    expect(detached.every(isAlive)).toBe(true);
  });

  // H137: the grandchild, started by a sh that SIGTERM ends, is init's child by the SIGKILL; before, it was missed.
  it.each([
    ['its child', '1'],
    ['its grandchild, under a sh that SIGTERM ends', 'grandchild'],
  ])('[H134][H137] primary SIGKILLed: a process a worker started that ignores SIGTERM (%s) is killed a second later, not left an orphan', async (_case, ignoring) => {
    const harness = startHarness({ ...twoWorkers({ heartbeat: false }, 'workers/spawns-child.ts'), SPAWNS_CHILD_IGNORING_TERM: ignoring });
    const { pid, pids } = await started(harness);
    const children = (await harness.waitForCount('childSpawned', 2)).map((line) => line.pid as number);
    expect(children.every(isAlive)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await waitUntilGone(pids, 30_000);
    // Before: SIGTERM only, then the worker exited, and these lived on (ppid 1).
    await waitUntilGone(children, 30_000);
  });

  // H182: the worker's cleanup stops midway (its loop blocked right after its SIGTERM ended the sh):
  // the watchdog kills what that cleanup had signalled, though init's child by then.
  // `echo`: the watchdogs are armed before the primary dies (only they can end a blocked worker).
  it('[H182] primary SIGKILLed, the worker blocked midway through ending its processes: the watchdog kills the grandchild its SIGTERM left to init', async () => {
    const harness = startHarness({ ...twoWorkers({ heartbeat: false }, 'workers/spawns-child.ts'), SPAWNS_CHILD_IGNORING_TERM: 'grandchild', SPAWNS_CHILD_BLOCK_ON_EXIT: '1', HARNESS_AFTER_START: 'echo' });
    const { pid, pids } = await started(harness);
    const grandchildren = (await harness.waitForCount('childSpawned', 2)).map((line) => line.pid as number);
    expect(grandchildren.every(isAlive)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await waitUntilGone(pids, 30_000);
    // Before: the watchdog looked in the worker's tree only, which the grandchild had left (ppid 1): it lived on.
    await waitUntilGone(grandchildren, 30_000);
  });

  // H196 (newcomer t23): `block` has the worker stuck before the primary dies; `stall` has its
  // loop held 700 ms as its channel closes, as a loaded machine does (load average 25 there):
  // ended by the watchdog when the loop was stuck 400 ms before the cleanup began, else by the
  // worker's own cleanup, which is left the grace since H205.
  it.each([
    ['blocked', { HARNESS_AFTER_START: 'block' }],
    ['stalled as it is orphaned', { HARNESS_AFTER_START: 'echo', SPAWNS_CHILD_STALL_MS: '700' }],
  ])('[H196] primary SIGKILLed, the worker %s: the watchdog freezes a shell loop that starts a sleep every 10 ms before it kills it, none is left to init', async (_case, env) => {
    const sleeps = uniqueSleeps();
    const harness = startHarness({
      HARNESS_OPTIONS: JSON.stringify({ workerCount: 1, heartbeat: false }),
      HARNESS_WORKER: 'workers/spawns-child.ts',
      SPAWNS_CHILD_LOOP: sleeps.seconds,
      ...env,
    });
    const { pid, pids } = await started(harness);
    const [shell] = (await harness.waitForCount('childSpawned', 1)).map((line) => line.pid as number);
    await until(() => sleeps.pids().length >= 3, 30_000, 'the loop running its sleeps');
    process.kill(pid, 'SIGKILL');
    await waitUntilGone([...pids, shell], 30_000);
    // Before: SIGKILLed while running, the shell started sleeps between the watchdog's look at
    // /proc and its own SIGKILL, and those went to init (newcomer t23: about 12 per worker).
    await until(() => sleeps.pids().length === 0, 30_000, 'no sleep left');
  });

  // H216 (hostile tester t24): a loop that ignores SIGTERM, its sleeps too. The worker's cleanup
  // resumed it after its SIGTERM while the watchdog, past its grace, froze and killed the tree:
  // resumed between that freeze and that kill, the shell started sleeps that went to init.
  it('[H216] primary SIGKILLed: a shell loop whose sleeps ignore SIGTERM is not resumed by the cleanup under the watchdog\'s kill, none is left to init', async () => {
    const sleeps = uniqueSleeps();
    const harness = startHarness({
      HARNESS_OPTIONS: JSON.stringify({ workerCount: 2, heartbeat: false }),
      HARNESS_WORKER: 'workers/spawns-child.ts',
      HARNESS_AFTER_START: 'echo',
      SPAWNS_CHILD_LOOP: sleeps.seconds,
      SPAWNS_CHILD_LOOP_IGNORING_TERM: '1',
      // The cleanup's SIGTERM and SIGCONT as the watchdog (2.6 s after the orphaning) begins its
      // kill: the tester's plain script took its whole destroyTimeoutMs, on a loaded machine.
      SPAWNS_CHILD_DESTROY_SYNC_MS: '2300,2500',
    });
    const { pid, pids } = await started(harness);
    const shells = (await harness.waitForCount('childSpawned', 2)).map((line) => line.pid as number);
    // A tree of some size, as the tester's: each signal the cleanup sends reads /proc first.
    await until(() => sleeps.pids().length >= 150, 30_000, 'the loops running their sleeps');
    process.kill(pid, 'SIGKILL');
    await waitUntilGone([...pids, ...shells], 30_000);
    await until(() => sleeps.pids().length === 0, 30_000, 'no sleep left');
  });

  // H205: the watchdog took a loop held 400 ms for one blocked for good, and killed the orphan
  // midway through its own cleanup; its grace (destroyTimeoutMs) is what such a cleanup has.
  it('[H205] primary SIGKILLed: an orphan whose _destroy holds its loop 800 ms finishes that cleanup before it exits', async () => {
    const markers = mkdtempSync(join(tmpdir(), 'ck-h205-'));
    onCleanup(() => rmSync(markers, { recursive: true, force: true }));
    const harness = startHarness({
      HARNESS_OPTIONS: JSON.stringify({ workerCount: 1, heartbeat: false }),
      HARNESS_WORKER: 'workers/destroy-sync-step.ts',
      // Its watchdog armed before the primary dies.
      HARNESS_AFTER_START: 'echo',
      DESTROY_SYNC_MS: '800',
      DESTROY_MARKER_DIR: markers,
    });
    const { pid, pids } = await started(harness);
    process.kill(pid, 'SIGKILL');
    await waitUntilGone(pids, 30_000);
    // Before: SIGKILLed by its watchdog 400 ms into the step, the file never written.
    expect(readdirSync(markers)).toEqual(pids.map(String));
  });

  it('[F20] the same for replacements, whose watchdog starts with their start-up: killed too', async () => {
    const harness = startHarness({ ...twoWorkers({ heartbeat: false }), HARNESS_AFTER_START: 'reload-block' });
    const { pid, pids } = await started(harness);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pids.every(isAlive)).toBe(true);
    process.kill(pid, 'SIGKILL');
    // Blocked for good: only the watchdog can end them (30 s bound, as above, for a loaded machine).
    await waitUntilGone(pids, 30_000);
  });
});
