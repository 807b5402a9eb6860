/**
 * `clusterkit status` and `list` show figures that crossed two processes (a worker's heartbeat,
 * then the control socket): each is shown only when it is a finite number, `-` otherwise.
 */
import { describe, expect, it } from '@jest/globals';
import { formatList, formatStatus } from '../../src/cli/format-status.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';

const garbage: unknown[] = ['lots', null, Number.NaN, Infinity, -Infinity, { x: 1 }, [1], 'x'.repeat(100)];

function statusWith(value: unknown): ClusterStatus {
  const worker = {
    id: 1, pid: 101, slot: 0, name: undefined, state: 'ready', uptimeMs: value, restarts: value,
    rssBytes: value, heapUsedBytes: value, heapTotalBytes: value, eventLoopDelayMs: value, eventLoopDelayP99Ms: value,
    cpuPercent: value, messagesIn: value, messagesOut: value, pending: value, protocolErrors: value,
  };
  return {
    name: 'api', pid: value, state: 'running', startedAt: 0, uptimeMs: value, script: 's.js', targetWorkers: value,
    nodeVersion: 'v20.19.0', workers: [worker], protocolErrors: value,
  } as unknown as ClusterStatus;
}

describe('status figures', () => {
  const label = (value: unknown) => (typeof value === 'number' ? String(value) : JSON.stringify(value).slice(0, 12));
  it.each(garbage.map((value) => [label(value), value]))('[F49] shows - for a figure that is %s', (_, value) => {
    const text = formatStatus(statusWith(value));
    const row = text.split('\n')[4]!;
    // uptime, restarts, rss, heap, loop delay, cpu, messages in and out
    expect(row.split(/\s+/).filter((cell) => cell === '-')).toHaveLength(8);
    expect(text).not.toMatch(/NaN|Infinity|lots|xxxx|\[object/);
    expect(formatList([statusWith(value)])).toContain('api');
  });

  it('shows the protocol errors of the cluster in the header when there are some', () => {
    const status = statusWith(1);
    expect(formatStatus(status).split('\n')[0]).toContain('protocol errors 1');
    expect(formatStatus({ ...status, protocolErrors: 0 }).split('\n')[0]).not.toContain('protocol errors');
  });
});
