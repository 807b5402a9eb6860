/**
 * What the primary does with a worker over `maxMemoryMb`. Replace-first is the normal path: the
 * replacement is ready before the old worker stops, so the service never goes down, and the
 * slot is never given up for memory (H152). Two bounds on it:
 * - replacements in a row soon after start back off (H164): a worker over the limit from its
 *   start was replaced every 2 s forever;
 * - a worker that grows by the limit once more while its replacement is starting or failed is
 *   stopped without waiting for it, and its slot restarts in place, as PM2 does (H163): a
 *   replacement hanging in its start-up let a leaking worker grow to 12 times the limit. One
 *   whose replacement only waits for its back-off gets it at once instead (H180): no downtime.
 * A worker is handled once it serves, however many heartbeats it was over the limit before
 * (H179): a replacement over the limit while it started was never replaced.
 */
import { ReloadError } from '../../errors.js';
import { toError } from '../../to-error.js';
import type { MemoryReplacementState } from '../primary-events.js';
import { countMemoryReplacement, memoryHardLimitBytes, memoryReplacementDelayMs } from '../pool/memory-policy.js';
import { stopWorker } from '../pool/stop-worker.js';
import type { WorkerRecord } from '../pool/worker-record.js';
import type { PrimaryContext } from '../primary-context.js';
import { normalizeRestartOptions, type NormalizedRestartOptions } from '../primary-options.js';
import { kMemoryStrikes } from './primary-heartbeat.js';
import { isNotStayedUp, isStoppedByStopWorker, replaceWorker, type ReloadContext } from './rolling-reload.js';

/** Without a restart policy, replacements still count and back off by its defaults. */
const kDefaultRestart: NormalizedRestartOptions = normalizeRestartOptions(undefined);

export class MemoryLimit {
  /** Replacements waiting for their back-off, by the worker they replace. */
  readonly #delayed = new WeakMap<WorkerRecord, NodeJS.Timeout>();
  /** Where each worker's memory replacement is; none: no replacement under way or failed. */
  readonly #replacement = new WeakMap<WorkerRecord, MemoryReplacementState | 'backingOff'>();
  /** When each worker's replacement was forked: the hard bound's line says how long it had been starting (H190). */
  readonly #replacedAt = new WeakMap<WorkerRecord, number>();
  /** Workers a memory replacement of which failed: their hard bound is never raised again. */
  readonly #failedOnce = new WeakSet<WorkerRecord>();

  constructor(
    private readonly context: Pick<PrimaryContext, 'options' | 'pool' | 'emit' | 'reportWarning' | 'reportNotice'>,
    private readonly reloadContext: ReloadContext,
  ) {}

  /**
   * Replaces a worker over the limit, every time: the service stays up however often it comes
   * (H152). The count of replacements in a row soon after start changes the line, and from the
   * third the replacement backs off. Called at each heartbeat from the third over the limit:
   * a worker not serving yet, or whose replacement is under way, waits (H179).
   */
  onLimit(record: WorkerRecord, rssBytes: number, limitBytes: number): void {
    const { options, emit } = this.context;
    const slot = record.slot;
    const state = this.#replacement.get(record);
    if (slot.current !== record || state === 'starting' || state === 'backingOff') return;
    // Stopping anyway (a shutdown, a scale-down, a reload), or not running yet: asked again at the next heartbeat.
    if (!this.reloadContext.isRunning() || record.stopRequested) return;
    const restart = options.restart === false ? kDefaultRestart : options.restart;
    const readyForMs = record.readyAt === undefined ? undefined : Date.now() - record.readyAt;
    const inARow = countMemoryReplacement(slot.memoryReplacements, readyForMs, restart.stableAfterMs);
    const delayMs = memoryReplacementDelayMs(inARow, restart);
    emit('workerMemoryLimit', { worker: record.handle, rssBytes, limitBytes, inARow, delayMs, action: 'replace' });
    slot.memoryReplacements = inARow;
    // Taken at the first replacement only: a failed one tried again does not raise the bound.
    record.memoryHardLimitBytes ??= memoryHardLimitBytes(rssBytes, limitBytes);
    if (delayMs === 0) {
      this.#replace(record);
      return;
    }
    this.#replacement.set(record, 'backingOff');
    const timer = setTimeout(() => {
      this.#delayed.delete(record);
      this.#replace(record);
    }, delayMs);
    this.#delayed.set(record, timer);
    void record.whenExited.promise.then(() => clearTimeout(timer));
  }

