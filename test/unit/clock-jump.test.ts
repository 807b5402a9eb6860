/**
 * The wall clock moving on further than the monotonic one (a suspended machine, an NTP step
 * forward) is no stall of the primary: it is handed on as a jump, given back whole to every
 * worker's silence, and never said as `ERR_PRIMARY_BLOCKED`.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PrimaryStall } from '../../src/primary/lifecycle/primary-stall.js';

describe('PrimaryStall and the wall clock', () => {
  let stall: PrimaryStall | undefined;
  afterEach(() => stall?.stop());

  it('[H475] a wall clock 30 s ahead of the monotonic one is a jump, not a stall', () => {
    const jumps: number[] = [];
    const stalls: number[] = [];
    const said: number[] = [];
    stall = new PrimaryStall(250, { onStall: (ms) => stalls.push(ms), onLongStall: (ms) => said.push(ms), onClockJump: (ms) => jumps.push(ms) });
    stall.start();
    stall.check(Date.now() + 30_000);
    expect(jumps).toHaveLength(1);
    expect(jumps[0]).toBeGreaterThan(29_000);
    // The wall clock reads whole ms, the monotonic one fractions: the jump is 30 s within 1 ms (the under-load suite read 30000.57).
    expect(jumps[0]).toBeLessThan(30_001);
    expect(stalls).toEqual([]);
    stall.stop();
    stall = undefined;
    expect(said).toEqual([]);
  });

  it('[H475] a wall clock stepped back is neither', () => {
    const calls: string[] = [];
    stall = new PrimaryStall(250, { onStall: () => calls.push('stall'), onLongStall: () => calls.push('said'), onClockJump: () => calls.push('jump') });
    stall.start();
    // The clock stays stepped back from then on.
    stall.check(Date.now() - 30_000);
    stall.check(Date.now() - 30_000);
    expect(calls).toEqual([]);
  });

  it('[H486] an exit seen just after a stall or a jump of 1 s or more may have come since its start; a short one, or one long over, hides nothing', () => {
    stall = new PrimaryStall(250, { onStall: () => {}, onLongStall: () => {}, onClockJump: () => {} });
    stall.start();
    const now = Date.now();
    expect(stall.unseenSince(now)).toBe(now);
    // A 30 s jump: seen last at the start.
    stall.check(now + 30_000);
    expect(stall.unseenSince(now + 30_000)).toBeLessThanOrEqual(now);
    expect(stall.unseenSince(now + 30_000)).toBeGreaterThan(now - 250);
    // Long over (past kSeenWithinMs): the primary ran since, it would have seen an exit.
    expect(stall.unseenSince(now + 31_000)).toBe(now + 31_000);
    // Under a second: a loaded machine's lateness, not taken off.
    const short = new PrimaryStall(250, { onStall: () => {}, onLongStall: () => {}, onClockJump: () => {} });
    short.start();
    try {
      const at = Date.now();
      short.check(at + 500);
      expect(short.unseenSince(at + 500)).toBe(at + 500);
    } finally {
      short.stop();
    }
  });

  // Under-load suite: `at least 0 ms after it became ready (its exit was seen only after the
  // primary's own 7 ms stall)`, of a worker that became ready after the stall had ended.
  it('[H698] a stall counts only after the primary is known to have run (it saw the worker ready): before that, it hid nothing', () => {
    stall = new PrimaryStall(250, { onStall: () => {}, onLongStall: () => {}, onClockJump: () => {} });
    stall.start();
    const now = Date.now();
    // A 30 s jump, up to now + 30 000.
    stall.check(now + 30_000);
    const since = stall.unseenSince(now + 30_000);
    // The primary ran after it ended (it saw a worker ready 7 ms before the exit): the exit was seen in time.
    expect(stall.unseenSince(now + 30_007, now + 30_000)).toBe(now + 30_007);
    // It ran during it (a window reaching back before a shorter real stall): from then on, while a second or more of it is left.
    expect(stall.unseenSince(now + 30_000, now + 10_000)).toBe(now + 10_000);
    expect(stall.unseenSince(now + 30_000, now + 29_500)).toBe(now + 30_000);
    // Before it: as without.
    expect(stall.unseenSince(now + 30_000, since - 5_000)).toBe(since);
  });

  it('[H737] a stall seen whole at its end (SIGSTOP, then SIGCONT) is said once, as over, never "and still is"', () => {
    const said: Array<[number, boolean]> = [];
    // Thresholds a tenth of the real ones; one stretch of 700 ms, past the ongoing threshold, checked once at its end.
    stall = new PrimaryStall(50, { onStall: () => {}, onClockJump: () => {}, onLongStall: (blockedMs, _spanMs, isOngoing) => said.push([blockedMs, isOngoing]) }, { reportMs: 100, ongoingMs: 500, episodeGapMs: 1_000 });
    stall.start();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700);
    stall.check();
    // Before: said at once "has been blocked for 650 ms so far, and still is", then again as over.
    expect(said).toEqual([]);
    stall.stop();
    stall = undefined;
    expect(said).toHaveLength(1);
    expect(said[0]![1]).toBe(false);
    expect(said[0]![0]).toBeGreaterThanOrEqual(600);
  });

  it('[H487] a stall said while it goes on is said again at its end, with its total', () => {
    const said: Array<[number, number, boolean]> = [];
    // Thresholds a tenth of the real ones (1 s said, 10 s ongoing, 1 s apart), so the test sleeps about 1.2 s, not 12.
    stall = new PrimaryStall(50, { onStall: () => {}, onClockJump: () => {}, onLongStall: (blockedMs, spanMs, isOngoing) => said.push([blockedMs, spanMs, isOngoing]) }, { reportMs: 100, ongoingMs: 500, episodeGapMs: 1_000 });
    stall.start();
    // Stretches of 200 ms asleep, each checked at its end (as the heartbeat's tick does): late by about 150 ms each.
    for (let i = 0; i < 6; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      stall.check();
    }
    expect(said).toHaveLength(1);
    const [soFar, , isOngoing] = said[0]!;
    expect(isOngoing).toBe(true);
    // The end of the episode (here the primary's stop) says its total.
    stall.stop();
    stall = undefined;
    expect(said).toHaveLength(2);
    const [total, span, isFinal] = said[1]!;
    expect(isFinal).toBe(false);
    expect(total).toBeGreaterThan(soFar);
    expect(total).toBeGreaterThanOrEqual(6 * 140);
    expect(span).toBeGreaterThanOrEqual(total);
  });

  it('[H627] a stall is said with the time its episode ended, not the time of the saying (which comes an episode gap later)', () => {
    const said: Array<{ endAt: number; spanMs: number; saidAt: number }> = [];
    stall = new PrimaryStall(50, { onStall: () => {}, onClockJump: () => {}, onLongStall: (_blockedMs, spanMs, _isOngoing, endAt) => said.push({ endAt, spanMs, saidAt: Date.now() }) }, { reportMs: 100, ongoingMs: 5_000, episodeGapMs: 300 });
    stall.start();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const endedAt = Date.now();
    stall.check(endedAt);
    // On time again, past the episode gap: the episode is said now.
    stall.check(endedAt + 400);
    expect(said).toHaveLength(1);
    // Retest t63: matched against the saying's time, clusterkit's own work in the episode was missed.
    expect(said[0]!.endAt).toBe(endedAt);
    expect(said[0]!.spanMs).toBeGreaterThan(0);
  });
});
