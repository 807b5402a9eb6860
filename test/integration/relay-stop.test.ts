/**
 * A handler a worker runs for another worker's `sendTo()` (relayed by the primary as `$relayed`)
 * is work its sender waits for, as a `primary.send()` handler is: a stop of the target waits for
 * it until the deadline, and one still running then is reported cut off. Before, the worker did
 * not count it among its running handlers: any stop of it (stopWorker, shutdown, reload,
 * scale-down) ended it at once, `graceful`, `requestsCut: 0`, and the sender got
 * "exited with code 0" (hostile t29, F1).
 */
import { describe, expect, it } from '@jest/globals';
import { wholeMs } from '../../src/whole-ms.js';
import { RemoteError, WorkerExitedError, type ShutdownReport, type WorkerMessageEvent, type WorkerRequestsCutEvent } from '../../src/index.js';
import type { ToPrimary } from '../fixtures/protocol.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

/**
 * 6 s: the worker's own deadline comes 1.5 s before the primary's (stop-margin.ts); a shorter
 * stop leaves a margin a loaded machine can miss (the worker is then killed, not failed).
 */
const kStopMs = 6_000;

/** A primary with `bob` in slot 0 and `alice`, the sender, in slot 1 (a reload replaces bob first). */
async function relayPair(logger?: ReturnType<typeof capturedLogger>['logger']) {
  const primary = testPrimary({ workerCount: 0, shutdownTimeoutMs: kStopMs, ...(logger ? { logger } : {}) });
  await primary.start();
  const [bob] = await primary.fork({ name: 'bob' });
  const [alice] = await primary.fork({ name: 'alice' });
  return { primary, alice: alice!, bob: bob! };
}

/**
 * alice's `sendTo('bob', type)`, once bob's handler runs: it announces itself (`lifecycle`,
 * `running <type>`) as it starts, so bob counts it before it reads any stop. Not bob's `pending`
 * in `stats()`, as before: a heartbeat `$ping` to bob counts there too. Under load one was
 * pending while the relay still went through alice and the primary; the stop then reached bob
 * first, bob stopped with nothing running (`graceful`), and alice's `sendTo()` was refused.
 */
async function relayRunning(primary: ReturnType<typeof testPrimary>, alice: { id: number }, bob: { id: number }, type: 'slow' | 'hang', payload?: { ms: number }) {
  const running = onceEvent<WorkerMessageEvent<ToPrimary>>(primary, 'workerMessage', 30_000, (event) => event.worker.id === bob.id && event.type === 'lifecycle' && event.payload.event === `running ${type}`);
  const outcome = primary.send(alice.id, 'relay', { target: 'bob', type, payload: { ...payload, announce: true }, timeoutMs: 60_000 }, { timeoutMs: 60_000 }).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  // A relay that settles first never ran bob's handler: said at once, not after the wait's 30 s.
  const first = await Promise.race([running.then(() => undefined), outcome]);
  if (first !== undefined) throw new Error(`alice's sendTo('bob', '${type}') settled before bob's handler announced itself: ${describeSettled(first)}`);
  // Wrapped: an async function's returned promise would be awaited with it.
  return { outcome };
}

/** A relay's outcome, for a failure message. */
function describeSettled(settled: { value: unknown } | { error: unknown }): string {
  if (!('error' in settled)) return `it answered ${JSON.stringify(settled.value)}`;
  const error = settled.error as Partial<RemoteError>;
  return `it failed with ${error.remoteName ?? error.name}: ${error.remoteMessage ?? error.message}`;
}

describe('a worker stopped while it handles a relayed sendTo()', () => {
  it('[H274] whose sender was killed first: the line says its requester exited, not that its request timed out or was aborted', async () => {
    const { logger, text } = capturedLogger();
    const { primary, alice, bob } = await relayPair(logger);
    const { outcome } = await relayRunning(primary, alice, bob, 'hang');
    const exited = onceEvent(primary, 'workerExit', 30_000);
    process.kill(alice.pid!, 'SIGKILL');
    await exited;
    void outcome;
    const cut = onceEvent<WorkerRequestsCutEvent>(primary, 'workerRequestsCut', 30_000);
    await expect(primary.stopWorker(bob, { timeoutMs: kStopMs })).resolves.toBe('failed');
    // The counts are as before (H241): nobody is left to get the reply, no request is cut off.
    expect(await cut).toMatchObject({ worker: bob, openRequests: 0, givenUp: 1, requestersExited: 1, reason: 'handlers' });
    // Before: "its requester had already given up (its request timed out or was aborted)".
    expect(text()).toContain('of "hang": its requester had already exited (killed, or stopped before it), so no reply is lost with it; it exits with code 1.');
    expect(text()).not.toContain('timed out or was aborted');
  });

  it('[H264] waits for the handler: the stop is graceful and the sender gets the reply', async () => {
    const { primary, alice, bob } = await relayPair();
    const { outcome } = await relayRunning(primary, alice, bob, 'slow', { ms: 2_000 });
    // Before: graceful at once (~80 ms), the sender's WorkerExitedError "exited with code 0".
    await expect(primary.stopWorker(bob)).resolves.toBe('graceful');
    expect(await outcome).toEqual({ value: 'done' });
  });

  it('[H264][H292] a relayed handler still running at the deadline is cut off: failed, told, logged, and the sender is told why', async () => {
    const { logger, text } = capturedLogger();
    const { primary, alice, bob } = await relayPair(logger);
    const { outcome } = await relayRunning(primary, alice, bob, 'hang');
    const cut = onceEvent<WorkerRequestsCutEvent>(primary, 'workerRequestsCut', 30_000);
    // Before: graceful, no event, no line.
    await expect(primary.stopWorker(bob, { timeoutMs: kStopMs })).resolves.toBe('failed');
    const event = await cut;
    expect(event).toMatchObject({ worker: bob, openRequests: 1, reason: 'handlers', messageTypes: ['hang'] });
    expect(text()).toContain(`WARN worker ${bob.id} abandoned 1 message handler still running at its shutdown deadline (${wholeMs(event.timeoutMs)} ms after its stop began), of "hang": its requester gets no reply`);
    const { error } = (await outcome) as { error: RemoteError };
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteName).toBe(WorkerExitedError.name);
    expect(error.remoteMessage).toMatch(new RegExp(`^Worker ${bob.id} \\(pid \\d+\\) exited with code 1 before it replied to "hang": its handler was cut at the worker's stop deadline, still running\\.`));
  });

  it('[H264] a reload of the target counts the cut relayed handler in its report', async () => {
    const { primary, alice, bob } = await relayPair();
    const { outcome } = await relayRunning(primary, alice, bob, 'hang');
    const complete = onceEvent<{ stopped: ShutdownReport }>(primary, 'reloadComplete', 60_000);
    await primary.reload();
    const { stopped } = await complete;
    // Before: both graceful, requestsCut 0.
    expect(stopped.failed.map((handle) => handle.id)).toEqual([bob.id]);
    expect(stopped.graceful.map((handle) => handle.id)).toEqual([alice.id]);
    expect(stopped.requestsCut).toBe(1);
    expect(((await outcome) as { error: RemoteError }).error.remoteMessage).toContain('its handler was cut at the worker\'s stop deadline');
  });
});
