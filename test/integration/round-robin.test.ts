import { describe, expect, it } from '@jest/globals';
import { NoWorkerAvailableError, type WorkerHandle } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

function countPicks(pick: () => WorkerHandle, picks: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < picks; i++) {
    const worker = pick();
    counts.set(worker.id, (counts.get(worker.id) ?? 0) + 1);
  }
  return counts;
}

describe('roundRobin', () => {
  it('spreads 10 000 picks over 4 workers within 1 of 2 500 each, per tag, tags independent', async () => {
    const primary = testPrimary({ workerCount: 4 });
    await primary.start();
    // Interleave two tags: each rotates on its own, so neither disturbs the other.
    const io = new Map<number, number>();
    const cpu = new Map<number, number>();
    for (let i = 0; i < 10_000; i++) {
      const a = primary.roundRobin({ tag: 'io' });
      io.set(a.id, (io.get(a.id) ?? 0) + 1);
      if (i % 3 === 0) {
        const b = primary.roundRobin({ tag: 'cpu' });
        cpu.set(b.id, (cpu.get(b.id) ?? 0) + 1);
      }
    }
    expect(io.size).toBe(4);
    for (const count of io.values()) expect(Math.abs(count - 2_500)).toBeLessThanOrEqual(1);
    const cpuPicks = [...cpu.values()];
    expect(Math.max(...cpuPicks) - Math.min(...cpuPicks)).toBeLessThanOrEqual(1);
    const byDefault = countPicks(() => primary.roundRobin(), 400);
    expect([...byDefault.values()]).toEqual([100, 100, 100, 100]);
  });

  it('[F39] uses only ready workers: a stopping worker leaves, its replacement joins', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const [first, second] = await primary.start();
    const stopped = primary.stopWorker(first!);
    expect(countPicks(() => primary.roundRobin({ tag: 't' }), 10)).toEqual(new Map([[second!.id, 10]]));
    await stopped;
    const [added] = await primary.fork();
    const picks = countPicks(() => primary.roundRobin({ tag: 't' }), 10);
    expect(picks).toEqual(new Map([[second!.id, 5], [added!.id, 5]]));
    // A worker that never was picked under a tag comes first.
    const [fresh] = await primary.fork();
    expect(primary.roundRobin({ tag: 't' })).toBe(fresh);
  });

  it('[H728] a tag holding a NUL is a rotation of its own: it neither takes nor gives the rotation of another tag with a role', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    const [io] = await primary.fork({ roles: ['io'] });
    // Before (hostile t83 #6): rotations were keyed `${tag}\u0000${role}`, so this tag's rotation,
    // over every worker, was the one of tag 'jobs' with role 'io', which then picked workers without the role.
    primary.roundRobin({ tag: 'jobs\u0000io' });
    expect(countPicks(() => primary.roundRobin({ tag: 'jobs', role: 'io' }), 6)).toEqual(new Map([[io!.id, 6]]));
    // The other way: a role's rotation made first was taken by the tag with a NUL, which then picked only 'io' workers.
    primary.roundRobin({ tag: 'x', role: 'io' });
    expect(countPicks(() => primary.roundRobin({ tag: 'x\u0000io' }), 6).size).toBe(3);
  });

  it('throws NoWorkerAvailableError when no worker is ready', async () => {
    const primary = testPrimary();
    expect(() => primary.roundRobin()).toThrow(NoWorkerAvailableError);
    const [worker] = await primary.start();
    expect(primary.roundRobin()).toBe(worker);
    const exited = onceEvent(primary, 'workerExit');
    process.kill(worker!.pid!, 'SIGKILL');
    await exited;
    expect(() => primary.roundRobin()).toThrow(NoWorkerAvailableError);
  });
});
