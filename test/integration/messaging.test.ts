import { describe, expect, it } from '@jest/globals';
import {
  ClusterPrimary,
  InvalidArgumentError,
  MessageTimeoutError,
  NoHandlerError,
  NotSerializableError,
  RemoteError,
  WorkerExitedError,
  type WorkerHandle,
} from '../../src/index.js';
import type { ToPrimary, ToWorker } from '../fixtures/protocol.js';
import { testOptions, testPrimary, track } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

async function startedPrimary(extra = {}) {
  const primary = testPrimary(extra);
  const [worker] = await primary.start();
  return { primary, worker: worker! };
}

describe('replies', () => {
  it('resolves with sync, async, undefined and nested handler results', async () => {
    const { primary, worker } = await startedPrimary();
    await expect(primary.send(worker, 'greet', { name: 'Ada' })).resolves.toBe('hi Ada (greet)');
    await expect(primary.send(worker, 'asyncEcho', { deep: [1, { x: 'y' }] })).resolves.toEqual({ deep: [1, { x: 'y' }] });
    await expect(primary.send(worker, 'nothing')).resolves.toBeUndefined();
    await expect(primary.send(worker, 'nested')).resolves.toEqual({ a: { b: { c: [1, 2, 3] } }, list: [{ id: 1 }, { id: 2 }] });
    await expect(primary.send(worker.id, 'echo', 'by id')).resolves.toBe('by id');
  });

  it('lets a worker send to the primary and get the handler reply', async () => {
    class AddingPrimary extends ClusterPrimary<ToWorker, ToPrimary> {
      _onMessage_add(payload: { a: number; b: number }, from: WorkerHandle) {
        return payload.a + payload.b + from.id * 0;
      }
    }
    const primary = track(new AddingPrimary(testOptions()));
    const [worker] = await primary.start();
    await expect(primary.send(worker!, 'askPrimary', { type: 'add', payload: { a: 2, b: 3 } })).resolves.toBe(5);
  });

  it('answers a message without a handler method through respondWith in a listener', async () => {
    const { primary, worker } = await startedPrimary();
    primary.on('workerMessage', (message) => {
      if (message.type === 'slowPrimary') message.respondWith(Promise.resolve(`waited ${message.payload.ms}`));
    });
    await expect(primary.send(worker, 'askPrimary', { type: 'slowPrimary', payload: { ms: 5 } })).resolves.toBe('waited 5');
  });

  it('holds messages sent before the worker listens, and delivers them once it does (nothing is lost silently)', async () => {
    const primary = testPrimary({ env: { INIT_DELAY_MS: '200' } }, 'workers/init-slow.ts');
    const early: Array<Promise<unknown>> = [];
    // Sent the instant the process is forked: Node would drop them, clusterkit holds them.
    primary.on('workerFork', ({ worker }) => {
      early.push(primary.send(worker, 'echo', 'first'), primary.send(worker, 'counter'));
      primary.notify(worker, 'counter');
    });
    const [worker] = await primary.start();
    await expect(Promise.all(early)).resolves.toEqual(['first', 1]);
    await expect(primary.send(worker!, 'counter')).resolves.toBe(3);
  });

  it('[F32] keeps order within one worker for messages sent in one burst', async () => {
    const { primary, worker } = await startedPrimary();
    const replies = await Promise.all(Array.from({ length: 500 }, () => primary.send(worker, 'counter')));
    expect(replies).toEqual(Array.from({ length: 500 }, (_, index) => index + 1));
  });
});

