/**
 * `clusterkit status` and `list` show figures that crossed two processes (a worker's heartbeat,
 * then the control socket): each is shown only when it is a finite number, `-` otherwise.
 */
import { describe, expect, it } from '@jest/globals';
import { formatList, formatStatus, formatWorkerCounts, storeLine } from '../../src/cli/format-status.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';

const garbage: unknown[] = ['lots', null, Number.NaN, Infinity, -Infinity, { x: 1 }, [1], 'x'.repeat(100)];

function statusWith(value: unknown): ClusterStatus {
  const worker = {
    id: 1, pid: 101, slot: 0, name: undefined, state: 'ready', uptimeMs: value, restarts: value, crashes: value,
    rssBytes: value, heapUsedBytes: value, heapTotalBytes: value, eventLoopDelayMs: value, eventLoopDelayP99Ms: value,
    cpuPercent: value, messagesIn: value, messagesOut: value, pending: value, protocolErrors: value,
  };
  return {
    name: 'api', pid: value, state: 'running', startedAt: 0, uptimeMs: value, script: 's.js', targetWorkers: value,
    nodeVersion: 'v20.19.0', workers: [worker], protocolErrors: value,
  } as unknown as ClusterStatus;
}

const label = (value: unknown) => (typeof value === 'number' ? String(value) : JSON.stringify(value).slice(0, 12));

describe('status figures', () => {
  it.each(garbage.map((value) => [label(value), value]))('[F49] shows - for a figure that is %s', (_, value) => {
    const text = formatStatus(statusWith(value));
    const row = text.split('\n')[4]!;
    // uptime, restarts, crashes, rss, heap, loop delay, cpu, messages in and out
    expect(row.split(/\s+/).filter((cell) => cell === '-')).toHaveLength(9);
    expect(text).not.toMatch(/NaN|Infinity|lots|xxxx|\[object/);
    expect(formatList([statusWith(value)])).toContain('api');
  });

  it('[H187] counts the ready workers over the target, and names the others by state', () => {
    const status = statusWith(1);
    const worker = status.workers[0]!;
    const withStates = (targetWorkers: number, ...states: string[]) =>
      formatWorkerCounts({ ...status, targetWorkers, workers: states.map((state, id) => ({ ...worker, id, state: state === 'silent' ? 'ready' : state, isSilent: state === 'silent' })) } as ClusterStatus);
    expect(withStates(4, 'ready', 'ready', 'ready', 'ready')).toBe('4/4');
    expect(withStates(1, 'starting')).toBe('0/1 ready (1 starting)');
    expect(withStates(2, 'ready', 'ready', 'starting', 'stopping')).toBe('2/2 ready (1 starting, 1 stopping)');
    // A blocked event loop serves nobody, as on the dashboard.
    expect(withStates(2, 'ready', 'silent')).toBe('1/2 ready (1 silent)');
    // A state no clusterkit sends (an odd primary) is not counted ready, nor named.
    expect(withStates(1, 'weird\x1b[2J')).toBe('0/1 ready');
    expect(formatStatus({ ...status, targetWorkers: 1, workers: [{ ...worker, state: 'starting' }] } as ClusterStatus).split('\n')[0]).toContain('  workers 0/1 ready (1 starting)  node ');
  });

  it('shows the protocol errors of the cluster in the header when there are some', () => {
    const status = statusWith(1);
    expect(formatStatus(status).split('\n')[0]).toContain('protocol errors 1');
    expect(formatStatus({ ...status, protocolErrors: 0 }).split('\n')[0]).not.toContain('protocol errors');
  });
});

describe('the store line of status', () => {
  const used = { keys: 3, maxKeys: 10_000, bytes: 1_536, maxBytes: 67_108_864, ephemeralKeys: 1, watches: 2, watchedKeys: 1, watchers: 2, heldChanges: 0, refusals: 4, watchLimitRefusals: 0 };
  const unused = { keys: 0, maxKeys: 10_000, bytes: 0, maxBytes: 67_108_864, ephemeralKeys: 0, watches: 0, watchedKeys: 0, watchers: 0, heldChanges: 0, refusals: 0, watchLimitRefusals: 0 };

  it('shows the store only while it is in use, under the header', () => {
    expect(storeLine(used)).toBe('store 3/10000 keys  1.5 KiB/64.0 MiB  2 watches (2 workers)  1 ephemeral  4 refused (full)\n');
    expect(storeLine({ ...unused, watches: 1, watchers: 1, watchedKeys: 1, maxBytes: null })).toBe('store 0/10000 keys  0 B/unbounded  1 watch (1 worker)\n');
    expect(storeLine(unused)).toBe('');
    expect(formatStatus({ ...statusWith(1), store: used }).split('\n')[2]).toBe(storeLine(used).trimEnd());
    expect(formatStatus({ ...statusWith(1), store: unused })).not.toContain('store');
  });

  // Before: a watch refused by maxStoreWatchesPerWorker read `1 refused (full)` while the store
  // held 517 B of 64 MiB (tester t21).
  it('[H167] tells watches refused by the per-worker watch limit from a full budget', () => {
    expect(storeLine({ ...used, refusals: 5, watchLimitRefusals: 1 })).toBe('store 3/10000 keys  1.5 KiB/64.0 MiB  2 watches (2 workers)  1 ephemeral  4 refused (full)  1 watch refused (limit)\n');
    expect(storeLine({ ...unused, refusals: 3, watchLimitRefusals: 3 })).toBe('store 0/10000 keys  0 B/64.0 MiB  3 watches refused (limit)\n');
    // More refused by the limit than refused at all: an odd primary, no line.
    expect(storeLine({ ...used, refusals: 1, watchLimitRefusals: 2 })).toBe('');
  });

  it.each(garbage.map((value) => [label(value), value]))('shows no store line when a figure is %s', (_, value) => {
    // (null is maxBytes' own value for no limit)
    for (const field of Object.keys(used)) if (!(field === 'maxBytes' && value === null)) expect(storeLine({ ...used, [field]: value })).toBe('');
    expect(storeLine(value)).toBe('');
    expect(storeLine(undefined)).toBe('');
  });
});
