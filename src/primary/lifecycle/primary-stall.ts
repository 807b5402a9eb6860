/**
 * The primary's own stall, measured (H470): a timer that knows when it should have fired. Fired
 * `late` ms after that, the primary was not running for at least those ms (a synchronous hook or
 * scan, a huge synchronous send, a long GC, SIGSTOP), and no worker could be heard meanwhile: its
 * answers waited in the socket. The heartbeat gives that time back to each worker (`onStall`)
 * before it judges anyone, and one WARN names the primary's stall (`onLongStall`), not a worker.
 */

/** Lateness below this (ms) is a loaded machine's timer jitter, not a stall worth a credit: two CPU hogs beside a test run on 2 cores delay timers by tens of ms. */
const kJitterMs = 100;
/** A stall at least this long (ms) is said, once per episode. */
export const kReportStallMs = 1_000;
/** An episode still going on after this long (ms) is said then, with its figure so far, not only at its end. */
const kOngoingSayMs = 10_000;
/**
 * An exit seen this soon (ms) after a stall ended may have come during it: what the stall held
 * back (a SIGCHLD, the channel's end, the messages before them) is read in the loop's first turns after it.
 */
const kSeenWithinMs = 250;
/** Stalls less than this (ms) apart are one episode (a scan in synchronous chunks): said once, when it is over. */
const kEpisodeGapMs = 1_000;

export interface StallCallbacks {
  /**
   * The primary did not run for `stalledMs` ms, up to `now`: each worker's silence clocks move on
   * by that. `lateMs`: the lateness measured (at most `stalledMs`), the figure a report may say.
   */
  onStall(stalledMs: number, lateMs: number, now: number): void;
  /**
   * An episode of stalls blocked the primary for `blockedMs` ms in all (at least `kReportStallMs`),
   * over `spanMs` ms. `isOngoing`: said while it goes on (past `kOngoingSayMs`), its figure so far;
   * such an episode is said again at its end, with its total (H487).
   */
  onLongStall(blockedMs: number, spanMs: number, isOngoing: boolean, endAt: number): void;
  /**
   * The wall clock moved on `jumpMs` ms more than the monotonic one, up to `now`: the machine was
   * suspended (a laptop's lid, a paused VM: every process stood still, the workers too) or the
   * clock was stepped forward (NTP). No silence, no stall: the silences, counted on the wall
   * clock, move on by it whole.
   */
  onClockJump(jumpMs: number, now: number): void;
}

export class PrimaryStall {
  #timer: NodeJS.Timeout | undefined;
  #lastCheckAt = 0;
  /** The wall clock at the last check (ms since the epoch): the silences are counted on it. */
  #lastWallAt = 0;
  /**
   * The last time the primary could see nothing (wall clock, ms since the epoch): a stall it
   * measured, or a jump of the wall clock. An exit seen just after it may have come at any point
   * of it (`unseenSince`, H486).
   */
  #lastUnseen: { startAt: number; endAt: number } | undefined;
  /** The stalls of the episode not yet said. */
  #episode: { startAt: number; endAt: number; blockedMs: number; isSaid: boolean } | undefined;

  /**
   * `periodMs`: how often the clock checks itself; a stall is measured to within it. `limits`:
   * the thresholds (ms), shorter only in tests, which would otherwise stall for 10 s.
   */
  constructor(
    private readonly periodMs: number,
    private readonly callbacks: StallCallbacks,
    private readonly limits = { reportMs: kReportStallMs, ongoingMs: kOngoingSayMs, episodeGapMs: kEpisodeGapMs },
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#lastCheckAt = performance.now();
    this.#lastWallAt = Date.now();
    this.#timer = setInterval(() => this.check(), this.periodMs);
    this.#timer.unref();
  }