describe('failures', () => {
  it('rejects with RemoteError keeping the remote name, message, code, stack and fields', async () => {
    const { primary, worker } = await startedPrimary();
    const error = await primary.send(worker, 'fail', { message: 'no such user', code: 'E_NO_USER' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    const remote = error as RemoteError;
    expect(remote.code).toBe('ERR_REMOTE');
    expect(remote.remoteName).toBe('TypeError');
    expect(remote.remoteMessage).toBe('no such user');
    expect(remote.remoteCode).toBe('E_NO_USER');
    expect(remote.remoteStack).toContain('_onMessage_fail');
    expect(remote.data).toEqual({ detail: { retryable: false } });
    expect(remote.message).toContain(`worker ${worker.id}`);
    await expect(primary.send(worker, 'failAsync', { message: 'async' })).rejects.toMatchObject({ remoteName: 'RangeError', remoteMessage: 'async' });
  });

  it('rejects a worker-to-primary request whose handler throws', async () => {
    class FailingPrimary extends ClusterPrimary<ToWorker, ToPrimary> {
      _onMessage_primaryFail(): never {
        throw new Error('primary says no');
      }
    }
    const primary = track(new FailingPrimary(testOptions()));
    const [worker] = await primary.start();
    const error = await primary.send(worker!, 'askPrimary', { type: 'primaryFail' }).catch((e: RemoteError) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).remoteMessage).toContain('primary says no');
  });

  it('rejects with NoHandlerError for unknown and hostile types, without touching prototypes', async () => {
    const { primary, worker } = await startedPrimary();
    const untyped = primary as unknown as ClusterPrimary;
    for (const type of ['unknownType', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const error = await untyped.send(worker, type, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NoHandlerError);
      expect((error as NoHandlerError).code).toBe('ERR_NO_HANDLER');
    }
    await expect(primary.send(worker, 'askPrimary', { type: 'constructor' })).rejects.toMatchObject({ remoteName: 'NoHandlerError' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expect(primary.send(worker, 'echo', 'still fine')).resolves.toBe('still fine');
  });

  it('names a near-miss handler the receiver does define (a misspelt name on one side), both ways', async () => {
    class AddingPrimary extends ClusterPrimary<ToWorker, ToPrimary> {
      _onMessage_add(payload: { a: number; b: number }) {
        return payload.a + payload.b;
      }
    }
    const primary = track(new AddingPrimary(testOptions()));
    const [worker] = await primary.start();
    const untyped = primary as unknown as ClusterPrimary;
    const error = (await untyped.send(worker!, 'eho', {}).catch((e: unknown) => e)) as NoHandlerError;
    expect(error).toBeInstanceOf(NoHandlerError);
    expect(error.nearMiss).toBe('echo');
    expect(error.message).toMatch(/^Worker \d+ \(pid \d+\) has no handler for "eho", but it has "_onMessage_echo": if one of the two names is misspelt, rename the method "_onMessage_eho" or send "echo"\.$/);
    // Nothing near: the message as before, no field.
    const far = (await untyped.send(worker!, 'unknownType', {}).catch((e: unknown) => e)) as NoHandlerError;
    expect(far.nearMiss).toBeUndefined();
    expect(far.message).toMatch(/Add a method named "_onMessage_unknownType"/);
    // A worker asking the primary: its NoHandlerError crosses back inside a RemoteError.
    await expect(primary.send(worker!, 'askPrimary', { type: 'ad', payload: {} })).rejects.toMatchObject({
      remoteName: 'NoHandlerError',
      remoteMessage: expect.stringContaining('it has "_onMessage_add"'),
    });
  });

  it('[F37][F38] rejects with MessageTimeoutError, frees the pending entry and drops the late reply', async () => {
    const { primary, worker } = await startedPrimary();
    const error = await primary.send(worker, 'hang', undefined, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTimeoutError);
    expect((error as MessageTimeoutError).code).toBe('ERR_MESSAGE_TIMEOUT');
    expect((error as MessageTimeoutError).message).toContain('"hang"');
    expect(primary.stats()[0]!.pending).toBe(0);
    // A late reply to an expired request is dropped without disturbing later requests.
    // The reply comes 1 s after the 50 ms deadline: late even if a busy machine delays the timer.
    await expect(primary.send(worker, 'slow', { ms: 1_000 }, { timeoutMs: 50 })).rejects.toBeInstanceOf(MessageTimeoutError);
    await expect(primary.send(worker, 'slow', { ms: 200 })).resolves.toBe('done');
  });

  it('[F35][F36] rejects at the call site for payloads that cannot cross IPC', async () => {
    const { primary, worker } = await startedPrimary();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const cases: unknown[] = [circular, { fn: () => 1 }, { big: 10n }, new Map([[1, 2]]), { when: Symbol('x') }];
    for (const payload of cases) {
      const error = await primary.send(worker, 'echo', payload).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotSerializableError);
      expect((error as NotSerializableError).code).toBe('ERR_NOT_SERIALIZABLE');
    }
    expect(() => primary.notify(worker, 'echo', circular)).toThrow(NotSerializableError);
    expect(primary.stats()[0]!.pending).toBe(0);
  });

  it('turns an unserializable reply into an error for the sender, not a crash', async () => {
    const { primary, worker } = await startedPrimary();
    const error = await primary.send(worker, 'badReply').catch((e: RemoteError) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).remoteName).toBe('NotSerializableError');
    await expect(primary.send(worker, 'echo', 1)).resolves.toBe(1);
  });

  it('rejects a bad message type at the call site', async () => {
    const { primary, worker } = await startedPrimary();
    const untyped = primary as unknown as ClusterPrimary;
    await expect(untyped.send(worker, '', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(untyped.send(worker, '$ready', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(untyped.send(worker, 42 as unknown as string, 1)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('[F29][F37] rejects all 100 in-flight requests with WorkerExitedError when the worker is SIGKILLed', async () => {
    const { primary, worker } = await startedPrimary();
    const inFlight = Array.from({ length: 100 }, () => primary.send(worker, 'slow', { ms: 20_000 }).catch((e: unknown) => e));
    await primary.send(worker, 'echo', 'flushed');
    const killedAt = Date.now();
    process.kill(worker.pid!, 'SIGKILL');
    const errors = await Promise.all(inFlight);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    for (const error of errors) {
      expect(error).toBeInstanceOf(WorkerExitedError);
      expect(error).toMatchObject({ code: 'ERR_WORKER_EXITED', workerId: worker.id, signal: 'SIGKILL' });
    }
    await expect(primary.send(worker, 'echo', 1)).rejects.toBeInstanceOf(WorkerExitedError);
  });
});

describe('foreign messages', () => {
  it('[F40] ignores raw messages from a worker and keeps working', async () => {
    const { primary, worker } = await startedPrimary();
    for (const message of ['ready', { cmd: 'foo' }, { type: 'greet', payload: {} }, { __ck: 1, m: [0] }, { __ck: 1, m: [null, 5, 'x', 1] }, { __ck: 1, m: [0, 1, 'echo', 1] }, [1, 2]]) {
      await primary.send(worker, 'sendRaw', { message });
    }
    await expect(primary.send(worker, 'echo', 'alive')).resolves.toBe('alive');
  });

  it('ignores raw messages from the primary on the worker side', async () => {
    const { primary, worker } = await startedPrimary();
    worker.clusterWorker.send('ready');
    worker.clusterWorker.send({ type: 'greet', payload: { name: 'raw' } });
    worker.clusterWorker.send({ __ck: 1, m: [1, 999_999, 0, 1] });
    await expect(primary.send(worker, 'echo', 'alive')).resolves.toBe('alive');
  });
});

describe('hostile messages (hostile t64)', () => {
  it('[H639] a forged error reply is cut to the bounds a clusterkit sender keeps', async () => {
    const { primary, worker } = await startedPrimary();
    await primary.send(worker, 'forgeErrorReply', { type: 'echo' });
    const error = (await primary.send(worker, 'echo', 1).then(() => undefined, (e: unknown) => e)) as RemoteError;
    // Before: a 5 MiB remoteMessage (and message), a 4,000-character code, a 200 KB data field.
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteName.length).toBeLessThanOrEqual(256);
    expect(error.remoteCode!.length).toBeLessThanOrEqual(256);
    expect(error.remoteMessage.length).toBeLessThanOrEqual(65_536);
    expect(error.remoteMessage).toMatch(/… \(5242880 characters, cut to 65536\)$/);
    expect(error.remoteStack!.length).toBeLessThanOrEqual(65_536);
    expect(error.message.length).toBeLessThan(65_536 + 1_000);
    expect((error.data!.big as string).length).toBeLessThanOrEqual(65_536);
    expect(error.data!.obj).toBeUndefined();
    expect(error.data!.small).toBe(7);
    await expect(primary.send(worker, 'echo', 'alive')).resolves.toBe('alive');
  });

  it('[H638] a notification of a type one edit from a handler is told once a window, not dropped without a word; one nothing is near is not told', async () => {
    class TickingPrimary extends ClusterPrimary<ToWorker, ToPrimary> {
      ticks = 0;
      _onMessage_tick() {
        this.ticks++;
      }
    }
    const primary = track(new TickingPrimary(testOptions()));
    const told: NoHandlerError[] = [];
    primary.on('error', (error) => {
      if (error instanceof NoHandlerError) told.push(error);
    });
    const [worker] = await primary.start();
    const untyped = primary as unknown as ClusterPrimary;
    // Before (hostile t64): `notify('tik')` 300,000 times, nothing said anywhere. In one frame, as a loop of notify() sends them.
    const records: unknown[] = [];
    for (let i = 0; i < 1_000; i++) records.push(3, 0, 'tik', i, 3, 0, 'nope', i);
    await primary.send(worker!, 'sendRaw', { message: { __ck: 1, m: records } });
    await untyped.send(worker!, 'echo', 'after');
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ code: 'ERR_NO_HANDLER', messageType: 'tik', nearMiss: 'tick', dropped: { count: 1, sender: `worker ${worker!.id} (pid ${worker!.pid})`, windowMs: 10_000 } });
    expect(told[0]!.message).toBe(
      `The primary has no handler for notification "tik" from worker ${worker!.id} (pid ${worker!.pid}), but it has "_onMessage_tick", so it was dropped. ` +
        'If one of the two names is misspelt, rename the method "_onMessage_tik" or notify "tick".',
    );
    expect(primary.ticks).toBe(0);
    // A request of such a type still rejects at its sender, with the near miss.
    await expect(primary.send(worker!, 'askPrimary', { type: 'tik' })).rejects.toMatchObject({ remoteName: 'NoHandlerError', remoteMessage: expect.stringContaining('it has "_onMessage_tick"') });
  });
});

describe('notify and broadcast', () => {
  it('delivers notifications without replies, in order with requests', async () => {
    const { primary, worker } = await startedPrimary();
    primary.notify(worker, 'counter');
    primary.notify(worker, 'counter');
    await expect(primary.send(worker, 'counter')).resolves.toBe(3);
  });

  it('delivers worker notifications to workerMessage listeners', async () => {
    const { primary, worker } = await startedPrimary();
    const seen = onceEvent(primary, 'workerMessage');
    await primary.send(worker, 'notifyPrimary', { type: 'lifecycle', payload: { event: 'hello', workerId: worker.id } });
    await expect(seen).resolves.toMatchObject({ type: 'lifecycle', isRequest: false, hasHandler: false, payload: { event: 'hello' }, worker });
  });

  it('returns one settled result per ready worker, one of them failing', async () => {
    const primary = testPrimary({ workerCount: 3 });
    await primary.start();
    const results = await primary.broadcast('failOnSlot', { slot: 1 });
    expect(results).toHaveLength(3);
    const bySlot = new Map(results.map((result) => [result.worker.slot, result]));
    expect(bySlot.get(0)).toMatchObject({ status: 'fulfilled', value: 0 });
    expect(bySlot.get(2)).toMatchObject({ status: 'fulfilled', value: 2 });
    const failed = bySlot.get(1)!;
    expect(failed.status).toBe('rejected');
    expect(failed.status === 'rejected' && failed.reason).toBeInstanceOf(RemoteError);
  });

  // The results are gathered without a promise per worker (broadcast.ts): each way a request
  // settles must still land in its worker's place, once.
  it('settles each worker of a broadcast on its own: timeout, abort, refusal, in worker order', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const workers = await primary.start();
    const timedOut = await primary.broadcast('hang', undefined, { timeoutMs: 200 });
    expect(timedOut.map((result) => result.worker)).toEqual(workers);
    for (const result of timedOut) expect(result.status === 'rejected' && result.reason).toBeInstanceOf(MessageTimeoutError);

    const controller = new AbortController();
    const aborted = primary.broadcast('hang', undefined, { signal: controller.signal });
    controller.abort(new Error('enough'));
    for (const result of await aborted) expect(result.status === 'rejected' && result.reason.message).toBe('enough');
    const abortedBefore = await primary.broadcast('echo', 1, { signal: controller.signal });
    expect(abortedBefore.map((result) => result.status)).toEqual(['rejected', 'rejected']);

    await expect(primary.broadcast('echo', { fn: () => 1 } as never)).rejects.toThrow(NotSerializableError);
    await expect(primary.broadcast('echo', 'both')).resolves.toEqual(workers.map((worker) => ({ status: 'fulfilled', worker, value: 'both' })));

    // A signal whose addEventListener throws (user code patched it): Node's own is used instead
    // (H675, hostile t68 F1: the request was refused with the raw error, and sent anyway).
    const patched = new AbortController().signal;
    Object.defineProperty(patched, 'addEventListener', {
      value: () => {
        throw new Error('patched');
      },
    });
    await expect(primary.broadcast('echo', 'x', { signal: patched, timeoutMs: 30_000 })).resolves.toEqual(workers.map((worker) => ({ status: 'fulfilled', worker, value: 'x' })));
    await expect(primary.broadcast('echo', 'after')).resolves.toEqual(workers.map((worker) => ({ status: 'fulfilled', worker, value: 'after' })));
  });
});
