/**
 * Rendering cluster status as text tables (pure: no I/O).
 */
import type { ClusterStatus } from '../control/control-protocol.js';
import type { WorkerStats } from '../primary/features/worker-stats.js';

type Row = readonly string[];

// Headers say what the figures are: the event-loop delay as mean / p99 since the previous
// heartbeat; the message counts include the heartbeats (a footnote says so).
const kWorkerHeader: Row = ['id', 'pid', 'slot', 'state', 'uptime', 'restarts', 'rss', 'heap', 'loop mean/p99', 'cpu', 'msgs in*', 'msgs out*'];
const kFootnote = '* IPC messages to and from the worker, heartbeats included\n';
/** Numeric columns are right-aligned. */
const kRightAligned = new Set(['id', 'pid', 'slot', 'restarts', 'rss', 'heap', 'loop mean/p99', 'cpu', 'msgs in*', 'msgs out*']);

/** One cluster: a header line, then one row per worker. */
export function formatStatus(status: ClusterStatus): string {
  const header =
    `cluster ${status.name}  pid ${status.pid}  ${status.state}  up ${formatDuration(status.uptimeMs)}  ` +
    `workers ${status.workers.length}/${status.targetWorkers}  node ${status.nodeVersion}\n` +
    `script ${status.script}${status.cwd === undefined ? '' : `  cwd ${status.cwd}`}\n`;
  if (status.workers.length === 0) return `${header}(no workers)\n`;
  return `${header}\n${table(kWorkerHeader, status.workers.map(workerRow))}${kFootnote}`;
}

/** `clusterkit list`: one row per cluster. */
export function formatList(statuses: readonly ClusterStatus[]): string {
  if (statuses.length === 0) return 'No cluster is running.\n';
  const header: Row = ['name', 'pid', 'state', 'workers', 'uptime', 'script'];
  const rows = statuses.map((status) => [
    status.name,
    String(status.pid),
    status.state,
    `${status.workers.length}/${status.targetWorkers}`,
    formatDuration(status.uptimeMs),
    status.script,
  ]);
  return table(header, rows, new Set(['pid']));
}

function workerRow(worker: WorkerStats): Row {
  const delay =
    worker.eventLoopDelayMs === undefined ? '-' : `${formatMs(worker.eventLoopDelayMs)} / ${formatMs(worker.eventLoopDelayP99Ms ?? worker.eventLoopDelayMs)} ms`;
  return [
    String(worker.id),
    String(worker.pid ?? '-'),
    String(worker.slot),
    worker.state,
    formatDuration(worker.uptimeMs),
    String(worker.restarts),
    formatBytes(worker.rssBytes),
    formatBytes(worker.heapUsedBytes),
    delay,
    formatPercent(worker.cpuPercent),
    String(worker.messagesIn),
    String(worker.messagesOut),
  ];
}

function table(header: Row, rows: readonly Row[], rightAligned: ReadonlySet<string> = kRightAligned): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: Row) =>
    row
      .map((cell, column) => (rightAligned.has(header[column]!) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** `450ms`, `12s`, `3m 12s`, `2h 5m`, `4d 3h`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** `48.2 MB` (MiB), or `-` before the first heartbeat. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  const mib = bytes / (1024 * 1024);
  return mib >= 100 ? `${Math.round(mib)} MB` : `${mib.toFixed(1)} MB`;
}

/** `12.5%` of one core, or `-` before the first heartbeat. */
export function formatPercent(percent: number | undefined): string {
  return percent === undefined ? '-' : `${percent.toFixed(1)}%`;
}

function formatMs(ms: number): string {
  return ms >= 100 ? String(Math.round(ms)) : ms.toFixed(1);
}
