/**
 * What the primary does with a worker over `maxMemoryMb`. Replace-first is the normal path: the
 * replacement is ready before the old worker stops, so the service never goes down, and the
 * slot is never given up for memory (H152). Two bounds on it:
 * - replacements in a row soon after start back off (H164): a worker over the limit from its
 *   start was replaced every 2 s forever;
 * - a worker that grows by the limit once more while its replacement is not ready is stopped
 *   without waiting for it, and its slot restarts in place, as PM2 does (H163): a replacement
 *   hanging in its start-up let a leaking worker grow to 12 times the limit.
 */
import { ReloadError } from '../../errors.js';
import { toError } from '../../to-error.js';
import { countMemoryReplacement, memoryHardLimitBytes, memoryReplacementDelayMs } from '../pool/memory-policy.js';
import { stopWorker } from '../pool/stop-worker.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { PrimaryContext } from '../primary-context.js';
import { normalizeRestartOptions, type NormalizedRestartOptions } from '../primary-options.js';
import { kMemoryStrikes } from './primary-heartbeat.js';
import { replaceWorker, type ReloadContext } from './rolling-reload.js';

/** Without a restart policy, replacements still count and back off by its defaults. */
const kDefaultRestart: NormalizedRestartOptions = normalizeRestartOptions(undefined);

export class MemoryLimit {
  /** Replacements waiting for their back-off, by the worker they replace. */
  readonly #delayed = new WeakMap<WorkerRecord, NodeJS.Timeout>();

  constructor(
    private readonly context: Pick<PrimaryContext, 'options' | 'pool' | 'emit' | 'reportWarning'>,
    private readonly reloadContext: ReloadContext,
  ) {}

  /**
   * Replaces a worker over the limit, every time: the service stays up however often it comes
   * (H152). The count of replacements in a row soon after start changes the line, and from the
   * third the replacement backs off.
   */
  onLimit(record: WorkerRecord, rssBytes: number, limitBytes: number): void {
    const { options, emit } = this.context;
    const slot = record.slot;
    const restart = options.restart === false ? kDefaultRestart : options.restart;
    const readyForMs = record.readyAt === undefined ? undefined : Date.now() - record.readyAt;
    const isReplaced = this.reloadContext.isRunning() && !record.stopRequested;
    const inARow = isReplaced ? countMemoryReplacement(slot.memoryReplacements, readyForMs, restart.stableAfterMs) : slot.memoryReplacements;
    const delayMs = isReplaced ? memoryReplacementDelayMs(inARow, restart) : 0;
    emit('workerMemoryLimit', { worker: record.handle, rssBytes, limitBytes, inARow, delayMs, action: 'replace' });
    if (!isReplaced) return;
    slot.memoryReplacements = inARow;
    // Taken at the first replacement only: a failed one tried again does not raise the bound.
    record.memoryHardLimitBytes ??= memoryHardLimitBytes(rssBytes, limitBytes);
    if (delayMs === 0) {
      this.#replace(record);
      return;
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(record);
      this.#replace(record);
    }, delayMs);
    this.#delayed.set(record, timer);
    void record.whenExited.promise.then(() => clearTimeout(timer));
  }

  /**
   * Stops a worker that reached its hard bound while its replacement was not ready (PM2's
   * restart in place: stop, then start). Its exit restarts the slot by the crash rules
   * (restart-after-exit.ts); a replacement still starting may yet take the slot over.
   */
  onHardLimit(record: WorkerRecord, rssBytes: number, limitBytes: number): void {
    const { options, pool, emit } = this.context;
    if (!this.reloadContext.isRunning() || record.stopRequested || record.slot.current !== record) return;
    record.isStoppedOverMemory = true;
    clearTimeout(this.#delayed.get(record));
    this.#delayed.delete(record);
    emit('workerMemoryLimit', { worker: record.handle, rssBytes, limitBytes, inARow: record.slot.memoryReplacements, delayMs: 0, action: 'restart' });
    void stopWorker(pool, record, options.shutdownTimeoutMs);
  }

  #replace(record: WorkerRecord): void {
    if (!this.reloadContext.isRunning() || record.stopRequested) return;
    const slot = record.slot;
    replaceWorker(this.reloadContext, record).catch((error: unknown) => {
      // A shutdown that cut the replacement short stops the old worker too: nothing to say.
      if (error instanceof ReloadError && error.isShutdown) return;
      // Stopped over its hard bound meanwhile: its line said so, and the slot restarts.
      if (record.isStoppedOverMemory) return;
      // A replacement that cannot start (E2BIG since the environment grew, a crash at start)
      // leaves the old worker serving: worth a warning, not the primary's life when nobody
      // listens to 'error'. Its strikes start again, so three more heartbeats over the limit
      // try anew (H153): a leaking worker is not left to grow without bound.
      record.memoryStrikes = 0;
      const reason = toError(error instanceof ReloadError && error.cause !== undefined ? error.cause : error).message;
      const text =
        `Worker ${record.id} is over the memory limit, but its replacement for slot ${slot.index} failed to start, so it keeps serving; the replacement ` +
        `is tried again once it stays over the limit for ${kMemoryStrikes} more heartbeats. Fix what stops new workers from starting: ${reason}`;
      this.context.reportWarning(new ReloadError(text, { cause: error }));
    });
  }
}
