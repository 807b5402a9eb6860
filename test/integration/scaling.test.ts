import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { onceEvent } from '../helpers/wait.js';
import { isNoStall } from '../helpers/load-stall.js';

describe('named workers and scaling', () => {
  it('finds workers by name, keeps names unique, and keeps name, roles and slot across restarts', async () => {
    const primary = testPrimary();
    await primary.start();
    const [db] = await primary.fork({ name: 'db', roles: ['storage'] });
    expect(primary.workerByName('db')).toBe(db);
    await expect(primary.fork({ name: 'db' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(primary.send(db!, 'whoami')).resolves.toMatchObject({ name: 'db', roles: ['storage'], slot: db!.slot });
    const restarted = onceEvent(primary, 'workerReady');
    process.kill(db!.pid!, 'SIGKILL');
    const { worker } = await restarted;
    expect(worker).toMatchObject({ name: 'db', roles: ['storage'], slot: db!.slot });
    expect(primary.workerByName('db')).toBe(worker);
    expect(primary.roundRobin({ tag: 'x', role: 'storage' })).toBe(worker);
    expect(() => primary.roundRobin({ role: 'io' })).toThrow("No ready worker with role 'io'");
    // The old option name is refused with an error that names the new one.
    await expect(primary.fork({ tags: ['io'] } as never)).rejects.toThrow('The "tags" option must be renamed to "roles" (same values).');
    await primary.stopWorker(worker);
    expect(primary.workerByName('db')).toBeUndefined();
    const [again] = await primary.fork({ name: 'db' });
    expect(again!.name).toBe('db');
  });

  it('with workerCount 0, start() forks nothing and fork() adds the named workers', async () => {
    const primary = testPrimary({ workerCount: 0 });
    const forks: unknown[] = [];
    primary.on('workerFork', (event) => forks.push(event));
    await expect(primary.start()).resolves.toEqual([]);
    expect(primary.state).toBe('running');
    expect(forks).toEqual([]);
    const [cache] = await primary.fork({ name: 'cache' });
    expect(primary.workers).toEqual([cache]);
    await expect(primary.shutdown()).resolves.toMatchObject({ graceful: [cache] });
  });

  it('[H587] a scale-down that stops a named worker says so: its name is free, and the scale-up after it starts unnamed workers', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const warnings: Error[] = [];
    primary.on('error', (error) => isNoStall(error) && warnings.push(error));
    await primary.start();
    const [cache] = await primary.fork({ name: 'cache' });
    expect(cache!.slot).toBe(2);
    // Newcomer t60: `clusterkit scale app 1` stopped "cache" without a word, then every sendTo('cache') failed.
    await primary.scale(1);
    expect(warnings).toEqual([expect.objectContaining({ name: 'NamedWorkerStoppedError', code: 'ERR_NAMED_WORKER_STOPPED', names: ['cache'], from: 3, to: 1 })]);
    expect(warnings[0]!.message).toBe(
      'Scaling from 3 to 1 worker stopped the named worker "cache": a scale-down stops the highest slots first, named or not. ' +
        'Its name is free from now on: sendTo() and workerByName() find no worker by it, and a later scale-up starts unnamed workers. ' +
        'Start it again with fork({ name }), or keep named workers out of scale(): fork them before scaling the others, or scale to a count that keeps their slots.',
    );
    expect(primary.workerByName('cache')).toBeUndefined();
    // A scale-down of unnamed workers only says nothing.
    await primary.scale(3);
    await primary.scale(2);
    expect(warnings).toHaveLength(1);
  });

  it('[H631] a warning nobody listens for is a WARN line of the primary\'s own log, not a process warning', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 1, logger });
    const processWarnings: Error[] = [];
    const onWarning = (warning: Error) => processWarnings.push(warning);
    process.on('warning', onWarning);
    onCleanup(() => process.off('warning', onWarning));
    await primary.start();
    await primary.fork({ name: 'cache' });
    // Retest t61 L2: `(node:13787) [ERR_NAMED_WORKER_STOPPED] NamedWorkerStoppedError: ...`, no `[svc] WARN` line.
    await primary.scale(1);
    expect(text()).toMatch(/WARN Scaling from 2 to 1 worker stopped the named worker "cache": .* err=ERR_NAMED_WORKER_STOPPED/);
    // A process warning is emitted on the next tick: one turn later, none came.
    await new Promise((resolve) => setImmediate(resolve));
    expect(processWarnings.filter((warning) => (warning as { code?: string }).code === 'ERR_NAMED_WORKER_STOPPED')).toEqual([]);
  });

  it.each([1, 0])('[H714] a scale-down of a slot whose worker crashed (slot %i), its restart waiting out its back-off, drops that slot first, stops nothing there and says its restart was cancelled', async (crashedSlot) => {
    // Hostile t79: the scale reported the dead worker as stopped by it (`failed` with its crash's exit code, or `graceful` after an exit 0).
    // Retest t80: with slot 0 the one in back-off, the scale stopped slot 1's ready worker and kept the empty slot; nothing served.
    const primary = testPrimary({ workerCount: 2, restart: { backoff: { initialMs: 60_000 } } });
    await primary.start();
    const victim = primary.workers.find((worker) => worker.slot === crashedSlot)!;
    const survivor = primary.workers.find((worker) => worker.slot !== crashedSlot)!;
    const crashed = onceEvent(primary, 'workerCrash');
    process.kill(victim.pid!, 'SIGKILL');
    expect(await crashed).toMatchObject({ restartDelayMs: 60_000 });
    const forks: unknown[] = [];
    primary.on('workerFork', (event) => forks.push(event));
    const complete = onceEvent(primary, 'scaleComplete');
    await expect(primary.scale(1)).resolves.toEqual([survivor]);
    const { stopped } = await complete;
    expect({ graceful: stopped.graceful, failed: stopped.failed, killed: stopped.killed, restartsCancelled: stopped.restartsCancelled }).toEqual({ graceful: [], failed: [], killed: [], restartsCancelled: 1 });
    expect(primary.workers).toEqual([survivor]);
    expect(survivor.state).toBe('ready');
    expect(primary.failingSlots()).toEqual([]);
    // Its restart is cancelled: the slot is gone, and a scale back up forks it anew.
    await primary.scale(2);
    expect(forks).toHaveLength(1);
    expect(primary.workers.map((worker) => worker.slot).sort()).toEqual([0, 1]);
    expect(survivor.state).toBe('ready');
  });

  it('scales up and down gracefully, reusing slot numbers', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const up = await primary.scale(4);
    expect(up.map((worker) => worker.slot).sort()).toEqual([0, 1, 2, 3]);
    const exits: Array<{ expected: boolean; code: number | null }> = [];
    primary.on('workerExit', (event) => exits.push(event));
    const down = await primary.scale(1);
    expect(down.map((worker) => worker.slot)).toEqual([0]);
    expect(exits).toHaveLength(3);
    expect(exits.every((exit) => exit.expected && exit.code === 0)).toBe(true);
    const back = await primary.scale(3);
    expect(back.map((worker) => worker.slot).sort()).toEqual([0, 1, 2]);
    // A count that is no count is an argument error (H356: scale(0) is allowed, it stops every worker).
    await expect(primary.scale(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
  it('[H293] a scale-down stops the highest slot numbers, not the newest workers: those left keep slots 0..N-1', async () => {
    const primary = testPrimary({ workerCount: 3 });
    try {
      const workers = await primary.start();
      // Slot 0 stopped and forked again (as a refill after a crash loop does): its slot is now
      // the newest, which a scale-down used to stop first, leaving slots 1 and 2.
      await primary.stopWorker(workers.find((worker) => worker.slot === 0)!);
      const [zero] = await primary.fork();
      expect(zero!.slot).toBe(0);
      const down = await primary.scale(2);
      expect(down.map((worker) => worker.slot).sort()).toEqual([0, 1]);
      const again = await primary.scale(1);
      expect(again.map((worker) => worker.slot)).toEqual([0]);
    } finally {
      await primary.shutdown();
    }
  });
});
