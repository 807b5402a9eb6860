/**
 * H352: a RemoteError keeps the thrown error's `cause` chain. A worker's handler that threw
 * `new Error('db down', { cause: ... ECONNREFUSED ... })` gave the caller a RemoteError with no
 * cause at all: the root cause on-call needs was dropped. Now the caller's RemoteError has
 * `cause` (a plain Error with the remote name, message, code, stack and fields), whose own
 * `cause` goes on down the chain, bounded; in every direction, `_init`'s and `_destroy`'s
 * errors included.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, RemoteError, WorkerStartupError, type PrimaryOptions, type WorkerHandle } from '../../src/index.js';
import { causeThrown, summarizeCauses, type CauseKind, type CauseSummary, type RemoteCauses } from '../fixtures/cause-thrown.js';
import { testOptions, track } from '../helpers/primary.js';
import { record } from '../helpers/wait.js';

const kFixture = 'cause-throw-worker.ts';

class CausePrimary extends ClusterPrimary {
  _onMessage_throwCause(payload: { kind: CauseKind }): never {
    throw causeThrown(payload.kind);
  }
}

async function start(extra: PrimaryOptions = {}) {
  const primary = track(new CausePrimary(testOptions(kFixture, extra)));
  const [worker] = await primary.start();
  return { primary, worker: worker! };
}

/** The chain `causeThrown('chain')` must arrive with: db down's cause, then its cause. */
function expectChain(summary: RemoteCauses): void {
  expect(summary).toMatchObject({ isRemoteError: true, remoteMessage: 'db down', remoteCode: 'EDB' });
  const plain = { isError: true, isRemoteError: false, hasFrames: true };
  expect(summary.causes).toEqual([
    expect.objectContaining({ ...plain, name: 'Error', message: 'pool exhausted', code: 'EPOOL', stackHead: 'Error: pool exhausted' }),
    expect.objectContaining({ ...plain, name: 'Error', message: 'ECONNREFUSED 5432', code: 'ECONNREFUSED', port: 5432, address: '127.0.0.1', stackHead: 'Error: ECONNREFUSED 5432' }),
  ]);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
}

describe('[H352] a RemoteError keeps the thrown error cause chain', () => {
  it.each(['json', 'advanced'] as const)('[H352] a worker handler throwing an error with a chain of 3 gets the primary a RemoteError whose cause chain has the messages, codes and fields (%s)', async (serialization) => {
    const { primary, worker } = await start({ serialization });
    const error = await rejection(primary.send(worker, 'throwCause', { kind: 'chain' }));
    expect(error).toBeInstanceOf(RemoteError);
    const remote = error as RemoteError;
    const cause = remote.cause as Error & { code?: string; cause?: Error & { code?: string; port?: number } };
    expect(cause).toBeInstanceOf(Error);
    expect(cause).not.toBeInstanceOf(RemoteError);
    expect(cause.message).toBe('pool exhausted');
    expect(cause.code).toBe('EPOOL');
    expect(cause.cause!.message).toBe('ECONNREFUSED 5432');
    expect(cause.cause!.code).toBe('ECONNREFUSED');
    expect(cause.cause!.port).toBe(5432);
    expect(cause.cause!.cause).toBeUndefined();
    expectChain(summarizeCauses(error));
  });

  it('[H352] a primary handler throwing an error with a cause chain gets the worker a RemoteError with that chain', async () => {
    const { primary, worker } = await start();
    expectChain((await primary.send(worker, 'askPrimary', { kind: 'chain' })) as RemoteCauses);
  });

  it('[H352] a sendTo() whose target throws an error with a cause chain gets the sender a RemoteError with that chain', async () => {
    const { primary, worker } = await start();
    await primary.fork({ name: 'peer' });
    expectChain((await primary.send(worker, 'askPeer', { target: 'peer', kind: 'chain' })) as RemoteCauses);
  });

  it('[H352] an _init that throws an error with a cause chain: the startup error\'s RemoteError has the chain', async () => {
    const primary = track(new CausePrimary(testOptions(kFixture, { restart: false, env: { CAUSE_INIT_THROWS: '1' } })));
    const error = await rejection(primary.start());
    expect(error).toBeInstanceOf(WorkerStartupError);
    expectChain(summarizeCauses((error as WorkerStartupError).cause));
  });

  it('[H352] a _destroy that throws an error with a cause chain: the workerError RemoteError has the chain', async () => {
    const primary = track(new CausePrimary(testOptions(kFixture, { env: { CAUSE_DESTROY_THROWS: '1' } })));
    const [worker] = await primary.start();
    const errors = record<{ worker: WorkerHandle; error: Error }>(primary, 'workerError');
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    expect(report.failed).toEqual([worker]);
    expect(errors.events).toHaveLength(1);
    expect(errors.events[0]!.error.message).toMatch(/did not stop cleanly: its _destroy\(\) threw Error: db down$/);
    expectChain(summarizeCauses(errors.events[0]!.error));
  });

  it.each(['json', 'advanced'] as const)('[H352] hostile causes (a throwing getter, 10,000 deep, itself, 50 MB): the caller gets a bounded RemoteError, the worker lives and answers the request behind (%s)', async (serialization) => {
    const { primary, worker } = await start({ serialization });
    const pid = worker.pid;
    const expected: Record<Exclude<CauseKind, 'chain'>, (causes: CauseSummary[]) => void> = {
      getter: (causes) => expect(causes).toEqual([]),
      self: (causes) => expect(causes).toEqual([]),
      deep: (causes) => {
        // 8 causes deep, each with its message: the chain is cut below the eighth.
        expect(causes.map((cause) => cause.message)).toEqual(Array.from({ length: 8 }, (_, index) => `cause ${9_999 - index}`));
      },
      huge: (causes) => {
        expect(causes).toHaveLength(1);
        expect(causes[0]).toMatchObject({ name: 'TypeError', isError: true });
        expect(causes[0]!.message).toMatch(/^65536:M+… \(50000000 characters, cut to 65536\)$/);
      },
    };
    for (const [kind, check] of Object.entries(expected)) {
      const thrown = rejection(primary.send(worker, 'throwCause', { kind }));
      const behind = primary.send(worker, 'pid');
      const summary = summarizeCauses(await thrown);
      expect(summary).toMatchObject({ isRemoteError: true });
      check(summary.causes);
      await expect(behind).resolves.toBe(pid);
    }
    expect(primary.workers.map((handle) => handle.pid)).toEqual([pid]);
  });
});
