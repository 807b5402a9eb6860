/**
 * Keys tied to a worker's life: `set` / `compareAndSet` with `{ ephemeral: true }` are removed,
 * with a `storeChange`, when the worker that wrote them exits. The leader election of
 * docs/shared-store.md recovers from a SIGKILL of the leader.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, type StoreChange, type WorkerHandle } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

describe('ephemeral store keys', () => {
  it('[F52] the documented leader election elects a new leader after the leader is SIGKILLed; its ephemeral keys go with it', async () => {
    const primary = track(new ClusterPrimary(testOptions('leader-worker.ts', { workerCount: 2, heartbeat: false })));
    await primary.start();
    const leaderId = primary.store.get('leader') as number;
    const leader = primary.workerById(leaderId)!;
    const other = primary.workers.find((worker) => worker !== leader)!;
    const op = (worker: WorkerHandle, name: string, ...args: unknown[]) => primary.send(worker, 'storeOp', { op: name, args });
    // A key is tied to the worker that last wrote it ephemerally; a plain write unties it, an increment does not.
    await op(leader, 'set', 'mine', 1, { ephemeral: true });
    await op(leader, 'increment', 'mine');
    await op(leader, 'set', 'taken', 1, { ephemeral: true });
    await op(other, 'compareAndSet', 'taken', 1, 2, { ephemeral: true });
    await op(leader, 'set', 'untied', 1, { ephemeral: true });
    primary.store.set('untied', 2);
    await expect(op(leader, 'set', 'bad', 1, { ephemeral: 'yes' })).rejects.toMatchObject({ remoteCode: 'ERR_INVALID_ARGUMENT' });

    const changes = record<StoreChange>(primary, 'storeChange');
    const elected = onceEvent<StoreChange>(primary, 'storeChange', 30_000, (change) => change.key === 'leader' && !change.deleted);
    process.kill(leader.pid!, 'SIGKILL');
    const { value: next } = await elected;
    changes.stop();
    expect(next).not.toBe(leaderId);
    const removals = changes.events.filter((change) => change.deleted);
    expect(Object.fromEntries(removals.map(({ key, previous }) => [key, previous]))).toEqual({ leader: leaderId, mine: 2 });
    expect(removals).toHaveLength(2);
    expect(removals.every((change) => change.source !== 'primary' && change.source.id === leaderId)).toBe(true);
    expect(Object.fromEntries(primary.store.entries())).toEqual({ taken: 2, untied: 2, leader: next });
    // The replacement joins the election without winning it: one leader, a live one.
    await until(() => primary.workers.filter((worker) => worker.state === 'ready').length === 2, 60_000, 'the replacement');
    const verdicts = await Promise.all(primary.workers.map(async (worker) => [worker.id, await primary.send(worker, 'isLeader')]));
    expect(verdicts.filter(([, isLeader]) => isLeader)).toEqual([[next, true]]);
  });
});
