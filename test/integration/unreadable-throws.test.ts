/**
 * Issue 11, kind 2: turning a thrown value into an error reply never throws. A handler that
 * throws something unreadable (a throwing getter, a Proxy, a throwing toString...) gets its
 * caller a RemoteError with whatever could be read, and the process running it keeps running.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, RemoteError, type WorkerHandle } from '../../src/index.js';
import { kUnreadableKinds, makeUnreadable, type UnreadableKind } from '../fixtures/unreadable-values.js';
import { testOptions, track } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

const kFixture = 'throws-unreadable-worker.ts';

/** What the caller must at least see, for the kinds where something is readable. */
const kReadable: Partial<Record<UnreadableKind, { remoteName?: string; remoteMessage?: string | RegExp }>> = {
  // [H111] Its class, and that its message could not be read: not the getter's own error, nor a bare "Error".
  messageGetterClass: { remoteName: 'DbError', remoteMessage: '(its message could not be read)' },
  enumerableGetter: { remoteName: 'Error', remoteMessage: 'has a bad field' },
  nameGetter: { remoteMessage: 'bad name' },
  stackGetter: { remoteName: 'Error', remoteMessage: 'bad stack' },
  codeGetter: { remoteName: 'Error', remoteMessage: 'bad code' },
  transparentProxy: { remoteName: 'RangeError', remoteMessage: 'proxied' },
  toStringThrows: { remoteMessage: /toString throws/ },
  nullPrototype: { remoteMessage: /no prototype/ },
  symbol: { remoteMessage: /Symbol\(thrown\)/ },
  dataUnclonable: { remoteName: 'Error', remoteMessage: 'unclonable field' },
};

class UnreadablePrimary extends ClusterPrimary {
  _onMessage_throwUnreadable(payload: { kind: UnreadableKind }): never {
    throw makeUnreadable(payload.kind);
  }
}

async function start(serialization: 'json' | 'advanced') {
  const primary = track(new UnreadablePrimary(testOptions(kFixture, { serialization })));
  const [worker] = await primary.start();
  const pid = worker!.pid;
  return { primary, worker: worker!, pid };
}

function expectReadable(error: unknown, kind: UnreadableKind): void {
  expect(error).toBeInstanceOf(RemoteError);
  const remote = error as RemoteError;
  expect(typeof remote.remoteName).toBe('string');
  expect(typeof remote.remoteMessage).toBe('string');
  expect(remote.message).toContain(remote.remoteMessage);
  const wanted = kReadable[kind];
  if (wanted?.remoteName) expect(remote.remoteName).toBe(wanted.remoteName);
  if (wanted?.remoteMessage) expect(remote.remoteMessage).toMatch(wanted.remoteMessage);
}

describe('thrown values that cannot be read', () => {
  it.each(['json', 'advanced'] as const)('[H2] a worker handler that throws one answers with a RemoteError and the worker lives on (%s)', async (serialization) => {
    const { primary, worker, pid } = await start(serialization);
    for (const kind of kUnreadableKinds) {
      const thrown = await primary.send(worker, 'throw', { kind }).catch((error: unknown) => error);
      expectReadable(thrown, kind);
      const rejected = await primary.send(worker, 'reject', { kind }).catch((error: unknown) => error);
      expectReadable(rejected, kind);
    }
    expect(primary.workers.map((handle: WorkerHandle) => handle.pid)).toEqual([pid]);
    await expect(primary.send(worker, 'pid')).resolves.toBe(pid);
  });

  it('[H2] a worker notification handler that throws one reports a readable error on the worker', async () => {
    const { primary, worker, pid } = await start('json');
    for (const kind of kUnreadableKinds) primary.notify(worker, 'throw', { kind });
    const errors = (await primary.send(worker, 'errors')) as string[];
    expect(errors).toHaveLength(kUnreadableKinds.length);
    for (const line of errors) expect(line).toMatch(/^\w*Error: ./);
    await expect(primary.send(worker, 'pid')).resolves.toBe(pid);
  });

  it.each(['json', 'advanced'] as const)('[H2] a primary handler that throws one answers the worker with a RemoteError; the primary lives on (%s)', async (serialization) => {
    const { primary, worker } = await start(serialization);
    for (const kind of kUnreadableKinds) {
      const answer = (await primary.send(worker, 'askPrimary', { kind })) as { remoteName?: string; remoteMessage?: string };
      expect(typeof answer.remoteName).toBe('string');
      expect(typeof answer.remoteMessage).toBe('string');
      const wanted = kReadable[kind];
      if (wanted?.remoteName) expect(answer.remoteName).toBe(wanted.remoteName);
      if (wanted?.remoteMessage) expect(answer.remoteMessage).toMatch(wanted.remoteMessage);
    }
  });

  it('[H2] a primary notification handler that throws one reports a readable error on the primary', async () => {
    const { primary, worker } = await start('json');
    const errors: string[] = [];
    primary.on('error', (error: Error) => errors.push(`${error.name}: ${error.message}`));
    for (const kind of kUnreadableKinds) await primary.send(worker, 'notifyPrimary', { kind });
    await until(() => errors.length === kUnreadableKinds.length, 30_000, 'one error per notification');
    for (const line of errors) expect(line).toMatch(/^\w*Error: ./);
    await expect(primary.send(worker, 'pid')).resolves.toBe(worker.pid);
  });
});

describe('listeners that throw values that cannot be read', () => {
  it('[H2] a workerMessage listener that throws one is reported as a readable error; the message is still answered', async () => {
    const { primary, worker } = await start('json');
    const errors: string[] = [];
    primary.on('error', (error: Error) => errors.push(`${error.name}: ${error.message}`));
    primary.on('workerMessage', () => {
      throw makeUnreadable('revokedProxy');
    });
    const answer = (await primary.send(worker, 'askPrimary', { kind: 'messageGetter' })) as { remoteMessage?: string };
    expect(typeof answer.remoteMessage).toBe('string');
    expect(errors).toEqual([expect.stringMatching(/^Error: A listener of "workerMessage" threw/)]);
  });
});
