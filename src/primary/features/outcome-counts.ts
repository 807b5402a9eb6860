/**
 * The outcomes `/metrics` counts since the primary started (H375): reloads that succeeded,
 * failed or were superseded (H388), requests cut off and connections reset, by cause. Counted from the events the primary
 * emits, whether or not the app listens to them: `observeOutcomes()` sits between the primary's
 * code and its emitter. Each event is counted once, from the one place that tells it:
 *
 * - `workerRequestsCut`: what a stopping worker cut (`deadline`, `exit`, `closed`, `signal`,
 *   `handlers`) or a worker that exited with code 0 unasked (`unexpected-exit`), and the idle
 *   connections that exit reset;
 * - `workerExit` with `killed`: what the primary's SIGKILL cut (the heartbeat's, a stop's
 *   timeout, the channel's), `killed`; with `beforeTakeover`, what a reload's replacement that
 *   crashed before its takeover cut (no `workerCrash` follows it), `crash`;
 * - `workerCrash`: what any other crash cut, `crash` (one after a kill of the primary's was
 *   counted at its `workerExit`, which comes just before);
 * - the pool's `connectionsReset`: connections node:cluster or the kernel reset before any
 *   worker took them (a shutdown's closed sockets, handoffs no worker took), `unaccepted`.
 *
 * `ShutdownReport.requestsCut` is the sum of these for one stop, so it is not counted again.
 */
import { ReloadError } from '../../errors.js';
import type { SafeEmitter } from '../../safe-emit.js';
import type { RequestsCutReason, UnreplacedExit } from '../primary-events.js';

/** The causes of `clusterkit_requests_cut_total{reason}`, each written from the first scrape at 0. */
export const kRequestsCutReasons = ['killed', 'crash', 'deadline', 'exit', 'closed', 'unexpected-exit', 'signal', 'handlers'] as const satisfies ReadonlyArray<RequestsCutReason | 'killed' | 'crash'>;
export type CutReason = (typeof kRequestsCutReasons)[number];

/** The causes of `clusterkit_connections_reset_total{reason}`: idle connections of a worker ended so, or `unaccepted` ones. */
export const kConnectionsResetReasons = ['unaccepted', 'killed', 'crash', 'unexpected-exit'] as const;
export type ResetReason = (typeof kConnectionsResetReasons)[number];

/** The figures `formatClusterMetrics()` writes. */
export interface OutcomeFigures {
  readonly reloadsSucceeded: number;
  readonly reloadsFailed: number;
  /** Reloads a newer change of the watched files superseded (`--watch`, H388): not counted as failed. */
  readonly reloadsSuperseded: number;
  readonly requestsCut: ReadonlyMap<CutReason, number>;
  /** Idle connections reset with a worker, by cause; `unaccepted` comes from the pool. */
  readonly connectionsReset: ReadonlyMap<ResetReason, number>;
}

/** The events counted here (they are observed even when nobody listens). */
const kObserved = new Set(['reloadComplete', 'reloadFailed', 'workerRequestsCut', 'workerExit', 'workerCrash']);

interface ObservedEvent {
  readonly worker?: { readonly id: number };
  readonly reason?: RequestsCutReason;
  readonly openRequests?: number;
  readonly killed?: boolean;
  readonly lostRequests?: number;
  readonly resetConnections?: number;
  readonly beforeTakeover?: UnreplacedExit;
  readonly error?: unknown;
}

export class OutcomeCounts {
  #reloadsSucceeded = 0;
  #reloadsFailed = 0;
  #reloadsSuperseded = 0;
  readonly #requestsCut = new Map<CutReason, number>();
  readonly #connectionsReset = new Map<ResetReason, number>();
  /** The worker whose `workerExit` said the primary killed it: its `workerCrash`, which follows at once, is not counted again. */
  #killedId: number | undefined;

  /** The figures now; `unaccepted` is the pool's count (`WorkerPool.connectionsReset`). */
  figures(unaccepted: number): OutcomeFigures {
    return {
      reloadsSucceeded: this.#reloadsSucceeded,
      reloadsFailed: this.#reloadsFailed,
      reloadsSuperseded: this.#reloadsSuperseded,
      requestsCut: this.#requestsCut,
      connectionsReset: new Map([...this.#connectionsReset, ['unaccepted', unaccepted]]),
    };
  }

  /** Counts what one event tells. */
  note(event: string, payload: unknown): void {
    const data = (payload ?? {}) as ObservedEvent;
    switch (event) {
      case 'reloadComplete':
        this.#reloadsSucceeded += 1;
        return;
      case 'reloadFailed':
        if (data.error instanceof ReloadError && data.error.isSuperseded) this.#reloadsSuperseded += 1;
        else this.#reloadsFailed += 1;
        return;
      case 'workerRequestsCut':
        if (data.reason !== undefined) this.#cut(data.reason, data.openRequests, data.reason === 'unexpected-exit' ? data.resetConnections : undefined);
        return;
      case 'workerExit':
        this.#killedId = data.killed ? data.worker?.id : undefined;
        if (data.killed) this.#cut('killed', data.lostRequests, data.resetConnections);
        else if (data.beforeTakeover !== undefined) this.#cut('crash', data.beforeTakeover.lostRequests, data.beforeTakeover.resetConnections);
        return;
      case 'workerCrash':
        if (data.worker !== undefined && data.worker.id === this.#killedId) return;
        this.#cut('crash', data.lostRequests, data.resetConnections);
        return;
    }
  }

  #cut(reason: CutReason, requests: number | undefined, resets: number | undefined): void {
    if (requests !== undefined && requests > 0) this.#requestsCut.set(reason, (this.#requestsCut.get(reason) ?? 0) + requests);
    if (resets !== undefined && resets > 0 && (kConnectionsResetReasons as readonly string[]).includes(reason)) {
      const key = reason as ResetReason;
      this.#connectionsReset.set(key, (this.#connectionsReset.get(key) ?? 0) + resets);
    }
  }
}

/** `events`, with `counts` told of every event it counts first, listened to or not. */
export function observeOutcomes(events: SafeEmitter, counts: OutcomeCounts): SafeEmitter {
  return {
    ...events,
    emit(event, payload) {
      if (kObserved.has(event)) counts.note(event, payload);
      events.emit(event, payload);
    },
  };
}
