/**
 * clusterkit's own Prometheus series (format-cluster-metrics.ts), from hand-made stats rows: a
 * silent worker is not `up`, and says for how long it has been silent.
 */
import { describe, expect, it } from '@jest/globals';
import { formatClusterMetrics } from '../../src/primary/features/format-cluster-metrics.js';
import { kMinSilentAfterMs, silentAfterMs } from '../../src/primary/features/worker-stats.js';
import type { WorkerStats } from '../../src/primary/features/worker-stats.js';

function row(slot: number, state: WorkerStats['state'], silentMs: number | undefined, isSilent: boolean): WorkerStats {
  return {
    id: slot + 1, pid: 100 + slot, slot, name: undefined, state, uptimeMs: 60_000, restarts: 0, crashes: 0,
    rssBytes: 64 * 1024 * 1024, heapUsedBytes: 8 * 1024 * 1024, heapTotalBytes: 16 * 1024 * 1024,
    eventLoopDelayMs: 0.5, eventLoopDelayP99Ms: 2, cpuPercent: 1, healthAgeMs: silentMs, silentMs, isSilent,
    messagesIn: 10, messagesOut: 10, pending: 0, protocolErrors: 0,
  };
}

const store = { bytes: 0, keys: 0, maxBytes: Infinity, maxKeys: 10 };

describe('clusterkit metrics of a silent worker', () => {
  it('[H66] gives each ready worker its silence in seconds, and a silent one worker_up 0 and no loop delay', () => {
    const text = formatClusterMetrics([row(0, 'ready', 400, false), row(1, 'ready', 5_250, true), row(2, 'stopping', undefined, false)], new Map(), store);
    expect(text).toContain('# TYPE clusterkit_worker_silent_seconds gauge\nclusterkit_worker_silent_seconds{slot="0"} 0.4\nclusterkit_worker_silent_seconds{slot="1"} 5.25\n#');
    expect(text).toContain('clusterkit_worker_up{slot="0"} 1\nclusterkit_worker_up{slot="1"} 0\nclusterkit_worker_up{slot="2"} 0\n');
    expect(text).toContain('clusterkit_worker_event_loop_delay_p99_seconds{slot="0"} 0.002\nclusterkit_worker_event_loop_delay_p99_seconds{slot="2"} 0.002\n#');
    // Memory is the last reading, still the best there is: kept.
    expect(text).toContain(`clusterkit_worker_rss_bytes{slot="1"} ${64 * 1024 * 1024}`);
    // Silent or not, still a ready worker.
    expect(text).toContain('clusterkit_workers{state="ready"} 2');
  });

  it('calls a worker silent after two heartbeat intervals, at least 1 s, at most the heartbeat timeout', () => {
    expect(silentAfterMs({ intervalMs: 1_000, timeoutMs: 10_000 })).toBe(2_000);
    expect(silentAfterMs({ intervalMs: 100, timeoutMs: 5_000 })).toBe(kMinSilentAfterMs);
    expect(silentAfterMs({ intervalMs: 5_000, timeoutMs: 7_000 })).toBe(7_000);
    expect(silentAfterMs(false)).toBeUndefined();
  });
});