  /** Says an episode not said yet: a shutdown does not hide the stall that preceded it. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sayEpisode();
  }

  /**
   * Measures the stall up to `now`; the heartbeat calls it first thing in its tick, which may
   * run before this clock's own timer after a stall (both wait in the same timers phase).
   * Returns the stall found (ms), 0 when the primary ran on time.
   */
  check(now = Date.now()): number {
    if (!this.#timer) return 0;
    // Lateness on the monotonic clock: a wall clock stepped forward (NTP) is no stall.
    const checkedAt = performance.now();
    const gap = checkedAt - this.#lastCheckAt;
    const late = gap - this.periodMs;
    this.#lastCheckAt = checkedAt;
    // The wall clock ahead of the monotonic one (a suspend, an NTP step): the workers' silences,
    // counted on the wall clock, would pass every timeout at once (code review of H470: every
    // worker killed after a laptop's resume). Given back whole, and no stall of the primary's.
    const jumpMs = now - this.#lastWallAt - gap;
    this.#lastWallAt = now;
    if (jumpMs > kJitterMs) {
      // Seen last at the previous check, on the wall clock.
      this.#lastUnseen = { startAt: now - jumpMs - gap, endAt: now };
      this.callbacks.onClockJump(jumpMs, now);
    }
    if (late <= kJitterMs) {
      if (this.#episode !== undefined && now - this.#episode.endAt >= this.limits.episodeGapMs) this.#sayEpisode();
      return 0;
    }
    // At least `late` ms, at most the whole gap: it began at some point in the period before.
    // Up to twice `late`: a scan in chunks (each a stall) is given back nearly whole, not short
    // of a period each time, and a timer a little late on a loaded machine is not given much.
    const stalledMs = Math.min(gap, 2 * late);
    const startAt = now - stalledMs;
    this.#lastUnseen = { startAt: Math.min(startAt, this.#lastUnseen?.endAt === now ? this.#lastUnseen.startAt : startAt), endAt: now };
    if (this.#episode !== undefined && startAt - this.#episode.endAt >= this.limits.episodeGapMs) this.#sayEpisode();
    // Said as what was measured, `late`: the doubled figure is a credit given to workers, not a fact (retest t50: "2901 ms").
    // A stall seen whole at its end (one late check: a SIGSTOP and SIGCONT, a long synchronous
    // call) is over: never said "and still is" (newcomer t82 #6), only at its episode's end.
    const isSeenWhole = this.#episode === undefined;
    if (this.#episode === undefined) this.#episode = { startAt, endAt: now, blockedMs: late, isSaid: false };
    else {
      this.#episode.endAt = now;
      this.#episode.blockedMs += late;
    }
    // Lateness that keeps coming never ends an episode: past `kOngoingSayMs` it is said while it goes on (its figure so far).
    if (!isSeenWhole && !this.#episode.isSaid && this.#episode.blockedMs >= this.limits.reportMs && this.#episode.endAt - this.#episode.startAt >= this.limits.ongoingMs) {
      this.#episode.isSaid = true;
      this.callbacks.onLongStall(this.#episode.blockedMs, this.#episode.endAt - this.#episode.startAt, true, this.#episode.endAt);
    }
    this.callbacks.onStall(stalledMs, late, now);
    return stalledMs;
  }

  /**
   * Since when the primary may not have seen what happened up to `at` (ms since the epoch): the
   * start of a stall or clock jump of `kReportStallMs` or more that ended within `kSeenWithinMs` before `at`, else `at`
   * itself. An exit seen then may have come at any time since (H486: a worker crashed while the
   * primary was stopped 4 s was counted ready 4 s longer, past `stableAfterMs`). Call `check()` first.
   * `ranAt`: when the primary is known to have run (it handled the worker's ready notice then):
   * only the part of the stall after it counts. A stall that ended before a worker became ready
   * hid nothing of it (under-load suite: `at least 0 ms after it became ready (its exit was seen
   * only after the primary's own 7 ms stall)`, H698).
   */
  unseenSince(at: number, ranAt?: number): number {
    const unseen = this.#lastUnseen;
    if (unseen === undefined || at - unseen.endAt > kSeenWithinMs || unseen.startAt >= at) return at;
    const since = Math.max(unseen.startAt, ranAt ?? unseen.startAt);
    // Shorter ones are a loaded machine's (tens to hundreds of ms): said as a stall neither.
    return unseen.endAt - since >= this.limits.reportMs ? since : at;
  }

  #sayEpisode(): void {
    const episode = this.#episode;
    this.#episode = undefined;
    // One said while it went on is said again, with its total: its first figure was 10 s of what may have been minutes (code review t51).
    if (episode !== undefined && episode.blockedMs >= this.limits.reportMs) this.callbacks.onLongStall(episode.blockedMs, episode.endAt - episode.startAt, false, episode.endAt);
  }
}
