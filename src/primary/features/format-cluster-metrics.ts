/**
 * clusterkit's own metrics in the Prometheus text format, from `primary.stats()`. Pure.
 * Series are labelled by slot (stable across restarts) and name, not by pid.
 */
import type { WorkerStats } from './worker-stats.js';

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: (row: WorkerStats) => number | undefined;
}

const kFamilies: Family[] = [
  { name: 'clusterkit_worker_up', help: '1 while the worker in this slot is ready.', type: 'gauge', value: (row) => (row.state === 'ready' ? 1 : 0) },
  { name: 'clusterkit_worker_uptime_seconds', help: 'Seconds since the worker in this slot was forked.', type: 'gauge', value: (row) => row.uptimeMs / 1000 },
  { name: 'clusterkit_worker_restarts_total', help: 'Workers this slot had before the current one.', type: 'counter', value: (row) => row.restarts },
  { name: 'clusterkit_worker_rss_bytes', help: 'Resident set size at the last heartbeat.', type: 'gauge', value: (row) => row.rssBytes },
  { name: 'clusterkit_worker_heap_used_bytes', help: 'V8 heap used at the last heartbeat.', type: 'gauge', value: (row) => row.heapUsedBytes },
  {
    name: 'clusterkit_worker_event_loop_delay_p99_seconds',
    help: '99th percentile of the event-loop delay between the last two heartbeats.',
    type: 'gauge',
    value: (row) => (row.eventLoopDelayP99Ms === undefined ? undefined : row.eventLoopDelayP99Ms / 1000),
  },
  { name: 'clusterkit_worker_messages_received_total', help: 'Messages the primary received from this worker.', type: 'counter', value: (row) => row.messagesIn },
  { name: 'clusterkit_worker_messages_sent_total', help: 'Messages the primary sent to this worker.', type: 'counter', value: (row) => row.messagesOut },
  { name: 'clusterkit_worker_pending_requests', help: 'Requests to this worker awaiting a reply.', type: 'gauge', value: (row) => row.pending },
];

export function formatClusterMetrics(stats: WorkerStats[], scrapeErrors: ReadonlyMap<number, number>): string {
  const lines: string[] = [];
  const byState = new Map<string, number>();
  for (const row of stats) byState.set(row.state, (byState.get(row.state) ?? 0) + 1);
  lines.push('# HELP clusterkit_workers Live workers by state.', '# TYPE clusterkit_workers gauge');
  for (const state of ['starting', 'ready', 'stopping']) lines.push(`clusterkit_workers{state="${state}"} ${byState.get(state) ?? 0}`);
  for (const family of kFamilies) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const row of stats) {
      const value = family.value(row);
      if (value !== undefined) lines.push(`${family.name}{${labels(row)}} ${value}`);
    }
  }
  lines.push(
    '# HELP clusterkit_worker_scrape_errors Metric scrapes of this slot that failed or timed out (its metrics are missing from that scrape).',
    '# TYPE clusterkit_worker_scrape_errors counter',
  );
  for (const [slot, count] of scrapeErrors) lines.push(`clusterkit_worker_scrape_errors{slot="${slot}"} ${count}`);
  return `${lines.join('\n')}\n`;
}

function labels(row: WorkerStats): string {
  return row.name === undefined ? `slot="${row.slot}"` : `slot="${row.slot}",name="${escapeLabel(row.name)}"`;
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
