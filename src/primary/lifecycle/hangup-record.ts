/**
 * What the primary did with its own SIGHUPs, for a worker that asks about one it got (`$hangup`,
 * H291). A process group's SIGHUP (a terminal's hangup, `kill -HUP -<pgid>`) reaches the primary
 * and its workers at once; a `kill -HUP <worker pid>` reaches one worker alone, and nothing
 * reloads. Node cannot tell a signal's sender, so the worker asks, and the primary answers from
 * the time of its own: one within `kHangupRecentMs` before the question is the same signal; else it
 * waits up to `kWaitMs` for one (its listener may run after the worker's question is read, on a
 * busy loop), then answers that it got none.
 */
import type { HangupOutcome, HangupReply } from '../../messaging/system-types.js';

/**
 * How long before a worker's question (or a loading worker's death) the primary's own SIGHUP
 * still counts as the same signal, in ms.
 */
export const kHangupRecentMs = 2_000;
/** How long the primary waits for its own SIGHUP after a worker's question, in ms. */
const kWaitMs = 500;

export type PrimaryHangupOutcome = Exclude<HangupOutcome, 'none' | 'unknown'>;

/** The one wait for an answer under way; `timer`: its "none" after `kWaitMs`, none while undecided. */
interface PendingAnswer {
  readonly promise: Promise<HangupReply>;
  readonly settle: (outcome: HangupReply['outcome']) => void;
  timer: NodeJS.Timeout | undefined;
}

export class HangupRecord {
  /** Its last SIGHUP; `outcome` undefined while still undecided (`noteUndecided`). */
  #last: { at: number; outcome: PrimaryHangupOutcome | undefined } | undefined;
  /**
   * The one wait under way, shared by every question asked meanwhile: a group's SIGHUP asks once
   * per worker, and a worker that floods `$hangup` costs one timer, not one per message.
   */
  #pending: PendingAnswer | undefined;
  /**
   * The name the primary's control socket serves, once it is open: the worker's line gives the
   * command to run (`clusterkit reload api`), not a `<name>` placeholder.
   */
  controlName: string | undefined;

  /**
   * Notes a SIGHUP of the primary's own and what it did with it; after `noteUndecided`, the
   * outcome of that same SIGHUP (its time kept), which the questions waiting for it get.
   */
  note(outcome: PrimaryHangupOutcome): void {
    const at = this.#last !== undefined && this.#last.outcome === undefined ? this.#last.at : performance.now();
    this.#last = { at, outcome };
    this.#pending?.settle(outcome);
  }

  /**
   * Notes a SIGHUP of the primary's own whose outcome comes later (a reload waits out the
   * signal's copies, and a stop that begins meanwhile wins): a question asked until `note()`
   * waits for it, however long that takes, rather than getting a guess or "none" (retest t74 P2).
   */
  noteUndecided(): void {
    this.#last = { at: performance.now(), outcome: undefined };
    // A question already waiting for a SIGHUP has it now: it waits for the outcome, not for its timer.
    if (this.#pending !== undefined) {
      clearTimeout(this.#pending.timer);
      this.#pending.timer = undefined;
    }
  }

  /**
   * Whether the primary got a SIGHUP of its own at most `kHangupRecentMs` before `at` (a
   * `performance.now()` time), or since: a worker still loading that died of SIGHUP then had the
   * same signal, sent to the whole process group (hangup-collateral in worker-pool.ts).
   */
  heardSince(at: number): boolean {
    return this.#last !== undefined && this.#last.at >= at - kHangupRecentMs;
  }

  /** The answer to a worker's `$hangup`; `isHandled`: the primary handles signals (`handleSignals`). */
  answer(isHandled: boolean): HangupReply | Promise<HangupReply> {
    if (!isHandled) return this.#reply('unknown');
    const last = this.#last !== undefined && performance.now() - this.#last.at <= kHangupRecentMs ? this.#last : undefined;
    if (last?.outcome !== undefined) return this.#reply(last.outcome);
    if (this.#pending) return this.#pending.promise;
    let resolvePromise!: (reply: HangupReply) => void;
    const promise = new Promise<HangupReply>((resolve) => (resolvePromise = resolve));
    const pending: PendingAnswer = {
      promise,
      settle: (outcome) => {
        clearTimeout(pending.timer);
        this.#pending = undefined;
        resolvePromise(this.#reply(outcome));
      },
      // Undecided (`last` without an outcome): no timer, the outcome comes with note().
      timer: last === undefined ? setTimeout(() => pending.settle('none'), kWaitMs).unref() : undefined,
    };
    this.#pending = pending;
    return promise;
  }

  #reply(outcome: HangupOutcome): HangupReply {
    return this.controlName === undefined ? { outcome } : { outcome, name: this.controlName };
  }
}