  /**
   * A worker that reached its hard bound. Its replacement only backing off starts at once, and
   * the bound counts from now (H180: the old worker was stopped with no replacement started, a
   * one-worker service was down 8 s). One starting or failed is not waited for: the worker is
   * stopped (PM2's restart in place: stop, then start). Its exit restarts the slot by the crash
   * rules (restart-after-exit.ts); a replacement still starting may yet take the slot over.
   */
  onHardLimit(record: WorkerRecord, rssBytes: number, limitBytes: number): void {
    const { options, pool, emit } = this.context;
    if (!this.reloadContext.isRunning() || record.stopRequested || record.slot.current !== record) return;
    const state = this.#replacement.get(record);
    if (state === undefined) return;
    clearTimeout(this.#delayed.get(record));
    this.#delayed.delete(record);
    if (state === 'backingOff' && !this.#failedOnce.has(record)) {
      record.memoryHardLimitBytes = memoryHardLimitBytes(rssBytes, limitBytes);
      this.#replace(record);
      return;
    }
    record.isStoppedOverMemory = true;
    const replacement = state === 'starting' ? 'starting' : 'failed';
    const startingMs = state === 'starting' ? Date.now() - (this.#replacedAt.get(record) ?? Date.now()) : undefined;
    emit('workerMemoryLimit', {
      worker: record.handle,
      rssBytes,
      limitBytes,
      inARow: record.slot.memoryReplacements,
      delayMs: 0,
      action: 'restart',
      replacement,
      ...(startingMs === undefined ? {} : { replacementStartingMs: startingMs }),
    });
    void stopWorker(pool, record, options.shutdownTimeoutMs);
  }

  #replace(record: WorkerRecord): void {
    if (!this.reloadContext.isRunning() || record.stopRequested) return;
    const slot = record.slot;
    this.#replacement.set(record, 'starting');
    this.#replacedAt.set(record, Date.now());
    replaceWorker(this.reloadContext, record).then(
      () => {
        // Replaced: it is stopping. Not replaced (it no longer served, its slot retired): armed afresh.
        if (record.stopRequested) return;
        this.#replacement.delete(record);
        record.memoryStrikes = 0;
        record.memoryHardLimitBytes = undefined;
      },
      (error: unknown) => {
        // A shutdown that cut the replacement short stops the old worker too: nothing to say.
        if (error instanceof ReloadError && error.isShutdown) return;
        // Stopped over its hard bound meanwhile: its line said so, and the slot restarts.
        if (record.isStoppedOverMemory) return;
        // A replacement that cannot start (E2BIG since the environment grew, a crash at start)
        // leaves the old worker serving: worth a warning, not the primary's life when nobody
        // listens to 'error'. Its strikes start again, so three more heartbeats over the limit
        // try anew (H153): a leaking worker is not left to grow without bound.
        record.memoryStrikes = 0;
        this.#replacement.set(record, 'failed');
        // The primary's code stopped the replacement (hostile t84 #6/#9, H743): said so, not "failed
        // to start ... killed by SIGTERM" and "fix what stops new workers from starting"; nothing
        // is wrong with the code, so the hard bound is not held against it either. Nor is it a
        // failure for 'error' (hostile t86 N5, H754: it came as ERR_RELOAD_FAILED there): the
        // caller stopped it on purpose, and the warning line says what that leaves.
        if (isStoppedByStopWorker(error)) {
          const text =
            `Worker ${record.id} is over the memory limit, but its replacement for slot ${slot.index} was stopped by stopWorker() before it took the slot over, ` +
            `so worker ${record.id} keeps serving, still over the limit; the replacement is tried again once it stays over the limit for ${kMemoryStrikes} more heartbeats (nothing failed: no code to fix).`;
          this.context.reportNotice(text, 'CLUSTERKIT_REPLACEMENT_STOPPED');
          return;
        }
        this.#failedOnce.add(record);
        const reason = toError(error instanceof ReloadError && error.cause !== undefined ? error.cause : error).message;
        // One that was ready, then exited or went silent within minReadyMs, did start (H360).
        const [failed, fix] = isNotStayedUp(error) ? ['became ready but did not stay up', 'what ends new workers soon after they are ready'] : ['failed to start', 'what stops new workers from starting'];
        const text =
          `Worker ${record.id} is over the memory limit, but its replacement for slot ${slot.index} ${failed}, so it keeps serving; the replacement ` +
          `is tried again once it stays over the limit for ${kMemoryStrikes} more heartbeats. Fix ${fix}: ${reason}`;
        this.context.reportWarning(new ReloadError(text, { cause: error }));
      },
    );
  }
}
