/**
 * The heartbeat keeps watching a worker while it stops (H376): one whose event loop is blocked
 * can finish nothing, so once its silence passes `heartbeat.timeoutMs` it is killed then, not at
 * the stop's timeout (retest N7: `--heartbeat-timeout 2s --shutdown-timeout 8s`, the stop took
 * 8.5 s). A worker whose stop is slow but whose loop turns answers the pings, and is waited for.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { WorkerHandle } from '../../src/index.js';
import { stopCounts } from '../../src/control/stop-counts.js';
import { lifecycleOf } from '../../src/primary/lifecycle/primary-lifecycle.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { getStatus as get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

const kHeartbeat = { intervalMs: 200, timeoutMs: 1_000 };
/** Long beside the heartbeat's timeout: a stop that waited for it is obvious. */
const kStopMs = 20_000;
/** Well under kStopMs, generous beside the 1 s heartbeat timeout on a loaded 2-core machine. */
const kSoonMs = 12_000;

function markerPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ck-h376-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'blocking');
}

/** A primary over a tracked HTTP server, its worker with one request in flight, known to the primary, then its event loop blocked. */
async function hungWithRequest({ shutdownTimeoutMs = kStopMs } = {}) {
  const { logger, text } = capturedLogger();
  const port = await freePort();
  const primary = testPrimary({ env: { PORT: String(port) }, logger, heartbeat: kHeartbeat, shutdownTimeoutMs }, 'workers/destroy-reserve.ts');
  const [worker] = await primary.start();
  const arrived = record(primary, 'workerMessage');
  void get(port, '/?ms=600000').catch(() => {});
  await until(() => arrived.events.length === 1, 20_000, 'the request in flight');
  arrived.stop();
  // A heartbeat answer counted it: what the kill cuts is known (H367).
  await until(() => primary.stats()[0]?.openRequests === 1, 20_000, 'the request in a heartbeat answer');
  const marker = markerPath();
  // Held a minute: longer than the test; a stop that waits for it waits for its timeout.
  const notify = primary.notify as (target: WorkerHandle, type: string, payload: unknown) => void;
  notify.call(primary, worker!, 'block', { ms: 60_000, marker });
  await until(() => existsSync(marker), 20_000, 'the worker blocking its loop');
  return { primary, worker: worker!, text };
}

