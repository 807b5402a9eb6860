/**
 * A worker slot: one position in the pool, filled by successive workers as they are restarted
 * or reloaded. A restarted worker keeps its slot's number, name and roles.
 */
import { deferred, type Deferred } from '../../deferred.js';
import { kFreshHistory, type RestartHistory } from './restart-policy.js';
import type { WorkerHandle } from './worker-handle.js';
import type { WorkerRecord } from './worker-record.js';

/**
 * A slot's failures since its last ready worker (H396): set at each unexpected exit it restarts
 * from, cleared when a worker of the slot is ready, or when the slot is retired (given up too:
 * `givenUp` says it then). What `status` shows of a slot in a crash loop before it is given up.
 */
export interface SlotFailure {
  /** Exits in a row since the slot last ran stable: the restart policy's attempt (the backoff grows with it). */
  readonly failures: number;
  /** The failed starts among them in a row (`restart.maxStartupFailures` gives the slot up at its value). */
  readonly failedStarts: number;
  /** How the last worker ended, on one line. */
  readonly lastFailure: string;
  /** When it ended (ms since the epoch). */
  readonly failedAt: number;
  /** When its restart is due (ms since the epoch): the exit plus the backoff delay. */
  readonly restartAt: number;
}

export interface SlotSpec {
  readonly name: string | undefined;
  readonly roles: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Called when a slot's serving worker changes, with the one it had before (undefined at its first). */
export type SlotServeListener = (slot: Slot, previous: WorkerRecord | undefined) => void;

/**
 * How many workers of a slot a group's SIGHUP may kill while loading, in a row (none ready
 * between), before such a death counts as a failed start again (`Slot.groupHangups`).
 */
export const kMaxGroupHangups = 3;

export class Slot {
  /** Set with `current`; read through it. */
  #current: WorkerRecord | undefined;
  history: RestartHistory = kFreshHistory;
  /** Workers started in this slot after the first (restarts and replacements). */
  restarts = 0;
  /**
   * Exits of this slot's worker the primary did not plan (restart-after-exit.ts): crashes, kills
   * from outside, exits on its own (code 0 too), and the primary's kills of a failing worker (the
   * heartbeat, the ready timeout, its channel). Not its stops, reloads, scale-downs or
   * memory-limit restarts: PM2's restarts apart from its planned ones, what an alert counts.
   */
  crashes = 0;
  /** Memory replacements in a row, each soon after its worker started (memory-policy.ts). */
  memoryReplacements = 0;
  /** Set from an unexpected exit until a worker of the slot is ready again (H396). */
  failing: SlotFailure | undefined = undefined;
  /**
   * Its workers a group's SIGHUP killed while loading since one of its workers was last ready
   * (`WorkerRecord.isGroupHangup`): past `kMaxGroupHangups` such a death counts as a failed start
   * again, so that a script that signals its own process group as it loads (`process.kill(0,
   * 'SIGHUP')`) meets the crash-loop breaker, not a loop of restarts (retest t73).
   */
  groupHangups = 0;
  /** Set while a restart waits for its backoff delay; cleared when it fires or is cancelled. */
  restartTimer: NodeJS.Timeout | undefined;
  /**
   * A reload's replacement starting for this slot (H345): a restart due meanwhile waits for it
   * (`deferRestart`), or the slot ran the restart's worker and the replacement together.
   */
  #incoming: WorkerRecord | undefined;
  /** The restart that came due while `#incoming` started: it runs if the replacement does not take over. */
  #deferredRestart: (() => void) | undefined;
  /** No more workers for this slot: stopped on purpose, shut down, or crash-looped. */
  isRetired = false;
  /** Retired by the caller's `stopWorker()` of its worker, not by a scale-down: a reload names which removed it (hostile t84, H757). */
  isRemovedByStopWorker = false;
  /** Set once a worker of this slot listened: its later workers are ready only once they listen too (ready-on-listen.ts). */
  hasListened = false;
  /** One of the primary's initial slots: while it has had no ready worker, its giving up fails `start()`, which stops every worker. */
  isInitial = false;
  /** Settles when the slot first has a ready worker, or fails for good; what `fork()` awaits. */
  readonly firstReady: Deferred<WorkerHandle> = deferred();

  constructor(
    readonly index: number,
    readonly spec: SlotSpec,
    /** Told of every change of `current` (the pool emits `slotChange` from it). */
    readonly onServe: SlotServeListener = () => {},
  ) {}

  /** The worker serving this slot; a reload's incoming worker replaces it only once ready. */
  get current(): WorkerRecord | undefined {
    return this.#current;
  }

  set current(record: WorkerRecord | undefined) {
    const previous = this.#current;
    this.#current = record;
    if (record !== undefined && record !== previous) this.onServe(this, previous);
  }

  /** Cancels its pending restart; true when one was waiting out its back-off delay (said in a stop's report). */
  cancelRestart(): boolean {
    const wasWaiting = this.restartTimer !== undefined;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.#deferredRestart = undefined;
    return wasWaiting;
  }

  /** A reload's replacement is starting for this slot: a restart due now waits for it (H345). */
  get isReplacing(): boolean {
    return this.#incoming !== undefined;
  }

  /** The reload's replacement starting (or staying up its `minReadyMs`) for this slot; undefined when none. */
  get incoming(): WorkerRecord | undefined {
    return this.#incoming;
  }

  /** A reload starts `record` to replace this slot's worker: restarts wait until `endReplacing`. */
  beginReplacing(record: WorkerRecord): void {
    this.#incoming = record;
  }

  /** Called by a restart that came due while `isReplacing`: it runs at `endReplacing`, unless cancelled. */
  deferRestart(restart: () => void): void {
    this.#deferredRestart = restart;
  }

  /**
   * The replacement took the slot over or is gone: a restart deferred meanwhile runs now (it
   * does nothing when its worker is no longer the slot's: the replacement took over).
   */
  endReplacing(): void {
    this.#incoming = undefined;
    const restart = this.#deferredRestart;
    this.#deferredRestart = undefined;
    restart?.();
  }
}
