import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError, NoWorkerAvailableError, type WorkerHandle } from '../../src/index.js';
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

  it('[H742] spreads tags that come and go over the workers, keeps a tag in use among them, and refuses a tag over 1 024 characters', async () => {
    const primary = testPrimary({ workerCount: 4 });
    const workers = await primary.start();
    const each = (picks: number) => new Map(workers.map((worker) => [worker.id, picks]));
    // Before (hostile t84 #3): every new rotation started at the first worker, so these were all worker 1's.
    expect(countPicks(() => primary.roundRobin({ tag: `req-${Math.random()}` }), 2_000)).toEqual(each(500));
    let turn = 0;
    expect(countPicks(() => primary.roundRobin({ tag: `tenant-${turn++ % 1_100}` }), 5_500)).toEqual(each(1_375));
    // A tag picked among churn keeps its rotation: each four picks of it go to the four workers.
    const hot: number[] = [];
    for (let i = 0; i < 3_000; i++) {
      hot.push(primary.roundRobin({ tag: 'hot' }).id);
      primary.roundRobin({ tag: `churn-${i}` });
    }
    for (let i = 0; i < hot.length; i += 4) expect(new Set(hot.slice(i, i + 4)).size).toBe(4);
    expect(workers).toContain(primary.roundRobin({ tag: 'k'.repeat(1_024) }));
    const tooLong = () => primary.roundRobin({ tag: 'k'.repeat(1_025) });
    expect(tooLong).toThrow(InvalidArgumentError);
    expect(tooLong).toThrow(
      'The "tag" given to roundRobin() is 1025 characters long; a tag is at most 1024: it names a rotation (a queue, a tenant) kept while in use. Pass a shorter tag, such as a hash of this one.',
    );
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
