/**
 * clusterkit's own Prometheus series (format-cluster-metrics.ts), from hand-made stats rows: a
 * silent worker is not `up`, and says for how long it has been silent.
 */
import { describe, expect, it } from '@jest/globals';
import { InvalidStateError } from '../../src/errors.js';
import { ExpositionWriter } from '../../src/primary/features/exposition-writer.js';
import { formatClusterMetrics } from '../../src/primary/features/format-cluster-metrics.js';
import { OutcomeCounts } from '../../src/primary/features/outcome-counts.js';
import { kMinSilentAfterMs, silentAfterMs } from '../../src/primary/features/worker-stats.js';
import type { WorkerStats } from '../../src/primary/features/worker-stats.js';

function row(slot: number, state: WorkerStats['state'], silentMs: number | undefined, isSilent: boolean): WorkerStats {
  return {
    id: slot + 1, pid: 100 + slot, slot, name: undefined, roles: [], state, uptimeMs: 60_000, restarts: 0, crashes: 0,
    rssBytes: 64 * 1024 * 1024, heapUsedBytes: 8 * 1024 * 1024, heapTotalBytes: 16 * 1024 * 1024,
    eventLoopDelayMs: 0.5, eventLoopDelayP99Ms: 2, cpuPercent: 1, healthAgeMs: silentMs, silentMs, isSilent, isPaused: false, isClosed: false,
    messagesIn: 10, messagesOut: 10, pending: 0, protocolErrors: 0,
  };
}

const store = { bytes: 0, keys: 0, maxBytes: Infinity, maxKeys: 10 };

describe('clusterkit metrics of a silent worker', () => {
  it('[H66][H375] gives each ready worker its silence in seconds, and a silent one worker_up 0, no loop delay, and state silent, not ready', () => {
    const text = formatClusterMetrics([row(0, 'ready', 400, false), row(1, 'ready', 5_250, true), row(2, 'stopping', undefined, false)], [], store);
    expect(text).toContain('# TYPE clusterkit_worker_silent_seconds gauge\nclusterkit_worker_silent_seconds{slot="0"} 0.4\nclusterkit_worker_silent_seconds{slot="1"} 5.25\n#');
    expect(text).toContain('clusterkit_worker_up{slot="0"} 1\nclusterkit_worker_up{slot="1"} 0\nclusterkit_worker_up{slot="2"} 0\n');
    expect(text).toContain('clusterkit_worker_event_loop_delay_p99_seconds{slot="0"} 0.002\nclusterkit_worker_event_loop_delay_p99_seconds{slot="2"} 0.002\n#');
    // Memory is the last reading, still the best there is: kept.
    expect(text).toContain(`clusterkit_worker_rss_bytes{slot="1"} ${64 * 1024 * 1024}`);
    // [H375] A silent worker is not counted ready (as status, the dashboard and /readyz count it), but silent: the states sum to the live workers.
    expect(text).toContain('clusterkit_workers{state="starting"} 0\nclusterkit_workers{state="ready"} 1\nclusterkit_workers{state="silent"} 1\nclusterkit_workers{state="closed"} 0\nclusterkit_workers{state="stopping"} 1\n');
  });

  it('calls a worker silent after two heartbeat intervals, at least 1 s, at most the heartbeat timeout', () => {
    expect(silentAfterMs({ intervalMs: 1_000, timeoutMs: 10_000 })).toBe(2_000);
    expect(silentAfterMs({ intervalMs: 100, timeoutMs: 5_000 })).toBe(kMinSilentAfterMs);
    expect(silentAfterMs({ intervalMs: 5_000, timeoutMs: 7_000 })).toBe(7_000);
    expect(silentAfterMs(false)).toBeUndefined();
  });
});

describe('the name label [H351]', () => {
  it('[H351] gives every per-slot series of a named slot its name, clusterkit_worker_scrape_errors_total too; a slot number taken by another name has a series of its own', () => {
    const named = { ...row(1, 'ready', 100, false), name: 'cache' };
    const text = formatClusterMetrics([row(0, 'ready', 100, false), named], [{ slot: 1, name: undefined, count: 4 }], store);
    const slot1 = text.split('\n').filter((line) => line.startsWith('clusterkit_worker_') && line.includes('slot="1"'));
    expect(slot1.length).toBeGreaterThan(10);
    for (const line of slot1.filter((line) => !line.startsWith('clusterkit_worker_scrape_errors_total{slot="1"} '))) expect(line).toContain('{slot="1",name="cache"} ');
    // The errors counted while an unnamed worker held slot 1 stay its own series; the named worker's starts at 0.
    expect(text).toContain('clusterkit_worker_scrape_errors_total{slot="0"} 0\nclusterkit_worker_scrape_errors_total{slot="1"} 4\nclusterkit_worker_scrape_errors_total{slot="1",name="cache"} 0\n');
  });
});

