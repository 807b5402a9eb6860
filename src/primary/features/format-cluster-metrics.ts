/**
 * clusterkit's own metrics in the Prometheus text format, from `primary.stats()`. Pure.
 * Series are labelled by slot (stable across restarts) and name, not by pid.
 *
 * A silent worker (`isSilent`: unheard for over two heartbeat intervals) is not `up`, as
 * Prometheus' own `up` is 0 for a target that did not answer; its event-loop delay, measured
 * over an interval that is long past, is left out rather than repeated.
 */
import type { WorkerStats } from './worker-stats.js';

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: (row: WorkerStats) => number | undefined;
}

const kFamilies: Family[] = [
  {
    name: 'clusterkit_worker_up',
    help: '1 while the worker in this slot is ready and answers the heartbeat; 0 while it starts, stops or is silent.',
    type: 'gauge',
    value: (row) => (row.state === 'ready' && !row.isSilent ? 1 : 0),
  },
  {
    name: 'clusterkit_worker_silent_seconds',
    help: 'Seconds since the primary last heard from the ready worker in this slot (a heartbeat answer or any message); over two heartbeat intervals, its event loop is blocked.',
    type: 'gauge',
    value: (row) => (row.silentMs === undefined ? undefined : row.silentMs / 1000),
  },
  { name: 'clusterkit_worker_uptime_seconds', help: 'Seconds since the worker in this slot was forked.', type: 'gauge', value: (row) => row.uptimeMs / 1000 },
  {
    name: 'clusterkit_worker_restarts_total',
    help: 'Workers this slot had before the current one: crash restarts and planned replacements (reloads, memory limit) alike.',
    type: 'counter',
    value: (row) => row.restarts,
  },
  {
    name: 'clusterkit_worker_crashes_total',
    help: 'Exits of this slot\'s workers the primary did not plan: crashes, kills from outside, exits on their own, heartbeat kills; not reloads or memory-limit restarts.',
    type: 'counter',
    value: (row) => row.crashes,
  },
  { name: 'clusterkit_worker_rss_bytes', help: 'Resident set size at the last heartbeat.', type: 'gauge', value: (row) => row.rssBytes },
  { name: 'clusterkit_worker_heap_used_bytes', help: 'V8 heap used at the last heartbeat.', type: 'gauge', value: (row) => row.heapUsedBytes },
  {
    name: 'clusterkit_worker_event_loop_delay_p99_seconds',
    help: '99th percentile of the event-loop delay between the last two heartbeats.',
    type: 'gauge',
    value: (row) => (row.eventLoopDelayP99Ms === undefined || row.isSilent ? undefined : row.eventLoopDelayP99Ms / 1000),
  },
  { name: 'clusterkit_worker_messages_received_total', help: 'Messages the primary received from this worker.', type: 'counter', value: (row) => row.messagesIn },
  { name: 'clusterkit_worker_messages_sent_total', help: 'Messages the primary sent to this worker.', type: 'counter', value: (row) => row.messagesOut },
  { name: 'clusterkit_worker_pending_requests', help: 'Requests to this worker awaiting a reply.', type: 'gauge', value: (row) => row.pending },
];

/** The shared store's use and budget (`primary.store`, `maxStoreBytes`, `maxStoreKeys`). */
export interface StoreFigures {
  readonly bytes: number;
  readonly keys: number;
  readonly maxBytes: number;
  readonly maxKeys: number;
}

export function formatClusterMetrics(stats: WorkerStats[], scrapeErrors: ReadonlyMap<number, number>, store: StoreFigures): string {
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
    '# HELP clusterkit_worker_scrape_errors_total Metric scrapes of this slot that failed or timed out (its metrics are missing from that scrape).',
    '# TYPE clusterkit_worker_scrape_errors_total counter',
  );
  // Every live slot has its series from the first scrape, at 0: rate() and increase() need a
  // starting point, and an alert on the series must not wait for the first error to exist.
  const slots = new Set([...stats.map((row) => row.slot), ...scrapeErrors.keys()]);
  for (const slot of [...slots].sort((a, b) => a - b)) lines.push(`clusterkit_worker_scrape_errors_total{slot="${slot}"} ${scrapeErrors.get(slot) ?? 0}`);
  // The budget beside the use, so an alert is one ratio: clusterkit_store_bytes / clusterkit_store_max_bytes > 0.8.
  for (const [name, help, value] of [
    ['clusterkit_store_bytes', 'Bytes the shared store holds, as counted against maxStoreBytes (keys, values and each entry\'s overhead).', store.bytes],
    ['clusterkit_store_max_bytes', 'The shared store\'s byte budget (maxStoreBytes).', store.maxBytes],
    ['clusterkit_store_keys', 'Keys the shared store holds.', store.keys],
    ['clusterkit_store_max_keys', 'The most keys the shared store holds (maxStoreKeys).', store.maxKeys],
  ] as const) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${prometheusNumber(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Prometheus writes infinity as `+Inf` (a budget of `Infinity`). */
function prometheusNumber(value: number): string {
  return value === Number.POSITIVE_INFINITY ? '+Inf' : String(value);
}

function labels(row: WorkerStats): string {
  return row.name === undefined ? `slot="${row.slot}"` : `slot="${row.slot}",name="${escapeLabel(row.name)}"`;
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