describe('the heartbeat during a stop', () => {
  it('[H376] a shutdown kills a hung worker once its silence passes the heartbeat timeout, not at the shutdown timeout, and reports it killed for it', async () => {
    const { primary, worker, text } = await hungWithRequest();
    const startedAt = Date.now();
    const report = await primary.shutdown();
    const tookMs = Date.now() - startedAt;
    // Before: 20 s, the shutdown's timeout.
    expect(tookMs).toBeLessThan(kSoonMs);
    expect(report.killed).toEqual([worker]);
    expect(report.graceful).toEqual([]);
    expect(report.failed).toEqual([]);
    expect(report.requestsCut).toBe(1);
    // `clusterkit stop` says why: the heartbeat, not the shutdown timeout.
    expect(stopCounts(report)).toMatchObject({ killed: 1, killedCause: 'silent past the heartbeat timeout, 1.0 s (its event loop most likely blocked)' });
    expect(text()).toMatch(new RegExp(`ERROR worker ${worker.id} unresponsive during its stop \\(silent for [\\d.]+ s, past the heartbeat timeout of 1\\.0 s\\), killing it: a blocked worker finishes nothing`));
    expect(text()).toMatch(
      new RegExp(
        `WARN worker ${worker.id} was killed \\(SIGKILL\\) by the primary during its stop, before it finished stopping: it did not answer heartbeats for \\d+ ms(?:, \\d+ ms of them while the primary itself was blocked)?, past the heartbeat timeout \\(1\\.0 s\\), so its stop was not waited for; at least 1 request cut off`,
      ),
    );
    expect(text()).not.toContain('at the shutdown timeout');
  }, 60_000);

  it('[H481][H485] a worker stopped by SIGSTOP, killed by the heartbeat during a shutdown: the summary and the kill line say its process was stopped', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ heartbeat: kHeartbeat, shutdownTimeoutMs: kStopMs, logger });
    const [worker] = await primary.start();
    await until(() => worker!.health !== undefined, 20_000, 'first heartbeat');
    process.kill(worker!.pid!, 'SIGSTOP');
    onCleanup(() => {
      try {
        process.kill(worker!.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    });
    const report = await primary.shutdown();
    expect(report.killed).toEqual([worker]);
    // Before: `(its event loop most likely blocked)`, while the log line said the process was stopped (chaos tester t51).
    expect(stopCounts(report)).toMatchObject({ killed: 1, killedCause: 'silent past the heartbeat timeout, 1.0 s (its process was stopped: kill -STOP or a debugger)' });
    // [H485] Before: `killing it: a blocked worker finishes nothing` (retest t51).
    expect(text()).toMatch(new RegExp(`ERROR worker ${worker!.id} unresponsive during its stop \\(silent for [\\d.]+ s, past the heartbeat timeout of 1\\.0 s; its process is stopped: kill -STOP or a debugger; kill -CONT resumes it\\), killing it: a stopped worker finishes nothing`));
  }, 60_000);

  it('[H376] a hung worker the heartbeat kills while the shutdown still closes its sockets, before it asks the workers to stop, is in its report, killed', async () => {
    const { primary, worker, text } = await hungWithRequest({ shutdownTimeoutMs: 60_000 });
    // A close at the shutdown's start that lasts until the heartbeat's kill ended the worker, 5 s
    // at most (its share of the shutdown, a tenth, is 6 s): the workers are asked to stop after it,
    // this one gone from the pool by then.
    const untilKill = () => onceEvent(primary, 'workerExit', 5_000).then(() => undefined, () => undefined);
    lifecycleOf(primary)!.onShutdown('start', 'a close until the kill', untilKill);
    const startedAt = Date.now();
    const report = await primary.shutdown();
    expect(Date.now() - startedAt).toBeLessThan(kSoonMs);
    expect(report.killed).toEqual([worker]);
    expect(report.graceful).toEqual([]);
    expect(report.requestsCut).toBe(1);
    expect(stopCounts(report)).toMatchObject({ killed: 1, killedCause: 'silent past the heartbeat timeout, 1.0 s (its event loop most likely blocked)' });
    // The shutdown's: said as a kill during its stop, not an unexpected exit.
    expect(text()).toMatch(new RegExp(`WARN worker ${worker.id} was killed \\(SIGKILL\\) by the primary during its stop, before it finished stopping: it did not answer heartbeats for \\d+ ms(?:, \\d+ ms of them while the primary itself was blocked)?, past the heartbeat timeout`));
    expect(text()).not.toContain('exited unexpectedly');
  }, 60_000);

  it('[H376] stopWorker() of a hung worker resolves "killed" once its silence passes the heartbeat timeout', async () => {
    const { primary, worker } = await hungWithRequest();
    const startedAt = Date.now();
    await expect(primary.stopWorker(worker)).resolves.toBe('killed');
    expect(Date.now() - startedAt).toBeLessThan(kSoonMs);
  }, 60_000);

  it('[H376] a worker whose _destroy is slow but whose event loop turns answers the heartbeat, and is not killed', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    // _destroy awaits a timer three times the heartbeat's timeout.
    const primary = testPrimary({ env: { PORT: String(port), DESTROY_MS: '3000' }, logger, heartbeat: kHeartbeat, shutdownTimeoutMs: kStopMs }, 'workers/destroy-reserve.ts');
    const [worker] = await primary.start();
    const startedAt = Date.now();
    const report = await primary.shutdown();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2_900);
    expect(report.graceful).toEqual([worker]);
    expect(report.killed).toEqual([]);
    expect(text()).not.toContain('unresponsive');
  }, 60_000);
});