describe('one sample per series [H278]', () => {
  it('[H278] writes one series per slot while its old worker and its replacement are both alive, from the serving one', () => {
    const old = { ...row(0, 'stopping', undefined, false), id: 1, restarts: 0 };
    const replacement = { ...row(0, 'ready', 100, false), id: 3, restarts: 1 };
    const text = formatClusterMetrics([old, replacement, row(1, 'ready', 100, false)], [], store);
    const series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => line.slice(0, line.lastIndexOf(' ')));
    expect(new Set(series).size).toBe(series.length);
    expect(text).toContain('clusterkit_worker_restarts_total{slot="0"} 1\n');
    expect(text).toContain('clusterkit_workers{state="stopping"} 1\n');
  });

  it('[H278] the exposition writer refuses a series or a family written twice', () => {
    const writer = new ExpositionWriter().family('x_total', 'counter', 'X.').sample([['slot', '0']], 1);
    expect(() => writer.sample([['slot', '0']], 2)).toThrow(InvalidStateError);
    expect(() => writer.sample([['slot', '0']], 2)).toThrow(/x_total\{slot="0"\} was written twice/);
    expect(() => writer.family('x_total', 'counter', 'X.')).toThrow(/written twice/);
  });

  it('[H277] keeps a given-up slot\'s up, restarts and crashes series, beside the target and the crash loops', () => {
    const givenUp = { slot: 1, name: undefined, roles: [], state: 'errored' as const, since: 0, givenUpMs: 5, restarts: 2, crashes: 4, failures: 3, reason: 'startup-failures' as const, lastFailure: 'threw' };
    const text = formatClusterMetrics([row(0, 'ready', 100, false)], [], store, { targetWorkers: 2, givenUp: [givenUp], crashLoops: 1 });
    expect(text).toContain('clusterkit_workers_target 2\n');
    expect(text).toContain('clusterkit_slots_given_up 1\n');
    expect(text).toContain('clusterkit_crash_loops_total 1\n');
    expect(text).toContain('clusterkit_worker_up{slot="1"} 0\n');
    expect(text).toContain('clusterkit_worker_crashes_total{slot="1"} 4\n');
    expect(text).not.toContain('clusterkit_worker_uptime_seconds{slot="1"}');
  });
});

describe('outcomes and CPU [H375]', () => {
  it('[H375] counts reloads by outcome, requests cut and connections reset by reason, each series from 0, a kill\'s crash once', () => {
    const counts = new OutcomeCounts();
    const none = formatClusterMetrics([row(0, 'ready', 100, false)], [], store, { targetWorkers: 1, givenUp: [], crashLoops: 0, outcomes: counts.figures(0) });
    expect(none).toContain('# TYPE clusterkit_reloads_total counter\nclusterkit_reloads_total{outcome="succeeded"} 0\nclusterkit_reloads_total{outcome="failed"} 0\n');
    expect(none).toContain('clusterkit_requests_cut_total{reason="killed"} 0\n');
    expect(none).toContain('clusterkit_connections_reset_total{reason="unaccepted"} 0\n');
    counts.note('reloadComplete', {});
    counts.note('reloadFailed', { error: new Error('x') });
    counts.note('reloadFailed', { error: new Error('x') });
    // The heartbeat's kill: workerExit says what it cut, the workerCrash that follows says it again.
    counts.note('workerExit', { worker: { id: 7 }, killed: true, lostRequests: 3, resetConnections: 2 });
    counts.note('workerCrash', { worker: { id: 7 }, lostRequests: 3, resetConnections: 2 });
    counts.note('workerCrash', { worker: { id: 8 }, lostRequests: 1 });
    counts.note('workerRequestsCut', { worker: { id: 9 }, reason: 'deadline', openRequests: 4 });
    counts.note('workerExit', { worker: { id: 10 }, killed: false, beforeTakeover: { readyMs: 5, lostRequests: 2 } });
    const text = formatClusterMetrics([row(0, 'ready', 100, false)], [], store, { targetWorkers: 1, givenUp: [], crashLoops: 0, outcomes: counts.figures(5) });
    expect(text).toContain('clusterkit_reloads_total{outcome="succeeded"} 1\nclusterkit_reloads_total{outcome="failed"} 2\n');
    expect(text).toContain('clusterkit_requests_cut_total{reason="killed"} 3\nclusterkit_requests_cut_total{reason="crash"} 3\nclusterkit_requests_cut_total{reason="deadline"} 4\n');
    expect(text).toContain('clusterkit_connections_reset_total{reason="unaccepted"} 5\nclusterkit_connections_reset_total{reason="killed"} 2\nclusterkit_connections_reset_total{reason="crash"} 0\n');
  });

  it('[H375] writes each slot\'s CPU seconds as a counter', () => {
    const text = formatClusterMetrics([{ ...row(0, 'ready', 100, false), cpuSeconds: 1.25 }, row(1, 'ready', 100, false)], [], store);
    expect(text).toContain('# TYPE clusterkit_worker_cpu_seconds_total counter\nclusterkit_worker_cpu_seconds_total{slot="0"} 1.25\n#');
  });
});

describe('values that are not finite', () => {
  it('[H353] are written as Prometheus spells them: +Inf, -Inf, NaN', () => {
    const text = new ExpositionWriter().family('x', 'gauge', 'h').sample([['v', 'a']], Infinity).sample([['v', 'b']], -Infinity).sample([['v', 'c']], Number.NaN).text();
    expect(text.split('\n').slice(2)).toEqual(['x{v="a"} +Inf', 'x{v="b"} -Inf', 'x{v="c"} NaN', '']);
  });
});
