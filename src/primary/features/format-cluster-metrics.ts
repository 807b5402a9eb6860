/**
 * clusterkit's own metrics in the Prometheus text format, from `primary.stats()`. Pure.
 * Series are labelled by slot (stable across restarts) and name, not by pid or worker id: one
 * series per slot, as PM2's exporters label by its stable process id, so a reload starts no new
 * series (a `worker_id` label would start new ones at every deploy, without end).
 *
 * A silent worker (`isSilent`: unheard for over two heartbeat intervals) is not `up`, as
 * Prometheus' own `up` is 0 for a target that did not answer; its event-loop delay, measured
 * over an interval that is long past, is left out rather than repeated (`stats()` leaves it out,
 * and its CPU figures where the primary cannot read them itself: H390). Nor is it counted in
 * `clusterkit_workers{state="ready"}`, but in `{state="silent"}` (H375): ready means what
 * `clusterkit status`, the dashboard and `/readyz`'s `readyWorkers` mean, and the states sum to
 * the live workers.
 */
import { ExpositionWriter, type Labels } from './exposition-writer.js';
import type { GivenUpSlotStats } from './given-up-stats.js';
import { kConnectionsResetReasons, kRequestsCutReasons, type OutcomeFigures } from './outcome-counts.js';
import { slotWorkers } from './slot-workers.js';
import type { WorkerStats } from './worker-stats.js';
import { kSeriesDroppedReasons, type SeriesDroppedReason } from './unmerged-metrics.js';

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: (row: WorkerStats) => number | undefined;
}

