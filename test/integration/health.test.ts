import { describe, expect, it } from '@jest/globals';
import { WorkerExitedError, type WorkerHealth } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

const fastHeartbeat = { heartbeat: { intervalMs: 100, timeoutMs: 1_000 } };

describe('heartbeat', () => {
  it('[F13][F37] detects a blocked event loop, kills the worker and replaces it; its requests reject at detection', async () => {
    const primary = testPrimary(fastHeartbeat);
    const [worker] = await primary.start();
    const pending = primary.send(worker!, 'slow', { ms: 60_000 }, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    const unresponsive = onceEvent(primary, 'workerUnresponsive');
    const exit = onceEvent(primary, 'workerExit');
    const replaced = onceEvent(primary, 'workerReady');
    primary.notify(worker!, 'block', { ms: -1 });
    const { silentMs } = await unresponsive;
    expect(silentMs).toBeGreaterThan(1_000);
    await expect(exit).resolves.toMatchObject({ worker, signal: 'SIGKILL', expected: false });
    await expect(pending).resolves.toBeInstanceOf(WorkerExitedError);
    const { worker: replacement } = await replaced;
    await expect(primary.send(replacement, 'echo', 'fresh')).resolves.toBe('fresh');
  });

  it('reports memory and event-loop delay per worker in stats()', async () => {
    const primary = testPrimary({ ...fastHeartbeat, workerCount: 2 });
    const workers = await primary.start();
    await until(() => primary.stats().every((row) => row.rssBytes !== undefined && row.eventLoopDelayMs !== undefined), 5_000, 'two heartbeat answers from every worker (the first measures no delay)');
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

  it('reports event-loop delay as lateness: a worker blocked for 300 ms shows it, an idle one shows next to none', async () => {
    const primary = testPrimary({ ...fastHeartbeat, workerCount: 2 });
    const [busy, idle] = await primary.start();
    await until(() => primary.stats().every((row) => row.rssBytes !== undefined), 5_000, 'a heartbeat answer from every worker');
    await primary.send(busy!, 'block', { ms: 300 });
    await until(() => (busy!.health?.eventLoopDelayP99Ms ?? 0) > 100, 5_000, 'the blocked worker reporting its delay');
    // The delay histogram samples every 20 ms; an idle loop must not report that period as delay.
    expect(idle!.health?.eventLoopDelayMs).toBeLessThan(15);
  });

  it('reports CPU use per worker: one that spins shows more than an idle one', async () => {
    // Answers a second apart: polling every 20 ms sees each of them, even on a busy machine.
    const primary = testPrimary({ heartbeat: { intervalMs: 1_000, timeoutMs: 20_000 }, workerCount: 2 });
    const [busy, idle] = await primary.start();
    await until(() => primary.stats().every((row) => row.cpuPercent !== undefined), 10_000, 'a heartbeat answer from every worker');
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
      15_000,
      'two heartbeat answers after the spin',
    );
    await spin;
    const busiest = Math.max(...[...answers].map((health) => health.cpuPercent ?? 0));
    expect(busiest).toBeGreaterThan(idle!.health!.cpuPercent!);
  });

  it('replaces a worker whose RSS stays over maxMemoryMb gracefully: replacement first, then the old one stops', async () => {
    const primary = testPrimary({ ...fastHeartbeat, maxMemoryMb: 300 });
    const [worker] = await primary.start();
    const order = record(primary, 'workerReady');
    const limit = onceEvent(primary, 'workerMemoryLimit');
    const oldExit = onceEvent(primary, 'workerExit', 15_000, (event: { worker: unknown }) => event.worker === worker);
    await primary.send(worker!, 'grow', { mb: 400 });
    await expect(limit).resolves.toMatchObject({ worker, limitBytes: 300 * 1024 * 1024 });
    await expect(oldExit).resolves.toMatchObject({ code: 0, expected: true });
    expect(order.events).toHaveLength(1);
    const replacement = order.events[0].worker;
    expect(replacement.slot).toBe(worker!.slot);
    expect(primary.workers).toEqual([replacement]);
  });

  it('[F47] does not blame workers for silence while the primary itself was stalled', async () => {
    const primary = testPrimary(fastHeartbeat);
    const [worker] = await primary.start();
    await until(() => worker!.health !== undefined, 5_000, 'first heartbeat');
    const unresponsive = record(primary, 'workerUnresponsive');
    const stalledUntil = Date.now() + 1_800;
    while (Date.now() < stalledUntil) {
      // the primary's event loop is blocked, as by a huge synchronous send
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(unresponsive.events).toEqual([]);
    await expect(primary.send(worker!, 'echo', 'alive')).resolves.toBe('alive');
  });
});
