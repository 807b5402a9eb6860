import { describe, expect, it } from '@jest/globals';
import { normalizeRestartOptions } from '../../src/primary/primary-options.js';
import { backoffDelay, decideRestart, historyAtTakeover, isStartupFailure, kFreshHistory, type RestartHistory } from '../../src/primary/pool/restart-policy.js';

const options = normalizeRestartOptions({ backoff: { initialMs: 100, factor: 2, maxMs: 1_000 }, stableAfterMs: 30_000, startupWindowMs: 5_000, maxStartupFailures: 3, maxRestarts: 5, windowMs: 60_000 });
const crash = { wasReady: true, readyMs: 10_000, hasServed: false };

describe('restart policy', () => {
  it('grows the delay exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, options))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('grows the delay for repeated crashes and resets it after a stable run', () => {
    let history: RestartHistory = kFreshHistory;
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const decision = decideRestart(history, crash, options, i * 11_000);
      if (!decision.restart) throw new Error('expected a restart');
      delays.push(decision.delayMs);
      history = decision.history;
    }
    expect(delays).toEqual([100, 200, 400]);
    const afterStable = decideRestart(history, { wasReady: true, readyMs: 31_000, hasServed: false }, options, 40_000);
    expect(afterStable).toMatchObject({ restart: true, delayMs: 100, attempt: 1 });
  });

  it('measures stability from ready: a slow _init followed by a quick death keeps growing the delay', () => {
    // The issue-12 case: _init takes 800 ms, the worker dies 100 ms after ready, stableAfterMs 500.
    const policy = normalizeRestartOptions({ backoff: { initialMs: 100, factor: 2, maxMs: 10_000 }, stableAfterMs: 500, startupWindowMs: 0 });
    let history: RestartHistory = kFreshHistory;
    const restarts: Array<[number, number]> = [];
    for (let i = 0; i < 4; i++) {
      const decision = decideRestart(history, { wasReady: true, readyMs: 100, hasServed: false }, policy, i * 2_000);
      if (!decision.restart) throw new Error('expected a restart');
      restarts.push([decision.delayMs, decision.attempt]);
      history = decision.history;
    }
    expect(restarts).toEqual([[100, 1], [200, 2], [400, 3], [800, 4]]);
  });

  it('counts a death within startupWindowMs of ready as a startup failure, whatever _init took', () => {
    const policy = normalizeRestartOptions({ stableAfterMs: 500, startupWindowMs: 1_000, maxStartupFailures: 3 });
    let history: RestartHistory = kFreshHistory;
    const decisions = [0, 1, 2].map((i) => {
      const decision = decideRestart(history, { wasReady: true, readyMs: 100, hasServed: false }, policy, i * 2_000);
      history = decision.history;
      return decision;
    });
    expect(decisions.map((decision) => decision.restart)).toEqual([true, true, false]);
    expect(decisions[2]).toMatchObject({ reason: 'startup-failures', failures: 3 });
    // Ready past the window: an ordinary crash, and the failure count starts over.
    expect(decideRestart(kFreshHistory, { wasReady: true, readyMs: 1_000, hasServed: false }, policy, 0).history.startupFailures).toBe(0);
  });

  it('trips the crash-loop breaker after maxStartupFailures startup failures in a row', () => {
    let history: RestartHistory = kFreshHistory;
    const failures = [{ wasReady: false, readyMs: 0, hasServed: false }, { wasReady: true, readyMs: 1_000, hasServed: false }, { wasReady: false, readyMs: 0, hasServed: false }];
    const decisions = failures.map((ended, i) => {
      const decision = decideRestart(history, ended, options, i * 100);
      history = decision.history;
      return decision;
    });
    expect(decisions.map((decision) => decision.restart)).toEqual([true, true, false]);
    expect(decisions[2]).toMatchObject({ restart: false, reason: 'startup-failures', failures: 3 });
  });

  it('does not count a crash after the startup window as a startup failure', () => {
    const first = decideRestart(kFreshHistory, { wasReady: false, readyMs: 0, hasServed: false }, options, 0);
    const second = decideRestart(first.history, crash, options, 1_000);
    expect(second.history.startupFailures).toBe(0);
  });

  it('bounds ordinary crashes with maxRestarts per window', () => {
    let history: RestartHistory = kFreshHistory;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 7; i++) {
      const decision = decideRestart(history, crash, options, i * 1_000);
      outcomes.push(decision.restart);
      history = decision.history;
    }
    expect(outcomes).toEqual([true, true, true, true, true, false, false]);
    const later = decideRestart(history, crash, options, 200_000);
    expect(later.restart).toBe(true);
  });

  it('defaults to a startup window of 1 s (PM2\'s min_uptime): a worker that served longer crashed, it did not fail to start', () => {
    const defaults = normalizeRestartOptions(undefined);
    expect(defaults).toMatchObject({ startupWindowMs: 1_000, maxStartupFailures: 3, maxRestarts: 10, windowMs: 60_000, stableAfterMs: 30_000 });
    let history: RestartHistory = kFreshHistory;
    // The report's case: a request path that crashes the worker, 1.5 s after each ready.
    const decisions = [0, 1, 2, 3, 4, 5].map((i) => {
      const decision = decideRestart(history, { wasReady: true, readyMs: 1_500, hasServed: false }, defaults, i * 2_000);
      history = decision.history;
      return decision;
    });
    expect(decisions.every((decision) => decision.restart)).toBe(true);
    expect(history.startupFailures).toBe(0);
    // Dying within the window, three times in a row, is still a start-up crash loop.
    history = kFreshHistory;
    const quick = [0, 1, 2].map((i) => {
      const decision = decideRestart(history, { wasReady: true, readyMs: 999, hasServed: false }, defaults, i * 1_000);
      history = decision.history;
      return decision;
    });
    expect(quick.map((decision) => decision.restart)).toEqual([true, true, false]);
    expect(quick[2]).toMatchObject({ reason: 'startup-failures', failures: 3 });
  });

  it('keeps a slot that crashes on every request serving with the default policy, at a rate the backoff bounds', () => {
    // Each worker serves 1.2 s (just past the window), then a request crashes it; the restart
    // waits its backoff. Ten minutes of that: never retired, and the delay settles at maxMs.
    const defaults = normalizeRestartOptions(undefined);
    let history: RestartHistory = kFreshHistory;
    let now = 0;
    let restarts = 0;
    let lastDelay = 0;
    while (now < 600_000) {
      now += 1_200;
      const decision = decideRestart(history, { wasReady: true, readyMs: 1_200, hasServed: false }, defaults, now);
      if (!decision.restart) throw new Error(`retired at ${now} ms after ${restarts} restarts`);
      history = decision.history;
      lastDelay = decision.delayMs;
      now += decision.delayMs;
      restarts++;
    }
    expect(lastDelay).toBe(30_000);
    // About 2 forks a minute once backed off: no CPU burnt on a crash-per-request bug.
    expect(restarts).toBeLessThan(40);
  });

  it('retires the slot on crashes after ready only when they come faster than maxRestarts per windowMs', () => {
    const fast = normalizeRestartOptions({ backoff: { initialMs: 10, maxMs: 10 }, maxRestarts: 10, windowMs: 60_000 });
    let history: RestartHistory = kFreshHistory;
    const outcomes = Array.from({ length: 11 }, (_, i) => {
      const decision = decideRestart(history, { wasReady: true, readyMs: 2_000, hasServed: false }, fast, i * 2_010);
      history = decision.history;
      return decision;
    });
    expect(outcomes.slice(0, 10).every((decision) => decision.restart)).toBe(true);
    expect(outcomes[10]).toMatchObject({ restart: false, reason: 'too-many-restarts', failures: 11 });
  });

  describe('a worker that served', () => {
    // The defaults: a 1 s startup window, 3 startup failures, 16 restarts a minute (issue: newcomer round 4, A and B).
    const defaults = normalizeRestartOptions({});

    it('is never a startup failure, however soon after ready it crashed', () => {
      expect(isStartupFailure({ wasReady: true, readyMs: 0, hasServed: true }, defaults)).toBe(false);
      expect(isStartupFailure({ wasReady: true, readyMs: 999, hasServed: true }, defaults)).toBe(false);
      expect(isStartupFailure({ wasReady: true, readyMs: 999, hasServed: false }, defaults)).toBe(true);
      // Never ready: a failed start, whatever it answered during _init.
      expect(isStartupFailure({ wasReady: false, readyMs: 0, hasServed: true }, defaults)).toBe(true);
    });

    it('[H449] backs off 100 crashes in a row past the startup window but before stableAfterMs, trips no limit, and resets after a worker ready stableAfterMs', () => {
      // Before: each after initialMs, attempt 1, forever (a build crashing 1.5 s after ready was forked every 1.6 s).
      let history: RestartHistory = kFreshHistory;
      const delays: number[] = [];
      for (let i = 0; i < 100; i++) {
        const decision = decideRestart(history, { wasReady: true, readyMs: 1_500, hasServed: true }, defaults, i * 600);
        if (!decision.restart) throw new Error(`retired after ${i} served crashes: ${decision.reason}`);
        expect(decision.attempt).toBe(i + 1);
        // Past the startup window: no unstable crash.
        expect(decision.unstableCrashes).toBeUndefined();
        delays.push(decision.delayMs);
        history = decision.history;
      }
      expect(delays.slice(0, 10)).toEqual([100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000]);
      expect(delays.slice(10).every((delay) => delay === defaults.backoff.maxMs)).toBe(true);
      expect(history).toMatchObject({ attempt: 100, startupFailures: 0, unstableCrashes: 0, restartTimes: [] });
      // Just short of stableAfterMs (30 s): still growing. At it: initialMs again, then doubling anew.
      expect(decideRestart(history, { wasReady: true, readyMs: defaults.stableAfterMs - 1, hasServed: true }, defaults, 70_000)).toMatchObject({ restart: true, delayMs: 30_000, attempt: 101 });
      const stable = decideRestart(history, { wasReady: true, readyMs: defaults.stableAfterMs, hasServed: true }, defaults, 70_000);
      expect(stable).toMatchObject({ restart: true, delayMs: 100, attempt: 1, history: { attempt: 1, unstableCrashes: 0 } });
      expect(decideRestart(stable.history, { wasReady: true, readyMs: 1_500, hasServed: true }, defaults, 71_000)).toMatchObject({ restart: true, delayMs: 200, attempt: 2 });
      // stableAfterMs 0 (with the window passed): every served crash restarts after initialMs, the rule before.
      const noStable = normalizeRestartOptions({ stableAfterMs: 0 });
      expect(decideRestart(history, { wasReady: true, readyMs: 1_500, hasServed: true }, noStable, 72_000)).toMatchObject({ restart: true, delayMs: 100, attempt: 1 });
    });

    it('[H366] backs off crashes within the startup window (unstable restarts, PM2\'s min_uptime) and trips no limit', () => {
      // Before: 100 ms every time, attempt 1, forever (a poison build under traffic forked ~3 workers a second per slot).
      let history: RestartHistory = kFreshHistory;
      const delays: number[] = [];
      for (let i = 0; i < 100; i++) {
        const decision = decideRestart(history, { wasReady: true, readyMs: 300, hasServed: true }, defaults, i * 600);
        if (!decision.restart) throw new Error(`retired after ${i} served crashes: ${decision.reason}`);
        expect(decision).toMatchObject({ attempt: i + 1, unstableCrashes: i + 1 });
        delays.push(decision.delayMs);
        history = decision.history;
      }
      expect(delays.slice(0, 10)).toEqual([100, 200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000]);
      expect(delays.slice(10).every((delay) => delay === defaults.backoff.maxMs)).toBe(true);
      expect(history).toMatchObject({ startupFailures: 0, unstableCrashes: 100, restartTimes: [] });
      // A worker that stayed ready past the window ends the series, but not the backoff (H449)...
      const past = decideRestart(history, { wasReady: true, readyMs: 1_000, hasServed: true }, defaults, 70_000);
      expect(past).toMatchObject({ restart: true, delayMs: 30_000, attempt: 101, history: { attempt: 101, unstableCrashes: 0 } });
      expect(past.restart && past.unstableCrashes).toBeUndefined();
      // ...one ready stableAfterMs resets it: initialMs again, then doubling anew.
      const stable = decideRestart(history, { wasReady: true, readyMs: 30_000, hasServed: true }, defaults, 70_000);
      expect(stable).toMatchObject({ restart: true, delayMs: 100, attempt: 1, history: { attempt: 1, unstableCrashes: 0 } });
      const next = decideRestart(stable.history, { wasReady: true, readyMs: 300, hasServed: true }, defaults, 71_000);
      expect(next).toMatchObject({ restart: true, delayMs: 200, attempt: 2, unstableCrashes: 1 });
    });

    it('[H366] keeps the unstable series across failed starts between them, and backs off with them', () => {
      let history: RestartHistory = kFreshHistory;
      history = decideRestart(history, { wasReady: true, readyMs: 300, hasServed: true }, defaults, 0).history;
      // No traffic for a moment: one dies unserved within the window, a failed start.
      const failed = decideRestart(history, { wasReady: true, readyMs: 300, hasServed: false }, defaults, 1_000);
      expect(failed).toMatchObject({ restart: true, delayMs: 200, attempt: 2, history: { startupFailures: 1, unstableCrashes: 1 } });
      const served = decideRestart(failed.history, { wasReady: true, readyMs: 300, hasServed: true }, defaults, 2_000);
      expect(served).toMatchObject({ restart: true, delayMs: 400, attempt: 3, unstableCrashes: 2, history: { startupFailures: 0 } });
      // With startupWindowMs and stableAfterMs 0, no crash after ready is unstable nor short of stable: initialMs every time, as before H366.
      const noWindow = normalizeRestartOptions({ startupWindowMs: 0, stableAfterMs: 0 });
      expect(decideRestart(served.history, { wasReady: true, readyMs: 0, hasServed: true }, noWindow, 3_000)).toMatchObject({ restart: true, delayMs: 100, attempt: 1 });
    });

    it('[H449] ends the startup failures counted before it, and resets the backoff once ready stableAfterMs', () => {
      let history: RestartHistory = kFreshHistory;
      for (let i = 0; i < 2; i++) {
        const decision = decideRestart(history, { wasReady: true, readyMs: 100, hasServed: false }, defaults, i * 1_000);
        history = decision.history;
      }
      expect(history).toMatchObject({ attempt: 2, startupFailures: 2 });
      // Ready stableAfterMs (H366: a crash within the window backs off, from attempt 3 here; H449: so does one past it, before stableAfterMs).
      const served = decideRestart(history, { wasReady: true, readyMs: 30_000, hasServed: true }, defaults, 2_000);
      expect(served).toMatchObject({ restart: true, delayMs: 100, attempt: 1, history: { attempt: 1, startupFailures: 0 } });
      expect(decideRestart(history, { wasReady: true, readyMs: 100, hasServed: true }, defaults, 2_000)).toMatchObject({ restart: true, delayMs: 400, attempt: 3, history: { startupFailures: 0 } });
      expect(decideRestart(history, { wasReady: true, readyMs: 1_100, hasServed: true }, defaults, 2_000)).toMatchObject({ restart: true, delayMs: 400, attempt: 3, history: { startupFailures: 0, unstableCrashes: 0 } });
      // The next unserved crash backs off from there again.
      const next = decideRestart(served.history, { wasReady: true, readyMs: 5_000, hasServed: false }, defaults, 8_000);
      expect(next).toMatchObject({ restart: true, delayMs: 200, attempt: 2 });
    });

    it('does not count toward maxRestarts, and lets earlier unserved restarts age out', () => {
      const few = normalizeRestartOptions({ maxRestarts: 2, windowMs: 10_000 });
      let history: RestartHistory = kFreshHistory;
      history = decideRestart(history, { wasReady: true, readyMs: 5_000, hasServed: false }, few, 0).history;
      history = decideRestart(history, { wasReady: true, readyMs: 5_000, hasServed: false }, few, 1_000).history;
      expect(history.restartTimes).toEqual([0, 1_000]);
      for (let i = 0; i < 20; i++) history = decideRestart(history, { wasReady: true, readyMs: 10, hasServed: true }, few, 2_000 + i).history;
      expect(history.restartTimes).toEqual([0, 1_000]);
      // An unserved crash is still held to the limit.
      expect(decideRestart(history, { wasReady: true, readyMs: 5_000, hasServed: false }, few, 3_000)).toMatchObject({ restart: false, reason: 'too-many-restarts', failures: 3 });
      // Once they aged out, served crashes leave the record empty.
      expect(decideRestart(history, { wasReady: true, readyMs: 10, hasServed: true }, few, 20_000).history.restartTimes).toEqual([]);
    });
  });

  describe('a worker that did not serve keeps the backoff rules', () => {
    const defaults = normalizeRestartOptions({});

    it('counts a crash within 1 s of ready as a startup failure, and retires the slot after 3', () => {
      let history: RestartHistory = kFreshHistory;
      const decisions = [0, 1, 2].map((i) => {
        const decision = decideRestart(history, { wasReady: true, readyMs: 500, hasServed: false }, defaults, i * 5_000);
        history = decision.history;
        return decision;
      });
      expect(decisions.map((decision) => decision.restart)).toEqual([true, true, false]);
      expect(decisions[2]).toMatchObject({ reason: 'startup-failures', failures: 3 });
    });

    it('backs off a later crash and counts it toward maxRestarts', () => {
      const decision = decideRestart(kFreshHistory, { wasReady: true, readyMs: 5_000, hasServed: false }, defaults, 0);
      expect(decision).toMatchObject({ restart: true, delayMs: 100, attempt: 1, history: { startupFailures: 0, restartTimes: [0] } });
      const second = decideRestart(decision.history, { wasReady: true, readyMs: 5_000, hasServed: false }, defaults, 6_000);
      expect(second).toMatchObject({ restart: true, delayMs: 200, attempt: 2, history: { restartTimes: [0, 6_000] } });
    });

    it('[H96] counts exits with code 0 toward maxRestarts as PM2 does, and says how many of them there were', () => {
      const few = normalizeRestartOptions({ maxRestarts: 2, startupWindowMs: 0 });
      let history: RestartHistory = kFreshHistory;
      const ends = [true, false, true].map((isCleanExit, i) => {
        const decision = decideRestart(history, { wasReady: true, readyMs: 5_000, hasServed: false, isCleanExit }, few, i * 1_000);
        history = decision.history;
        return decision;
      });
      expect(ends.map((decision) => decision.restart)).toEqual([true, true, false]);
      expect(ends[2]).toMatchObject({ reason: 'too-many-restarts', failures: 3, cleanExits: 2 });
    });
  });

  it('[H379] a replacement taking over from a worker ready past the startup window starts a fresh run of failed starts; past stableAfterMs, a fresh backoff', () => {
    let history: RestartHistory = kFreshHistory;
    for (let i = 0; i < 2; i++) {
      const decision = decideRestart(history, { wasReady: false, readyMs: 0, hasServed: false }, options, i * 1_000);
      if (!decision.restart) throw new Error('expected a restart');
      history = decision.history;
    }
    expect(history).toMatchObject({ attempt: 2, startupFailures: 2 });
    // Still within the window (or never ready): nothing changes.
    expect(historyAtTakeover(history, 4_000, options)).toBe(history);
    expect(historyAtTakeover(history, undefined, options)).toBe(history);
    const started = historyAtTakeover(history, 6_000, options);
    expect(started).toMatchObject({ attempt: 2, startupFailures: 0, unstableCrashes: 0 });
    expect(started.restarts).toEqual(history.restarts);
    expect(historyAtTakeover(history, 31_000, options)).toMatchObject({ attempt: 0, startupFailures: 0 });
    // The replacement's failed start is then the first in a row: restarted, not given up.
    expect(decideRestart(started, { wasReady: true, readyMs: 300, hasServed: false }, options, 10_000)).toMatchObject({ restart: true });
    expect(decideRestart(history, { wasReady: true, readyMs: 300, hasServed: false }, options, 10_000)).toMatchObject({ restart: false, reason: 'startup-failures' });
  });

  describe('[H486] a crash seen only after a stall of the primary (unseenMs)', () => {
    it('resets the backoff only when the least it may have been ready reaches stableAfterMs', () => {
      const history = decideRestart(kFreshHistory, crash, options, 0);
      if (!history.restart) throw new Error('expected a restart');
      // Ready from 10 s to 40 s: the stall may hide a crash 10 s after ready.
      const unsure = decideRestart(history.history, { wasReady: true, readyMs: 10_000, unseenMs: 30_000, hasServed: true }, options, 50_000);
      expect(unsure).toMatchObject({ restart: true, attempt: 2, delayMs: 200 });
      const sure = decideRestart(history.history, { wasReady: true, readyMs: 30_000, unseenMs: 5_000, hasServed: true }, options, 50_000);
      expect(sure).toMatchObject({ restart: true, attempt: 1, delayMs: 100 });
      const unserved = decideRestart(history.history, { wasReady: true, readyMs: 10_000, unseenMs: 30_000, hasServed: false }, options, 50_000);
      expect(unserved).toMatchObject({ restart: true, attempt: 2 });
    });

    it('counts a failed start, or an unstable crash, only when the most it may have been ready is within startupWindowMs', () => {
      // Ready from 1 s to 6 s, the window 5 s: it may have started.
      expect(isStartupFailure({ wasReady: true, readyMs: 1_000, unseenMs: 5_000, hasServed: false }, options)).toBe(false);
      expect(isStartupFailure({ wasReady: true, readyMs: 1_000, unseenMs: 3_000, hasServed: false }, options)).toBe(true);
      const served = decideRestart(kFreshHistory, { wasReady: true, readyMs: 1_000, unseenMs: 5_000, hasServed: true }, options, 0);
      expect(served).toMatchObject({ restart: true, attempt: 1 });
      expect(served).not.toHaveProperty('unstableCrashes');
    });
  });
});
