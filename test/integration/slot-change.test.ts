import { describe, expect, it } from '@jest/globals';
import type { SlotChangeEvent } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

const summary = (event: SlotChangeEvent) => ({ slot: event.slot, worker: event.worker.id, previous: event.previous?.id, reason: event.reason });

describe('slotChange', () => {
  it('[H52] tells which worker serves a slot: its first worker, a restart after a kill, a reload\'s replacement once it took over', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const changes: SlotChangeEvent[] = [];
    const order: string[] = [];
    primary.on('slotChange', (event) => {
      changes.push(event);
      order.push(`slotChange ${event.worker.id}`);
    });
    primary.on('workerFork', ({ worker }) => order.push(`workerFork ${worker.id}`));
    const [first, second] = await primary.start();
    expect(changes.map(summary)).toEqual([
      { slot: 0, worker: first!.id, previous: undefined, reason: 'start' },
      { slot: 1, worker: second!.id, previous: undefined, reason: 'start' },
    ]);

    // A restart: the new worker serves slot 1 from its fork (the event comes just before it).
    const restarted = onceEvent<SlotChangeEvent>(primary, 'slotChange');
    process.kill(second!.pid!, 'SIGKILL');
    const restart = await restarted;
    expect(order.slice(-2)).toEqual([`slotChange ${restart.worker.id}`, `workerFork ${restart.worker.id}`]);
    expect(summary(restart)).toEqual({ slot: 1, worker: restart.worker.id, previous: second!.id, reason: 'restart' });
    await onceEvent(primary, 'workerReady', undefined, ({ worker }: { worker: { id: number } }) => worker.id === restart.worker.id);

    // A reload: each replacement takes its slot once ready, while the old worker still runs.
    changes.length = 0;
    const oldStates: string[] = [];
    primary.on('slotChange', ({ previous }) => oldStates.push(previous!.state));
    await primary.reload();
    expect(changes.map((event) => [event.slot, event.reason, event.previous?.id])).toEqual([
      [0, 'replace', first!.id],
      [1, 'replace', restart.worker.id],
    ]);
    expect(oldStates).toEqual(['ready', 'ready']);
    expect(changes.every((event) => event.worker.state === 'ready')).toBe(true);
    expect(primary.workers.map((worker) => [worker.slot, worker.id]).sort()).toEqual(changes.map((event) => [event.slot, event.worker.id]).sort());
    await primary.shutdown();
  });
});
