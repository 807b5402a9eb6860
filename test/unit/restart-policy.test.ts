import { describe, expect, it } from '@jest/globals';
import { normalizeRestartOptions } from '../../src/primary/primary-options.js';
import { backoffDelay, decideRestart, kFreshHistory, type RestartHistory } from '../../src/primary/pool/restart-policy.js';

const options = normalizeRestartOptions({ backoff: { initialMs: 100, factor: 2, maxMs: 1_000 }, stableAfterMs: 30_000, startupWindowMs: 5_000, maxStartupFailures: 3, maxRestarts: 5, windowMs: 60_000 });
const crash = { wasReady: true, readyMs: 10_000 };

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
    const afterStable = decideRestart(history, { wasReady: true, readyMs: 31_000 }, options, 40_000);
    expect(afterStable).toMatchObject({ restart: true, delayMs: 100, attempt: 1 });
  });

  it('measures stability from ready: a slow _init followed by a quick death keeps growing the delay', () => {
    // The issue-12 case: _init takes 800 ms, the worker dies 100 ms after ready, stableAfterMs 500.
    const policy = normalizeRestartOptions({ backoff: { initialMs: 100, factor: 2, maxMs: 10_000 }, stableAfterMs: 500, startupWindowMs: 0 });
    let history: RestartHistory = kFreshHistory;
    const restarts: Array<[number, number]> = [];
    for (let i = 0; i < 4; i++) {
      const decision = decideRestart(history, { wasReady: true, readyMs: 100 }, policy, i * 2_000);
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
      const decision = decideRestart(history, { wasReady: true, readyMs: 100 }, policy, i * 2_000);
      history = decision.history;
      return decision;
    });
    expect(decisions.map((decision) => decision.restart)).toEqual([true, true, false]);
    expect(decisions[2]).toMatchObject({ reason: 'startup-failures', failures: 3 });
    // Ready past the window: an ordinary crash, and the failure count starts over.
    expect(decideRestart(kFreshHistory, { wasReady: true, readyMs: 1_000 }, policy, 0).history.startupFailures).toBe(0);
  });

  it('trips the crash-loop breaker after maxStartupFailures startup failures in a row', () => {
    let history: RestartHistory = kFreshHistory;
    const failures = [{ wasReady: false, readyMs: 0 }, { wasReady: true, readyMs: 1_000 }, { wasReady: false, readyMs: 0 }];
    const decisions = failures.map((ended, i) => {
      const decision = decideRestart(history, ended, options, i * 100);
      history = decision.history;
      return decision;
    });
    expect(decisions.map((decision) => decision.restart)).toEqual([true, true, false]);
    expect(decisions[2]).toMatchObject({ restart: false, reason: 'startup-failures', failures: 3 });
  });

  it('does not count a crash after the startup window as a startup failure', () => {
    const first = decideRestart(kFreshHistory, { wasReady: false, readyMs: 0 }, options, 0);
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
      const decision = decideRestart(history, { wasReady: true, readyMs: 1_500 }, defaults, i * 2_000);
      history = decision.history;
      return decision;
    });
    expect(decisions.every((decision) => decision.restart)).toBe(true);
    expect(history.startupFailures).toBe(0);
    // Dying within the window, three times in a row, is still a start-up crash loop.
    history = kFreshHistory;
    const quick = [0, 1, 2].map((i) => {
      const decision = decideRestart(history, { wasReady: true, readyMs: 999 }, defaults, i * 1_000);
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
      const decision = decideRestart(history, { wasReady: true, readyMs: 1_200 }, defaults, now);
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
      const decision = decideRestart(history, { wasReady: true, readyMs: 2_000 }, fast, i * 2_010);
      history = decision.history;
      return decision;
    });
    expect(outcomes.slice(0, 10).every((decision) => decision.restart)).toBe(true);
    expect(outcomes[10]).toMatchObject({ restart: false, reason: 'too-many-restarts', failures: 11 });
  });
});
