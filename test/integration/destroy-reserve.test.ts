/**
 * The slice of a worker's stop kept for its `_destroy` (H350): a request that outlasts the stop
 * is cut off that much before the worker's own deadline, and `_destroy` runs in the time kept
 * (before, the drain took it all and `_destroy` had 1 ms, and the line blamed it). A `_destroy`
 * that hangs is cut short with that time; one left less because something held the stop is
 * told so, with what held it; a worker without a `_destroy` gives its requests the whole stop.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { wholeMs } from '../../src/whole-ms.js';
import type { WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { getStatus as get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

/**
 * 4 s: the worker's own deadline comes 1 s before the primary's SIGKILL (stop-margin.ts), room a
 * loaded machine's late timers and exit need; its own stop is 3 s, of which 300 ms (a tenth) are
 * kept for `_destroy`.
 */
const kStopMs = 4_000;
const kOwnStopMs = 3_000;
const kReservedMs = 300;

/**
 * The slice is a tenth of the worker's own stop from when the stop begins in the worker: on a
 * busy machine that is a little after the deadline was set (295 ms seen under two CPU hogs).
 */
function expectReserved(event: { reservedMs?: number }): number {
  expect(event.reservedMs).toBeLessThanOrEqual(kReservedMs);
  expect(event.reservedMs).toBeGreaterThanOrEqual(kReservedMs - 100);
  return event.reservedMs!;
}

type DestroyTimeout = { worker: WorkerHandle; timeoutMs: number; reservedMs?: number; shortenedBy?: string };
type RequestsCut = { worker: WorkerHandle; openRequests: number; timeoutMs?: number; reason: string; shortenedBy?: string; heldMs?: number; elapsedMs?: number };

/** A primary over the fixture, its worker serving a request that outlasts the stop. */
async function withRequestInFlight(env: Record<string, string>) {
  const { logger, text } = capturedLogger();
  const port = await freePort();
  const primary = testPrimary({ env: { PORT: String(port), ...env }, logger, shutdownTimeoutMs: kStopMs }, 'workers/destroy-reserve.ts');
  const [worker] = await primary.start();
  const arrived = record(primary, 'workerMessage');
  const long = get(port, '/?ms=600000');
  await until(() => arrived.events.length === 1, 20_000, 'the request in flight');
  arrived.stop();
  return { primary, worker: worker!, long, text };
}

function markerPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ck-h350-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'destroyed');
}

