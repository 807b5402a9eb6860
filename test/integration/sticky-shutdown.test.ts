import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { get } from '../helpers/http.js';
import { testPrimary } from '../helpers/primary.js';
import { jsonLines, kProcessPatienceMs, spawnScript } from '../helpers/spawn.js';
import { onceEvent, record } from '../helpers/wait.js';
import { HookTimeoutError, ListenError } from '../../src/index.js';

/** A port held by another server of this process, released after the test. */
async function busyPort(): Promise<number> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  return (blocker.address() as net.AddressInfo).port;
}

/** What `promise` rejects with (undefined when it resolves). */
function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** A started primary, the `error` events it emits, and a port another server holds. */
async function startedBesideBusyPort() {
  const port = await busyPort();
  const primary = testPrimary({ workerCount: 1 }, 'sticky-worker.ts');
  await primary.start();
  const errors = record(primary, 'error');
  onCleanup(() => errors.stop());
  return { port, primary, errors };
}

describe('sticky listener: shutdown and listen failures', () => {
  it('[H245] shutdown() settles after the worker handed a sticky connection has exited', async () => {
    const primary = testPrimary({ workerCount: 1, shutdownTimeoutMs: 5_000 }, 'sticky-worker.ts');
    const [worker] = await primary.start();
    const { address } = await primary.listenSticky({ port: 0, host: '127.0.0.1' });
    expect((await get(`http://127.0.0.1:${address.port}/`, 10_000)).status).toBe(200);
    const replaced = onceEvent(primary, 'workerReady');
    process.kill(worker!.pid!, 'SIGKILL');
    await replaced;
    const warnings = record(primary, 'warning');
    onCleanup(() => warnings.stop());
    // Before: never settled (Node's server.close() callback waits on the dead worker's socket list).
    const report = await primary.shutdown();
    expect(report.graceful).toHaveLength(1);
    expect(primary.state).toBe('stopped');
    // The cause is fixed, not only bounded: the close settles at once, no hook is abandoned.
    expect(warnings.events.filter((warning) => warning instanceof HookTimeoutError)).toEqual([]);
  });

  it('[H246] a busy port rejects listenSticky() with a ListenError and emits no error event', async () => {
    const { port, primary, errors } = await startedBesideBusyPort();
    const failure = await rejection(primary.listenSticky({ port, host: '127.0.0.1' }));
    expect(failure).toBeInstanceOf(ListenError);
    // Before: also emitted on 'error', which with no listener threw and ended the primary.
    expect(errors.events).toEqual([]);
    expect(primary.state).toBe('running');
  });

  it('[H247] listen failures of listenSticky() and listenHealth() are ListenErrors naming the port, the Node error as cause', async () => {
    const { port, primary, errors } = await startedBesideBusyPort();
    for (const listen of [() => primary.listenSticky({ port, host: '127.0.0.1' }), () => primary.listenHealth({ port, host: '127.0.0.1' })]) {
      const failure = (await rejection(listen())) as ListenError;
      expect(failure).toBeInstanceOf(ListenError);
      expect(failure.code).toBe('ERR_LISTEN_FAILED');
      expect(failure.errno).toBe('EADDRINUSE');
      expect((failure.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
      expect(failure.message).toContain(`port ${port}`);
      expect(failure.message).toContain('pick another port');
    }
    const badHost = (await rejection(primary.listenSticky({ port: 0, host: 'no such host!!' }))) as ListenError;
    expect(badHost).toBeInstanceOf(ListenError);
    expect(badHost.message).toContain('no such host!!');
    expect(errors.events).toEqual([]);
  });
});

describe('sticky listener on a busy port, in a primary process of its own', () => {
  it('[H246] the primary with no error listener survives a caught listenSticky() failure and exits 0', async () => {
    const primary = spawnScript('test/fixtures/sticky-busy-primary.ts');
    // Before: the process died with `Error: listen EADDRINUSE` (code 1) before printing `alive`.
    await expect(primary.exited(kProcessPatienceMs)).resolves.toBe(0);
    const lines = jsonLines(primary.stdout());
    expect(lines).toEqual([
      { event: 'rejected', name: 'ListenError', code: 'ERR_LISTEN_FAILED', causeCode: 'EADDRINUSE' },
      { event: 'alive', state: 'running' },
    ]);
  });
});