const kFamilies: Family[] = [
  {
    name: 'clusterkit_worker_up',
    help: '1 while the worker in this slot is ready, answers the heartbeat and accepts connections; 0 while it starts, stops, is silent or has closed every server it listened on, and while the slot is given up in a crash loop.',
    type: 'gauge',
    value: (row) => (row.state === 'ready' && !row.isSilent && !row.isClosed ? 1 : 0),
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
  // Beside the heap used, the limit it runs into (H415): a worker near it thrashes the garbage collector (H394).
  {
    name: 'clusterkit_worker_heap_limit_bytes',
    help: 'Limit of the V8 heap (old generation) the worker reported at the last heartbeat: its --max-old-space-size, else V8\'s heap_size_limit.',
    type: 'gauge',
    value: (row) => row.heapLimitBytes,
  },
  {
    name: 'clusterkit_worker_event_loop_delay_p99_seconds',
    help: '99th percentile of the event-loop delay between the last two heartbeats.',
    type: 'gauge',
    value: (row) => (row.eventLoopDelayP99Ms === undefined || row.isSilent ? undefined : row.eventLoopDelayP99Ms / 1000),
  },
  {
    name: 'clusterkit_worker_cpu_seconds_total',
    help: 'CPU time (user and system) the worker serving this slot used since it started, in seconds: read by the primary at each heartbeat on Linux (/proc/<pid>/stat), silent worker or not; elsewhere as of its last heartbeat answer, absent while it is silent. Starts again with each new worker of the slot.',
    type: 'counter',
    value: (row) => row.cpuSeconds,
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

/** The pool's own figures beside its workers': what it is meant to run, and what it gave up on. */
export interface PoolFigures {
  /** The workers the cluster is meant to run (`clusterkit_workers_target`). */
  readonly targetWorkers: number;
  /** Slots given up in a crash loop, now. */
  readonly givenUp: readonly GivenUpSlotStats[];
  /** Times the breaker gave up on a slot, since the primary started. */
  readonly crashLoops: number;
  /** Reloads, requests cut off and connections reset since the primary started (H375). */
  readonly outcomes?: OutcomeFigures;
  /** Series of the workers' answers left out of the exposition since the primary started, by reason (H523). */
  readonly seriesDropped?: ReadonlyMap<SeriesDroppedReason, number>;
}

/** The names of clusterkit's own families: a worker registry's metric of one of these names is left out of the merge. */
export const kOwnFamilies: ReadonlySet<string> = new Set([
  'clusterkit_workers',
  'clusterkit_workers_target',
  'clusterkit_slots_given_up',
  'clusterkit_crash_loops_total',
  'clusterkit_reloads_total',
  'clusterkit_requests_cut_total',
  'clusterkit_connections_reset_total',
  ...kFamilies.map((family) => family.name),
  'clusterkit_worker_scrape_errors_total',
  'clusterkit_worker_series_dropped_total',
  'clusterkit_store_bytes',
  'clusterkit_store_max_bytes',
  'clusterkit_store_keys',
  'clusterkit_store_max_keys',
]);

/**
 * `stats` holds every live worker (counted by state); the per-slot series are written from one
 * worker per slot, the one serving it (slot-workers.ts): during a reload a slot's old worker and
 * its replacement are both alive, and two samples labelled `{slot="0"}` are invalid exposition
 * (H278). A slot given up in a crash loop keeps its `up` (0), restarts and crashes series, so its
 * crashes stay counted and an alert on them fires (H277).
 */
export function formatClusterMetrics(stats: WorkerStats[], scrapeErrors: Iterable<ScrapeErrorCount>, store: StoreFigures, pool?: PoolFigures): string {
  const out = new ExpositionWriter();
  const byState = new Map<string, number>();
  // A silent worker serves nobody: `silent`, not `ready`, as status, the dashboard and /readyz count it (H375).
  for (const row of stats) {
    const state = row.state !== 'ready' ? row.state : row.isSilent ? 'silent' : row.isClosed ? 'closed' : 'ready';
    byState.set(state, (byState.get(state) ?? 0) + 1);
  }
  out.family('clusterkit_workers', 'gauge', 'Live workers by state: ready (and answering the heartbeat), silent (ready, but its event loop most likely blocked: no heartbeat answer), closed (ready, but it closed every server it listened on), starting, stopping. The states sum to the live workers.');
  for (const state of ['starting', 'ready', 'silent', 'closed', 'stopping']) out.sample([['state', state]], byState.get(state) ?? 0);
  const serving = slotWorkers(stats);
  const servedSlots = new Set(serving.map((row) => row.slot));
  // A given-up slot has no worker; one that has a worker again (a moment of a reload) is that worker's.
  const givenUp = (pool?.givenUp ?? []).filter((slot) => !servedSlots.has(slot.slot));
  if (pool !== undefined) {
    out.single('clusterkit_workers_target', 'gauge', 'Workers the cluster is meant to run (scale, fork(), stopWorker() change it); below it, compare with clusterkit_worker_up.', pool.targetWorkers);
    out.single('clusterkit_slots_given_up', 'gauge', 'Slots the crash-loop breaker gave up on (no worker, not restarted; PM2\'s errored), now: a reload that succeeds starts them again.', pool.givenUp.length);
    out.single('clusterkit_crash_loops_total', 'counter', 'Times the crash-loop breaker gave up on a slot since the primary started.', pool.crashLoops);
  }
  if (pool?.outcomes !== undefined) writeOutcomes(out, pool.outcomes);
  for (const family of kFamilies) {
    out.family(family.name, family.type, family.help);
    const rows: Array<{ slot: number; value: number | undefined; labels: Labels }> = serving.map((row) => ({ slot: row.slot, value: family.value(row), labels: labels(row.slot, row.name) }));
    const keep = kGivenUpFamilies.get(family.name);
    if (keep) for (const slot of givenUp) rows.push({ slot: slot.slot, value: keep(slot), labels: labels(slot.slot, slot.name) });
    for (const row of rows.sort((a, b) => a.slot - b.slot)) if (row.value !== undefined) out.sample(row.labels, row.value);
  }
  out.family('clusterkit_worker_scrape_errors_total', 'counter', 'Metric scrapes of this slot that failed or timed out (its metrics are missing from that scrape).');
  // Every live slot has its series from the first scrape, at 0: rate() and increase() need a
  // starting point, and an alert on the series must not wait for the first error to exist. Its
  // labels are those of the slot's other series, `name` included (H351: it had `slot` alone, so
  // a join on slot and name missed it).
  const counts = new Map<string, ScrapeErrorCount>();
  for (const row of serving) counts.set(scrapeErrorKey(row.slot, row.name), { slot: row.slot, name: row.name, count: 0 });
  for (const entry of scrapeErrors) counts.set(scrapeErrorKey(entry.slot, entry.name), entry);
  const errorRows = [...counts.values()].sort((a, b) => a.slot - b.slot || (a.name ?? '').localeCompare(b.name ?? ''));
  for (const { slot, name, count } of errorRows) out.sample(labels(slot, name), count);
  if (pool?.seriesDropped !== undefined) writeSeriesDropped(out, pool.seriesDropped);
  // The budget beside the use, so an alert is one ratio: clusterkit_store_bytes / clusterkit_store_max_bytes > 0.8.
  out.single('clusterkit_store_bytes', 'gauge', 'Bytes the shared store holds, as counted against maxStoreBytes (keys, values and each entry\'s overhead).', store.bytes);
  out.single('clusterkit_store_max_bytes', 'gauge', 'The shared store\'s byte budget (maxStoreBytes).', store.maxBytes);
  out.single('clusterkit_store_keys', 'gauge', 'Keys the shared store holds.', store.keys);
  out.single('clusterkit_store_max_keys', 'gauge', 'The most keys the shared store holds (maxStoreKeys).', store.maxKeys);
  return out.text();
}

/**
 * Reloads by outcome, requests cut off and connections reset by cause, since the primary
 * started (H375). Every series is written from the first scrape, at 0: `increase()` needs a
 * starting point, and an alert must not wait for the first failure for its series to exist.
 */
function writeOutcomes(out: ExpositionWriter, outcomes: OutcomeFigures): void {
  out.family(
    'clusterkit_reloads_total',
    'counter',
    'Rolling reloads since the primary started, by outcome: succeeded (every slot replaced), failed (a replacement did not start or crashed; the old workers kept serving), superseded (--watch: a newer change stopped a replacement still starting, and reloaded again).',
  );
  out.sample([['outcome', 'succeeded']], outcomes.reloadsSucceeded).sample([['outcome', 'failed']], outcomes.reloadsFailed).sample([['outcome', 'superseded']], outcomes.reloadsSuperseded);
  out.family('clusterkit_requests_cut_total', 'counter', 'Requests cut off unfinished since the primary started, by reason: killed (a SIGKILL sent by the primary: heartbeat, stop timeout), crash, deadline (open at a stopping worker\'s deadline), exit, closed, signal, unexpected-exit, handlers (message handlers). A lower bound for kills and crashes.');
  for (const reason of kRequestsCutReasons) out.sample([['reason', reason]], outcomes.requestsCut.get(reason) ?? 0);
  out.family('clusterkit_connections_reset_total', 'counter', 'Connections reset since the primary started, by reason: unaccepted (reset before any worker took them, as a shutdown closed the listening sockets, or a sticky connection no worker could take), or the open connections with no request known on them (as of its last report, for a SIGKILL) of a worker killed, crashed or exited unasked.');
  for (const reason of kConnectionsResetReasons) out.sample([['reason', reason]], outcomes.connectionsReset.get(reason) ?? 0);
}

/**
 * Series the workers answered with that the exposition leaves out, by reason (H523: without
 * prom-client in the primary they were dropped without a word, scrape errors at 0). Every reason
 * from the first scrape, at 0, as the other counters: an alert on it needs its series to exist.
 */
function writeSeriesDropped(out: ExpositionWriter, dropped: ReadonlyMap<SeriesDroppedReason, number>): void {
  out.family(
    'clusterkit_worker_series_dropped_total',
    'counter',
    "Series of the workers' metrics answers left out of the exposition since the primary started, each worker's counted at each scrape, by reason: no-prom-client (the primary cannot load prom-client, which merges them: npm i prom-client in the primary's project).",
  );
  for (const reason of kSeriesDroppedReasons) out.sample([['reason', reason]], dropped.get(reason) ?? 0);
}

/** The series a given-up slot keeps, and their values: it is not up, and its counts stay. */
const kGivenUpFamilies = new Map<string, (slot: GivenUpSlotStats) => number>([
  ['clusterkit_worker_up', () => 0],
  ['clusterkit_worker_restarts_total', (slot) => slot.restarts],
  ['clusterkit_worker_crashes_total', (slot) => slot.crashes],
]);

/**
 * Failed scrapes of one slot while a worker of one name served it (`clusterkit_worker_scrape_errors_total`).
 * A slot's number freed by a scale-down may be taken again by a worker of another name: its
 * errors are counted in a series of its own, as every series carries the name.
 */
export interface ScrapeErrorCount {
  readonly slot: number;
  readonly name: string | undefined;
  readonly count: number;
}

/** The key of a slot's scrape-error series: its slot and its name (any text: JSON keeps them apart). */
export function scrapeErrorKey(slot: number, name: string | undefined): string {
  return JSON.stringify([slot, name ?? null]);
}

function labels(slot: number, name: string | undefined): Labels {
  return name === undefined ? [['slot', String(slot)]] : [['slot', String(slot)], ['name', name]];
}
