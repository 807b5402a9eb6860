/**
 * Timeout groups of pending requests (pending.ts): requests with the same timeout added within
 * a short window share one p-timeout timer.
 */
import { canSetStackSettings } from '../stack-settings.js';
import pTimeout from 'p-timeout';
import { timerDelay } from '../duration.js';

/** Longest window over which requests share one timer. */
const kMaxGroupWindowMs = 10;

/** How long a group for `timeoutMs` takes new members: at most 10 ms and 1% of the timeout. */
export function groupWindowMs(timeoutMs: number): number {
  return Math.min(kMaxGroupWindowMs, Math.floor(timeoutMs / 100));
}

/**
 * Requests sharing one timer. It keeps no list of its members: a settled request must become
 * garbage at once (a list would keep thousands alive long enough to be promoted to the old
 * generation, which made GC the largest cost under load). Expiry, which is rare, finds the
 * members still pending in the pending table instead, by the range of their ids.
 */
export class TimeoutGroup {
  /** Members not yet settled; the group's timer is cleared when this reaches 0 after closing. */
  unsettled = 0;
  /**
   * The ids of its first and last member (ids rise: pending.ts's `nextRequestId`). Its members
   * are among the ids between: expiry looks them up there, not through every pending request,
   * which made a flood of requests with as many distinct timeouts (relays, each with what is left
   * of its sender's time) quadratic (hostile t67 F3).
   */
  firstId = 0;
  lastId = 0;
  /** Takes members until `closesAt`, or until a newer group for its timeout replaces it. */
  isOpen = true;
  readonly closesAt: number;
  finish!: () => void;
  readonly allSettled = new Promise<void>((resolve) => {
    this.finish = resolve;
  });

  constructor(
    readonly timeoutMs: number,
    readonly windowMs: number,
    now: number,
  ) {
    this.closesAt = now + windowMs;
  }

  close(): void {
    this.isOpen = false;
    if (this.unsettled === 0) this.finish();
  }
}

/** Arms the group's one timer: `onTimeout` runs at its timeout plus its window, unless all its members settled. */
export function armTimeout(group: TimeoutGroup, onTimeout: () => void): void {
  // p-timeout builds a TimeoutError eagerly for its default rejection. We never use it (the
  // fallback rejects each member with its own MessageTimeoutError), so skip its stack capture.
  const stackTraceLimit = Error.stackTraceLimit;
  // Frozen (node --frozen-intrinsics, H662): the capture is paid, nothing else changes.
  const canSet = canSetStackSettings();
  if (canSet) Error.stackTraceLimit = 0;
  try {
    // The window on top of a timeout near the longest delay must not overflow the timer.
    void pTimeout(group.allSettled, { milliseconds: timerDelay(group.timeoutMs + group.windowMs), fallback: onTimeout });
  } finally {
    if (canSet) Error.stackTraceLimit = stackTraceLimit;
  }
}