describe('the time kept for _destroy', () => {
  it('[H350] a request that outlasts the stop is cut off early enough for _destroy to run to its end', async () => {
    const marker = markerPath();
    const { primary, worker, long, text } = await withRequestInFlight({ MARKER: marker, DESTROY_MS: '50' });
    const cut = onceEvent<RequestsCut>(primary, 'workerRequestsCut', 30_000);
    const timeouts = record<DestroyTimeout>(primary, 'workerDestroyTimeout');
    const report = await primary.shutdown();
    // Before: _destroy had 1 ms, cut short: no marker, and `_destroy() did not finish within 1 ms`.
    expect(existsSync(marker) && readFileSync(marker, 'utf8')).toBe('destroyed');
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 1 });
    const event = await cut;
    expect(event).toMatchObject({ worker, openRequests: 1, reason: 'deadline' });
    expect(event.timeoutMs).toBeLessThanOrEqual(kOwnStopMs - kReservedMs);
    await expect(long).resolves.toBe('ECONNRESET');
    expect(text()).toContain(`WARN worker ${worker.id} cut off 1 request still open at its shutdown deadline (${wholeMs(event.timeoutMs)} ms after its stop began); it exits with code 1.`);
    expect(timeouts.events).toEqual([]);
    expect(text()).not.toContain('did not finish');
  });

  it('[H350][H360] a _destroy that hangs is cut short with the whole time kept for it, and the line says so', async () => {
    const { primary, worker, text } = await withRequestInFlight({ DESTROY: 'hang' });
    const timedOut = onceEvent<DestroyTimeout>(primary, 'workerDestroyTimeout', 30_000);
    const report = await primary.shutdown();
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 1 });
    const event = await timedOut;
    // Before: timeoutMs 1, no reservedMs.
    const reservedMs = expectReserved(event);
    // Before H360: a few ms less (the stop's own work after the drain came out of it: 217 of 225 ms).
    expect(event.timeoutMs).toBe(reservedMs);
    expect(event.shortenedBy).toBeUndefined();
    expect(text()).toContain(`WARN worker ${worker.id}: _destroy() did not finish within ${wholeMs(event.timeoutMs)} ms, the worker's own deadline; it exits with code 1. Raise the shutdownTimeoutMs option if _destroy() needs longer`);
  });

  it('[H350] a _destroy left almost no time by an event loop held through the stop: the line says what used its time', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port), BLOCK_ON_SHUTDOWN: '1', DESTROY: 'hang' }, logger, shutdownTimeoutMs: kStopMs }, 'workers/destroy-reserve.ts');
    const [worker] = await primary.start();
    const timedOut = onceEvent<DestroyTimeout>(primary, 'workerDestroyTimeout', 30_000);
    const report = await primary.shutdown();
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 0 });
    const event = await timedOut;
    expect(event).toMatchObject({ worker, shortenedBy: 'blocked' });
    const reservedMs = expectReserved(event);
    expect(event.timeoutMs).toBeLessThan(reservedMs / 2);
    // Before: `_destroy() did not finish within 4 ms, the worker's own deadline`, as if it had been given 4 ms.
    expect(text()).toContain(
      `WARN worker ${worker!.id}: _destroy() was left only ${wholeMs(event.timeoutMs)} ms of the worker's own deadline, not the ${reservedMs} ms kept for it, and did not finish in them: the worker's event loop was held past the end of its drain`,
    );
    expect(text()).not.toContain(`_destroy() did not finish within ${wholeMs(event.timeoutMs)} ms`);
  });

  it("[H360] a request cut off after a 'shutdown' listener held the event loop past the drain's end: the line gives the time since the primary's ask and blames the held loop, not the timeout", async () => {
    const marker = markerPath();
    // A `_destroy` of 1 ms: its slice begins only 150 ms before the deadline here, and a 50 ms timer ran late past it on a loaded machine (full run, t58).
    const { primary, worker, long, text } = await withRequestInFlight({ MARKER: marker, BLOCK_MS: '2850', DESTROY_MS: '1' });
    const cut = onceEvent<RequestsCut>(primary, 'workerRequestsCut', 30_000);
    const report = await primary.shutdown();
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 1 });
    const event = await cut;
    // Before: `timeoutMs` 0 ("0 ms after its stop began") and "Raise the shutdownTimeoutMs option".
    expect(event).toMatchObject({ worker, openRequests: 1, reason: 'deadline', shortenedBy: 'blocked' });
    expect(event.timeoutMs).toBeLessThanOrEqual(kOwnStopMs - kReservedMs);
    expect(event.timeoutMs).toBeGreaterThan(kOwnStopMs - kReservedMs - 100);
    expect(event.heldMs).toBeGreaterThanOrEqual(2_850);
    expect(event.elapsedMs).toBeGreaterThanOrEqual(event.heldMs! - 50);
    await expect(long).resolves.toBe('ECONNRESET');
    expect(text()).toContain(
      `WARN worker ${worker.id} cut off 1 request still open ${event.elapsedMs} ms after the primary asked it to stop: ` +
        `its event loop was held for ${event.heldMs} ms after the ask before its drain could begin (synchronous code running as the stop came, as in a request or message handler, ` +
        `or in a 'shutdown' listener, or a machine too busy to run it), past its shutdown deadline (${wholeMs(event.timeoutMs)} ms after the ask), so its drain had no time; it exits with code 1. ` +
        'Code that blocks the event loop delays every stop',
    );
    expect(text()).not.toContain('Raise the shutdownTimeoutMs option');
    // `_destroy` still had its slice after the held loop, and ran to its end.
    expect(readFileSync(marker, 'utf8')).toBe('destroyed');
  });

  it('[H360] a stop read late, its event loop held by a message handler as the stop came: its deadline counts from the primary\'s ask, so it cuts and exits before the SIGKILL, and says the loop was held', async () => {
    const { primary, worker, long, text } = await withRequestInFlight({ DESTROY_MS: '50' });
    const blocking = markerPath();
    const send = primary.send as (target: WorkerHandle, type: string, payload: unknown) => Promise<unknown>;
    void send.call(primary, worker, 'block', { ms: 2_850, marker: blocking }).catch(() => {});
    await until(() => existsSync(blocking), 20_000, 'the worker holding its event loop');
    const cut = onceEvent<RequestsCut>(primary, 'workerRequestsCut', 30_000);
    const report = await primary.shutdown();
    // Before: its deadline counted from when it read the stop, 2.85 s late, and came after the primary's SIGKILL: killed.
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 1 });
    const event = await cut;
    expect(event).toMatchObject({ worker, openRequests: 1, reason: 'deadline', shortenedBy: 'blocked' });
    expect(event.timeoutMs).toBeLessThanOrEqual(kOwnStopMs - kReservedMs);
    expect(event.heldMs).toBeGreaterThan(event.timeoutMs! / 2);
    await expect(long).resolves.toBe('ECONNRESET');
    expect(text()).toContain(`WARN worker ${worker.id} cut off 1 request still open ${event.elapsedMs} ms after the primary asked it to stop: its event loop was held for ${event.heldMs} ms after the ask`);
  });

  it('[H350] a stop that waited for _init past its deadline: the line says _init used the time kept for _destroy', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 0, logger, shutdownTimeoutMs: kStopMs }, 'workers/destroy-reserve.ts');
    await primary.start();
    const initializing = onceEvent<{ worker: WorkerHandle }>(primary, 'workerMessage', 30_000);
    const forked = primary.fork({ env: { INIT_PAST_STOP: '1', DESTROY: 'hang' } }).catch((error: unknown) => error);
    const { worker } = await initializing;
    const timedOut = onceEvent<DestroyTimeout>(primary, 'workerDestroyTimeout', 30_000);
    await expect(primary.stopWorker(worker)).resolves.toBe('failed');
    await forked;
    const event = await timedOut;
    expect(event).toMatchObject({ worker, shortenedBy: 'init' });
    const reservedMs = expectReserved(event);
    expect(event.timeoutMs).toBeLessThan(reservedMs / 2);
    expect(text()).toContain(
      `WARN worker ${worker.id}: _destroy() was left only ${wholeMs(event.timeoutMs)} ms of the worker's own deadline, not the ${reservedMs} ms kept for it, and did not finish in them: the stop came while the worker was still starting, and waited for its _init() to finish until after the drain's end.`,
    );
    expect(text()).toContain(`worker ${worker.id} did not stop cleanly: its stop came while it was still starting, and its _destroy() was left only ${wholeMs(event.timeoutMs)} ms`);
  });

  it('[H350] a worker without a _destroy of its own keeps no time for one: its requests get the whole of its own stop', async () => {
    const { primary, worker, long } = await withRequestInFlight({ NO_DESTROY: '1' });
    const cut = onceEvent<RequestsCut>(primary, 'workerRequestsCut', 30_000);
    const report = await primary.shutdown();
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 1 });
    const event = await cut;
    // Its own stop less the time the stop request took to arrive: more than a kept slice ever leaves.
    expect(event.timeoutMs).toBeGreaterThan(kOwnStopMs - kReservedMs); // a kept slice leaves at most 2 700
    expect(event.timeoutMs).toBeLessThanOrEqual(kOwnStopMs);
    await expect(long).resolves.toBe('ECONNRESET');
  });
});
