import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { BackpressureError, MessageTooLargeError, WorkerChannelClosedError, WorkerExitedError } from '../../src/index.js';
import { startHarness } from '../helpers/harness.js';
import { testPrimary } from '../helpers/primary.js';
import { waitUntilGone } from '../helpers/processes.js';
import { onceEvent, record } from '../helpers/wait.js';

/** Rows of the fault matrix (docs/faults.md) not covered by a feature's own tests. */
describe('fault matrix', () => {
  it('[F4] classifies a V8 heap exhaustion as a crash (SIGABRT) and restarts the worker', async () => {
    const primary = testPrimary({ execArgv: ['--import', 'tsx', '--max-old-space-size=48'], silent: true });
    const [worker] = await primary.start();
    const crash = onceEvent(primary, 'workerCrash');
    const replaced = onceEvent(primary, 'workerRestart');
    await primary.send(worker!, 'exhaustHeap');
    const { code, signal } = await crash;
    expect(signal === 'SIGABRT' || code === 134).toBe(true);
    await replaced;
  });

  it('[F11] reports a listen error (EADDRINUSE) as a failed start with the code', async () => {
    const occupied = net.createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    const port = (occupied.address() as net.AddressInfo).port;
    try {
      const primary = testPrimary({ env: { PORT: String(port) }, restart: false }, 'workers/http-server.ts');
      const error = await primary.start().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_WORKER_STARTUP', reason: 'init-failed' });
      expect((error as Error & { cause: { remoteCode?: string } }).cause.remoteCode).toBe('EADDRINUSE');
    } finally {
      occupied.close();
    }
  });

  it('[F15] does not take a disconnect for an exit: a disconnected worker that lingers is killed and replaced', async () => {
    const primary = testPrimary({ heartbeat: false });
    const [worker] = await primary.start();
    const exit = onceEvent(primary, 'workerExit');
    const replaced = onceEvent(primary, 'workerReady');
    const disconnected = onceEvent(primary, 'workerDisconnect');
    // A stuck worker whose channel is closed from the primary's side (a raw disconnect()) can
    // neither notice nor exit: only the primary's kill ends it.
    await primary.send(worker!, 'blockSoon', { ms: -1 });
    worker!.clusterWorker.process.disconnect();
    await disconnected;
    await expect(exit).resolves.toMatchObject({ signal: 'SIGKILL', expected: false });
    await replaced;
  });

  it('[H717] a worker that closed its channel and lingers is killed for it: killedFor is a WorkerChannelClosedError, and its pending requests carry it as their cause', async () => {
    // Retest t80: the request's WorkerExitedError had no cause, while the heartbeat's kill gives its reason there.
    const primary = testPrimary({ heartbeat: false, restart: { backoff: { initialMs: 60_000 } } });
    const [worker] = await primary.start();
    const exit = onceEvent(primary, 'workerExit');
    const held = primary.send(worker!, 'holdUntilFile', { path: '/nonexistent/clusterkit-never' }).catch((error: unknown) => error);
    // Answered after the held request was read: it is pending in the worker when the channel closes.
    await expect(primary.send(worker!, 'closeChannelAndBlock')).resolves.toBe('closing');
    const exited = await exit;
    expect(exited).toMatchObject({ signal: 'SIGKILL', expected: false, killed: true });
    expect(exited.killedFor).toBeInstanceOf(WorkerChannelClosedError);
    expect(exited.killedFor).toMatchObject({ name: 'WorkerChannelClosedError', code: 'ERR_WORKER_CHANNEL_CLOSED', graceMs: 1_000 });
    const error = (await held) as WorkerExitedError;
    expect(error).toBeInstanceOf(WorkerExitedError);
    expect(error.cause).toBe(exited.killedFor);
  });

  it('[F21] a primary that throws exits non-zero and takes its workers with it', async () => {
    const harness = startHarness({ HARNESS_OPTIONS: JSON.stringify({ workerCount: 2 }), HARNESS_AFTER_START: 'throw' });
    const started = await harness.waitForEvent('started');
    await expect(harness.exited()).resolves.toBe(1);
    expect(harness.output()).toContain('accidental bug in the primary');
    await waitUntilGone(started.pids as number[], 30_000);
  });

  it('[F23] SIGTERM to the whole process group (systemd stop): one graceful shutdown', async () => {
    const harness = startHarness({ HARNESS_OPTIONS: JSON.stringify({ workerCount: 2 }), HARNESS_WORKER: 'workers/destroy-logs.ts' }, { detached: true });
    const started = await harness.waitForEvent('started');
    process.kill(-(started.pid as number), 'SIGTERM');
    await expect(harness.exited()).resolves.toBe(0);
    expect(harness.events().filter((line) => line.event === 'workerDestroy')).toHaveLength(2);
    expect(harness.events().filter((line) => line.event === 'workerRestart')).toEqual([]);
  });

  it('[F27][F28] a send right after the worker was killed rejects with a typed error; nothing crashes', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    process.kill(worker!.pid!, 'SIGKILL');
    // The death is not known yet: the send goes into the window before the exit event.
    const inWindow = primary.send(worker!, 'echo', 'too late').catch((e: unknown) => e);
    await expect(inWindow).resolves.toBeInstanceOf(WorkerExitedError);
    await expect(primary.send(worker!, 'echo', 'after exit')).rejects.toBeInstanceOf(WorkerExitedError);
    expect(() => primary.notify(worker!, 'echo', 'after exit')).toThrow(WorkerExitedError);
  });

  it('[F30][F31] flushes what a stopping worker sent before it exits', async () => {
    const primary = testPrimary({}, 'workers/destroy-notifies.ts');
    await primary.start();
    const received = record(primary, 'workerMessage');
    await primary.shutdown();
    expect(received.events.filter((event) => event.type === 'lifecycle')).toHaveLength(1_000);
  });

  it('[H107] a stop whose last messages flood the channel, read slowly by the primary, is still graceful: the worker waits for them to be written before it exits', async () => {
    const primary = testPrimary({ env: { FLOOD_MB: '40' } }, 'workers/destroy-notifies.ts');
    const [worker] = await primary.start();
    let floods = 0;
    primary.on('workerMessage', ({ payload }) => {
      if ((payload as { event: string }).event.length < 1024) return;
      floods++;
      // A listener that takes its time: 40 such messages take the primary about 2 s to read.
      const until = Date.now() + 50;
      while (Date.now() < until);
    });
    // Before the worker waited for its writes, it exited 1 s after its stop ended, with the rest unwritten.
    await expect(primary.stopWorker(worker!, { timeoutMs: 20_000 })).resolves.toBe('graceful');
    expect(floods).toBe(40);
  });

  it('[F33] refuses to queue without bound when notifications outrun the peer', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const payload = 'x'.repeat(1024 * 1024);
    let sent = 0;
    const flood = () => {
      for (let i = 0; i < 200; i++) {
        primary.notify(worker!, 'echo', payload);
        sent++;
      }
    };
    expect(flood).toThrow(BackpressureError);
    expect(sent).toBeLessThan(70);
    // Once the backlog is written, sending works again.
    await expect(primary.send(worker!, 'echo', 'after the flood', { timeoutMs: 20_000 })).resolves.toBe('after the flood');
  });

  it('[F34] rejects a payload over maxMessageBytes before serializing it', async () => {
    const primary = testPrimary({ maxMessageBytes: 1024 * 1024 });
    const [worker] = await primary.start();
    const error = await primary.send(worker!, 'echo', 'x'.repeat(2 * 1024 * 1024)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as Error).message).toContain('maxMessageBytes');
  });

  // Before: `about 1100002 B, over the 1048576 B limit` for ASCII, `about 1.1 MiB, over the
  // 1.0 MiB limit` for `€` strings, and `The payload of "store value "big""` (F7).
  it('[H616] a store write too large to send names the call, not the internal message type', async () => {
    const primary = testPrimary({ env: { TEST_MAX_MESSAGE_BYTES: String(64 * 1024) } });
    const [worker] = await primary.start();
    const error = (await primary.send(worker!, 'storeOp', { op: 'set', args: ['big', 'x'.repeat(100_000)] }).catch((e: unknown) => e)) as { remoteName: string; remoteMessage: string };
    // Retest t61: `The payload of "$store" is about 20.0 MiB ...`.
    expect(error).toMatchObject({ remoteName: 'MessageTooLargeError', remoteCode: 'ERR_MESSAGE_TOO_LARGE' });
    expect(error.remoteMessage).toMatch(/^The payload of "store\.set\('big'\)" is about 97\.7 KiB, over the 64\.0 KiB limit/);
    expect(error.remoteMessage).not.toContain('$store');
  });

  // Retest t68b: a worker's send over the primary's limit said `(option "maxMessageBytes")`, and
  // the worker's own option, already higher, was the one a reader raised.
  it("[H682] a worker's message or reply over the primary's maxMessageBytes says the limit is the primary's", async () => {
    const primary = testPrimary({ maxMessageBytes: 64 * 1024 });
    const [worker] = await primary.start();
    const primaryLimit = /over the 64\.0 KiB limit \(option "maxMessageBytes" of the primary, which reads no larger (message|reply) from a worker: raising the worker's own alone does not help\)/;
    const sent = (await primary.send(worker!, 'askPrimary', { type: 'anything', repeat: 100_000 }).catch((e: unknown) => e)) as { remoteMessage: string; data: Record<string, unknown> };
    expect(sent.remoteMessage).toMatch(/^The payload of "anything" is about 97\.7 KiB/);
    expect(sent.remoteMessage).toMatch(primaryLimit);
    expect(sent.data).toMatchObject({ isPrimaryLimit: true, isReply: false });
    // notify() throws in the worker: its handler's throw comes back.
    const notified = (await primary.send(worker!, 'notifyPrimary', { type: 'anything', repeat: 100_000 }).catch((e: unknown) => e)) as { remoteMessage: string; data: Record<string, unknown> };
    expect(notified.remoteMessage).toMatch(primaryLimit);
    expect(notified.data).toMatchObject({ isPrimaryLimit: true });
    // A small request whose reply the primary would not read.
    const reply = (await primary.send(worker!, 'repeat', 100_000).catch((e: unknown) => e)) as { remoteMessage?: string; data?: Record<string, unknown> };
    expect(reply.remoteMessage).toMatch(/^The reply to "repeat" is about 97\.7 KiB/);
    expect(reply.remoteMessage).toMatch(primaryLimit);
    expect(reply.data).toMatchObject({ isPrimaryLimit: true, isReply: true });
    await expect(primary.send(worker!, 'echo', 'still here')).resolves.toBe('still here');
  });

  // Hostile t69: a worker's own limit below the primary's, a payload over both: `(option
  // "maxMessageBytes")` alone, and raising the worker's led to the primary's refusal next.
  it("[H682] a worker's message over its own, lower maxMessageBytes says it is the worker's, and when the primary's is under it too", async () => {
    const primary = testPrimary({ maxMessageBytes: 64 * 1024, env: { TEST_MAX_MESSAGE_BYTES: String(32 * 1024) } });
    const [worker] = await primary.start();
    const overBoth = (await primary.send(worker!, 'askPrimary', { type: 'anything', repeat: 70 * 1024 }).catch((e: unknown) => e)) as { remoteMessage: string; data: Record<string, unknown> };
    expect(overBoth.remoteMessage).toMatch(/^The payload of "anything" is about 70\.0 KiB, over the 32\.0 KiB limit \(option "maxMessageBytes" of this worker; the primary's, 64\.0 KiB, is under it too: raise both\)/);
    expect(overBoth.data).toMatchObject({ isPrimaryLimit: false, isWorkerLimit: true, primaryLimitBytes: 64 * 1024 });
    const overOwn = (await primary.send(worker!, 'askPrimary', { type: 'anything', repeat: 40 * 1024 }).catch((e: unknown) => e)) as { remoteMessage: string; data: Record<string, unknown> };
    expect(overOwn.remoteMessage).toMatch(/over the 32\.0 KiB limit \(option "maxMessageBytes" of this worker\)\./);
    expect(overOwn.data).toMatchObject({ isWorkerLimit: true });
    expect(overOwn.data.primaryLimitBytes).toBeUndefined();
  });

  it('[F34] a payload over maxMessageBytes is told in one format, MiB against MiB, without nested quotes', async () => {
    const primary = testPrimary({ maxMessageBytes: 1024 * 1024 });
    const [worker] = await primary.start();
    const messageOf = (value: string) => primary.send(worker!, 'echo', value).then(() => '', (error: Error) => error.message);
    await expect(messageOf('x'.repeat(1_100_000))).resolves.toMatch(/^The payload of "echo" is about 1\.05 MiB, over the 1\.00 MiB limit \(option "maxMessageBytes"\)/);
    await expect(messageOf('€'.repeat(400_000))).resolves.toMatch(/^The payload of "echo" is about 1\.1 MiB, over the 1\.0 MiB limit \(option "maxMessageBytes"\)/);
    // Close to the limit: more places where one would read alike, never bytes in one message and MiB in the next.
    await expect(messageOf('x'.repeat(1024 * 1024 - 1))).resolves.toMatch(/^The payload of "echo" is about 1\.0{4,}[1-9]\d* MiB, over the 1\.0{5,} MiB limit/);
    expect(() => primary.store.set('big', { a: 'x'.repeat(2e6) })).toThrow(/^The payload of "store value 'big'" is about 1\.9 MiB, over the 1\.0 MiB limit/);
    // The worker was sent nothing too large and serves on.
    await expect(primary.send(worker!, 'echo', 'still here')).resolves.toBe('still here');
  });

  it('[F40] user payloads that look like Node internal commands are plain data', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const spoof = { cmd: 'NODE_CLUSTER', act: 'exitedAfterDisconnect' };
    await expect(primary.send(worker!, 'echo', spoof)).resolves.toEqual(spoof);
    await expect(primary.send(worker!, 'exitedAfterDisconnect')).resolves.toBeUndefined();
    expect(worker!.clusterWorker.exitedAfterDisconnect).toBeUndefined();
  });

  it('[F48] the env option adds variables and removes inherited ones (keep secrets out of workers)', async () => {
    const inherited = Object.keys(process.env).find((key) => key.startsWith('JEST') || key === 'PATH')!;
    const primary = testPrimary({ env: { [inherited]: undefined, FEATURE_FLAG: 'on' } });
    const [worker] = await primary.start();
    await expect(primary.send(worker!, 'env', { key: inherited })).resolves.toBeNull();
    await expect(primary.send(worker!, 'env', { key: 'FEATURE_FLAG' })).resolves.toBe('on');
  });
});
