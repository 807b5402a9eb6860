import { describe, expect, it } from '@jest/globals';
import { WorkerExitedError, type WorkerHealth } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

/** For the tests about hang detection: a worker silent for 1 s is unresponsive. */
const fastHeartbeat = { heartbeat: { intervalMs: 100, timeoutMs: 1_000 } };
/**
 * For the tests about the figures a heartbeat carries: frequent answers, but a timeout no busy
 * machine reaches, so no worker is killed for being slow to answer while the test runs.
 */
const frequentReports = { heartbeat: { intervalMs: 100, timeoutMs: 60_000 } };

describe('heartbeat', () => {
  it('[F13][F37] detects a blocked event loop, kills the worker and replaces it; its requests reject at detection', async () => {
    const primary = testPrimary(fastHeartbeat);
    const [worker] = await primary.start();
    const pending = primary.send(worker!, 'slow', { ms: 60_000 }, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    const unresponsive = onceEvent(primary, 'workerUnresponsive');
    const exit = onceEvent(primary, 'workerExit');
    const replaced = onceEvent(primary, 'workerReady');
    primary.notify(worker!, 'block', { ms: -1 });
    // A backlog it will never read does not pass for a sign of life.
    for (let i = 0; i < 20; i++) primary.notify(worker!, 'echo', 'x'.repeat(256 * 1024));
    const { silentMs } = await unresponsive;
    expect(silentMs).toBeGreaterThan(1_000);
    await expect(exit).resolves.toMatchObject({ worker, signal: 'SIGKILL', expected: false });
    await expect(pending).resolves.toBeInstanceOf(WorkerExitedError);
    const { worker: replacement } = await replaced;
    await expect(primary.send(replacement, 'echo', 'fresh')).resolves.toBe('fresh');
  });

  it('does not take a worker that is reading a backlog of messages for a hung one', async () => {
    const primary = testPrimary({ heartbeat: { intervalMs: 100, timeoutMs: 1_500 } });
    const [worker] = await primary.start();
    const unresponsive = record(primary, 'workerUnresponsive');
    // 25 notifications of 256 KiB, each keeping the worker busy for 100 ms: 2.5 s of work, more
    // than the heartbeat timeout. The worker sends nothing meanwhile, and the pings wait behind
    // the backlog; but its event loop turns between messages and reads on, which the primary
    // sees as its writes to the worker completing.
    const padding = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 25; i++) primary.notify(worker!, 'block', { ms: 100, padding });
    await expect(primary.send(worker!, 'echo', 'done reading', { timeoutMs: 60_000 })).resolves.toBe('done reading');
    expect(unresponsive.events).toEqual([]);
    expect(worker!.state).toBe('ready');
  });

  it('reports memory and event-loop delay per worker in stats()', async () => {
    const primary = testPrimary({ ...frequentReports, workerCount: 2 });
    const workers = await primary.start();
    await until(() => primary.stats().every((row) => row.rssBytes !== undefined && row.eventLoopDelayMs !== undefined), 30_000, 'two heartbeat answers from every worker (the first measures no delay)');
    const stats = primary.stats();
    expect(stats.map((row) => row.id)).toEqual(workers.map((worker) => worker.id));
    for (const row of stats) {
      expect(row).toMatchObject({ state: 'ready', restarts: 0, pending: 0 });
      expect(row.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(row.heapUsedBytes).toBeGreaterThan(0);
      expect(row.eventLoopDelayMs).toBeGreaterThanOrEqual(0);
      expect(row.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(row.protocolErrors).toBe(0);
      expect(row.uptimeMs).toBeGreaterThan(0);
      expect(row.messagesIn).toBeGreaterThan(0);
    }
    expect(workers[0]!.health?.rssBytes).toBe(stats[0]!.rssBytes);
  });

  it('reports event-loop delay as lateness: a worker blocked for 300 ms shows it, an idle one beside it does not', async () => {
    // One answer a second: the answer covering the block stays readable for a second.
    const primary = testPrimary({ heartbeat: { intervalMs: 1_000, timeoutMs: 60_000 }, workerCount: 2 });
    const [busy, idle] = await primary.start();
    await until(() => busy!.health?.eventLoopDelayMs !== undefined && idle!.health?.eventLoopDelayMs !== undefined, 30_000, 'two heartbeat answers from both workers (the first measures no delay)');
    await primary.send(busy!, 'block', { ms: 300 });
    // A timer that could not run for 300 ms is at least 300 ms minus its 20 ms period late,
    // however busy the machine: that much lateness must show in the blocked worker's next answer.
    await until(() => (busy!.health!.eventLoopDelayP99Ms ?? 0) >= 280, 30_000, 'the blocked worker reporting its delay');
    const blocked = busy!.health!;
    const unblocked = idle!.health!;
    expect(blocked.eventLoopDelayP99Ms).toBeGreaterThan(unblocked.eventLoopDelayP99Ms!);
    expect(blocked.eventLoopDelayMs).toBeGreaterThan(0);
    expect(unblocked.eventLoopDelayMs).toBeGreaterThanOrEqual(0);
  });

  it('reports CPU use per worker: one that spins shows more than an idle one', async () => {
    // Answers a second apart: polling every 20 ms sees each of them, even on a busy machine.
    const primary = testPrimary({ heartbeat: { intervalMs: 1_000, timeoutMs: 20_000 }, workerCount: 2 });
    const [busy, idle] = await primary.start();
    // healthAgeMs: an answer came (on Linux the primary's own CPU reading can come first, H390).
    await until(() => primary.stats().every((row) => row.healthAgeMs !== undefined && row.cpuPercent !== undefined), 30_000, 'a heartbeat answer from every worker');
    // The ping that waited behind the spin is answered after the reply to 'block', and its
    // window holds the spin: collect the answers until two have come after that reply.
    const answers = new Set<WorkerHealth>();
    let hasReplied = false;
    let answersAfterReply = 0;
    const spin = primary.send(busy!, 'block', { ms: 800 }).then(() => (hasReplied = true));
    await until(
      () => {
        const health = busy!.health!;
        if (!answers.has(health)) {
          answers.add(health);
          if (hasReplied) answersAfterReply++;
        }
        return answersAfterReply >= 2;
      },
      30_000,
      'two heartbeat answers after the spin',
    );
    await spin;
    const busiest = Math.max(...[...answers].map((health) => health.cpuPercent ?? 0));
    expect(busiest).toBeGreaterThan(idle!.health!.cpuPercent!);
  });

  it('replaces a worker whose RSS stays over maxMemoryMb gracefully: replacement first, then the old one stops', async () => {
    // Filling 250 MB can keep the worker busy for seconds on a loaded machine: the long
    // heartbeat timeout keeps it from being killed as unresponsive while it does.
    const primary = testPrimary({ ...frequentReports, maxMemoryMb: 200 });
    const [worker] = await primary.start();
    const order = record(primary, 'workerReady');
    const limit = onceEvent(primary, 'workerMemoryLimit', 20_000);
    const oldExit = onceEvent(primary, 'workerExit', 30_000, (event: { worker: unknown }) => event.worker === worker);
    await primary.send(worker!, 'grow', { mb: 250 });
    await expect(limit).resolves.toMatchObject({ worker, limitBytes: 200 * 1024 * 1024 });
    await expect(oldExit).resolves.toMatchObject({ code: 0, expected: true });
    expect(order.events).toHaveLength(1);
    const replacement = order.events[0].worker;
    expect(replacement.slot).toBe(worker!.slot);
    expect(primary.workers).toEqual([replacement]);
  });

  it('[F47] does not blame workers for silence while the primary itself was stalled', async () => {
    const primary = testPrimary(fastHeartbeat);
    const [worker] = await primary.start();
    await until(() => worker!.health !== undefined, 30_000, 'first heartbeat');
    const unresponsive = record(primary, 'workerUnresponsive');
    const stalledUntil = Date.now() + 1_800;
    while (Date.now() < stalledUntil) {
      // the primary's event loop is blocked, as by a huge synchronous send
    }
    // The heartbeat ran after the stall (ticks, a ping, its answer) and blamed no one.
    await until(() => worker!.health!.at > stalledUntil, 30_000, 'a heartbeat answer after the stall');
    expect(unresponsive.events).toEqual([]);
    await expect(primary.send(worker!, 'echo', 'alive')).resolves.toBe('alive');
  });
});
