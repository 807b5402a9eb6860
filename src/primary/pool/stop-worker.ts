/**
 * Stopping one worker with explicit escalation: ask it (`$shutdown`: it stops accepting work,
 * finishes what it is doing, runs `_destroy` and exits), wait up to the timeout for its exit,
 * then SIGKILL. A stop is complete only at the exit, never at the disconnect: a disconnected
 * worker with an open handle keeps running.
 */
import { timerDelay } from '../../duration.js';
import { settleWithin } from '../../wait.js';
import { kShutdownRequest } from '../../messaging/system-types.js';
import type { WorkerPool } from './worker-pool.js';
import type { WorkerRecord } from './worker-record.js';

/** How long a SIGKILLed process may take to be reaped before we stop waiting for it. */
const kKillWaitMs = 5_000;

export type StopOutcome = 'graceful' | 'killed';

/** Stops `record` within `timeoutMs` (+ the time SIGKILL takes). Concurrent calls share one stop. */
export function stopWorker(pool: WorkerPool, record: WorkerRecord, timeoutMs: number): Promise<StopOutcome> {
  record.stopping ??= runStop(pool, record, timeoutMs);
  return record.stopping;
}

/** Kills every live worker at once (a second Ctrl-C). */
export function killAll(pool: WorkerPool): void {
  for (const record of pool.records) {
    pool.markStopping(record);
    record.clusterWorker.process.kill('SIGKILL');
  }
}

async function runStop(pool: WorkerPool, record: WorkerRecord, timeoutMs: number): Promise<StopOutcome> {
  if (record.state === 'exited') return 'graceful';
  pool.markStopping(record);
  if (record.isConnected) {
    // The worker answers after its _destroy; we wait for the exit itself, so the reply is informational.
    record.endpoint.request(kShutdownRequest, { timeoutMs }, timerDelay(timeoutMs + kKillWaitMs)).catch(() => {});
  } else {
    record.clusterWorker.process.kill('SIGTERM');
  }
  if (await settleWithin(record.whenExited.promise, timeoutMs)) return 'graceful';
  record.clusterWorker.process.kill('SIGKILL');
  await settleWithin(record.whenExited.promise, kKillWaitMs);
  return 'killed';
}
