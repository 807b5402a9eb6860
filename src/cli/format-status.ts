/**
 * Rendering cluster status as text tables (pure: no I/O). Figures come from another process
 * (a primary, fed by its workers): each is shown only when it is a finite number, `-` otherwise,
 * so a wrong type can never break the table.
 */
import type { ClusterStatus } from '../control/control-protocol.js';
import { formatBytes as formatStoreBytes } from '../format-bytes.js';
import { isStoreInUse, type StoreStats } from '../primary/features/store-stats.js';
import type { FailingSlotStats, GivenUpSlotStats } from '../primary/features/given-up-stats.js';
import type { WorkerStats } from '../primary/features/worker-stats.js';

type Row = readonly string[];

// Headers say what the figures are: the event-loop delay as mean / p99 since the previous
// heartbeat; the message counts include the heartbeats (a footnote says so).
// A `name` column after `slot` only when some worker (or given-up slot) has a name (`fork({ name })`, H351),
// then a `roles` column only when some has roles (`fork({ roles })`, H362).
const kWorkerHeader: Row = ['id', 'pid', 'slot', 'state', 'uptime', 'restarts', 'crashes', 'rss', 'heap', 'loop mean/p99', 'cpu', 'msgs in*', 'msgs out*'];
const kFootnote = '* IPC messages to and from the worker, heartbeats included\n';
/** Under the table when a worker is silent: what the word means, and why its figures are gone. */
const kSilentNote = 'silent: no answer to the heartbeat for that long (a blocked event loop?); loop and cpu unknown until it answers\n';
/**
 * The same, when the silent workers' CPU is the primary's own reading (`WorkerStats.isCpuMeasured`,
 * Linux: H413): shown, as current as any answering worker's; their loop delay is not.
 */
const kSilentMeasuredNote = 'silent: no answer to the heartbeat for that long (a blocked event loop?); loop unknown until it answers, cpu as the primary reads it\n';
/** Under the table when a silent worker's process is stopped (state T or t), not blocked (H327). */
const kStoppedNote = 'stopped: its process is stopped (kill -STOP or a debugger; kill -CONT resumes it), not blocked, silent since its last answer; the heartbeat kills it at its timeout unless resumed\n';
/** Numeric columns are right-aligned. */
const kRightAligned = new Set(['id', 'pid', 'slot', 'restarts', 'crashes', 'rss', 'heap', 'loop mean/p99', 'cpu', 'msgs in*', 'msgs out*']);

const kNoWorkers = '(no workers)\n';

/** One cluster: a header line, then one row per worker (and per errored or restarting slot). */
export function formatStatus(status: ClusterStatus): string {
  const table = workerTable(status);
  return table === kNoWorkers ? `${statusHeader(status)}${kNoWorkers}` : `${statusHeader(status)}\n${table}`;
}

/** The lines above the table: the cluster, its script, its store. */
export function statusHeader(status: ClusterStatus): string {
  return (
    `cluster ${status.name}  pid ${formatCount(status.pid)}  ${status.state}  up ${formatDuration(status.uptimeMs)}  ` +
    `workers ${formatWorkerCounts(status)}  node ${status.nodeVersion}` +
    // Messages from workers dropped for breaking the protocol: shown only when there are some.
    `${isFigure(status.protocolErrors) && status.protocolErrors > 0 ? `  protocol errors ${status.protocolErrors}` : ''}\n` +
    `script ${status.script}${status.cwd === undefined ? '' : `  cwd ${status.cwd}`}\n` +
    // Every slot given up under --watch: what brings the workers back (H333).
    (status.state === 'waiting' && typeof status.waiting === 'string' ? `waiting: ${status.waiting}\n` : '') +
    lastReloadLine(status) +
    storeLine(status.store)
  );
}

/**
 * `last reload: failed 12s ago, 1 of 2 workers replaced; worker 2 (slot 1) still runs the code
 * from before it` (H529): after a reload that failed part way, two builds serve, and nothing
 * else in `status` said so; a slot restarting with the new code is named too (H541). Only for a
 * failed one; another process's answer, checked.
 */
export function lastReloadLine(status: ClusterStatus): string {
  const last: unknown = status.lastReload;
  if (typeof last !== 'object' || last === null) return '';
  const { outcome, startedAt, endedAt, workers, replaced, failedInRow, firstFailedAt, supersededInRow } = last as Record<string, unknown>;
  if (outcome !== 'failed' || !isFigure(startedAt) || !isFigure(endedAt) || !isFigure(status.startedAt) || !isFigure(status.uptimeMs)) return '';
  // The primary's clock at its answer: each worker started its uptime before it.
  const now = status.startedAt + status.uptimeMs;
  const live = (Array.isArray(status.workers) ? status.workers : []).filter((worker) => worker.state !== 'stopping' && isFigure(worker.uptimeMs) && isFigure(worker.id));
  const startOf = (worker: (typeof live)[number]) => now - (worker.uptimeMs as number);
  const counts = !isFigure(workers) || !isFigure(replaced) ? '' : workers === 0 ? ', with no worker to replace' : `, ${replaced} of ${workers} ${workers === 1 ? 'worker' : 'workers'} replaced`;
  // A slot waiting out its restart's backoff has no worker, and restarts with the new code: "every
  // worker still runs the code from before it" read as if the reload had changed nothing (newcomer t57).
  const restarting = failingSlots(status)
    .filter((slot) => slot.state === 'restarting')
    .map((slot) => slot.slot);
  const restartingText = restarting.length === 0 ? '' : `; ${restarting.length === 1 ? 'slot' : 'slots'} ${restarting.join(', ')} ${restarting.length === 1 ? 'restarts' : 'restart'} with the new code`;
  const head = `last reload: failed ${formatDuration(Math.max(0, now - endedAt))} ago${counts}`;
  // After several failed reloads in a row, the code that ran before them all is the last that
  // completed, and each of them may have left some slots on its own build (ops tester t57: a
  // second failed reload read "every worker still runs the code from before it" over two
  // builds, H548). Each worker is told by when it started: before the first of them, during
  // one of the earlier ones, or during the last.
  // A reload superseded by a newer change after it replaced workers is in the row too: those run its code (hostile t58).
  const superseded = isFigure(supersededInRow) && supersededInRow > 0 ? supersededInRow : 0;
  if (isFigure(failedInRow) && (failedInRow > 1 || superseded > 0) && isFigure(firstFailedAt) && firstFailedAt <= startedAt) {
    const groups = [
      { workers: live.filter((worker) => startOf(worker) < firstFailedAt), what: 'the code from before the first of them' },
      { workers: live.filter((worker) => startOf(worker) >= firstFailedAt && startOf(worker) < startedAt), what: 'code an earlier one of them loaded' },
      { workers: live.filter((worker) => startOf(worker) >= startedAt), what: 'the code the last of them loaded' },
    ].filter((group) => group.workers.length > 0);
    const failedText = failedInRow > 1 ? `${failedInRow} reloads in a row failed` : undefined;
    const supersededText = superseded === 0 ? undefined : `${superseded === 1 ? 'a reload' : `${superseded} reloads`} before it superseded by a newer change after replacing workers`;
    const row = `; ${[failedText, supersededText].filter((text) => text !== undefined).join(', ')}`;
    if (groups.length === 1 && groups[0]!.workers.length === live.length && restarting.length === 0) return `${head}${row}; every worker runs ${groups[0]!.what}\n`;
    const said = groups.map((group) => `${describeWorkers(group.workers)} ${group.workers.length === 1 ? 'runs' : 'run'} ${group.what}`).join(', ');
    return `${head}${row}${said === '' ? '' : `; ${said}`}${restartingText}\n`;
  }
  const older = live.filter((worker) => startOf(worker) < startedAt);
  const mixed =
    older.length === 0
      ? ''
      : older.length === live.length && restarting.length === 0
        ? '; every worker still runs the code from before it'
        : `; ${describeWorkers(older)} still ${older.length === 1 ? 'runs' : 'run'} the code from before it${older.length === live.length ? '' : ', the others the new code'}${restartingText}`;
  return `${head}${mixed}\n`;
}

/** `worker 2 (slot 1)`, `workers 2 (slot 1), 3 (slot 0)`. */
function describeWorkers(workers: readonly { id: unknown; slot: unknown }[]): string {
  const named = workers.map((worker) => `${worker.id as number}${isFigure(worker.slot) ? ` (slot ${worker.slot})` : ''}`);
  return `${workers.length === 1 ? 'worker' : 'workers'} ${named.join(', ')}`;
}

/** One row per worker, and the notes under them; `(no workers)` when there is none. */
export function workerTable(status: ClusterStatus): string {
  const errored = erroredSlots(status);
  const failing = failingSlots(status);
  // A slot waiting out its restart's backoff has no worker: a row of its own (H396).
  const restarting = failing.filter((slot) => slot.state === 'restarting');
  if (status.workers.length === 0 && errored.length === 0 && restarting.length === 0) return kNoWorkers;
  const silent = status.workers.filter(isSilent);
  const blocked = silent.filter((worker) => !isPaused(worker));
  const silentNote = blocked.length === 0 ? '' : blocked.every(isCpuMeasured) ? kSilentMeasuredNote : kSilentNote;
  const notes = `${kFootnote}${silentNote}${silent.some(isPaused) ? kStoppedNote : ''}`;
  // PM2's `errored` row: the slot has no worker, so the row says since when and why (PM2 retest N3).
  const rows = [...status.workers.map(workerRow), ...restarting.map(restartingRow), ...errored.map(erroredRow)];
  // A named worker's name beside its slot (H351: docs/named-workers.md said `status` shows it; it
  // did not), then its roles (H362: only the primary's log lines had them, `workerRoles=`). Each
  // column left out when no row has one: a cluster of unnamed workers keeps its table. The name
  // and roles arrived stripped of control characters, as every string of the answer (control-chars.ts).
  const names = [...status.workers.map((worker) => nameCell(worker.name)), ...restarting.map((slot) => nameCell(slot.name)), ...errored.map((slot) => nameCell(slot.name))];
  const allRoles = [...status.workers.map((worker) => joinRoles(worker.roles)), ...restarting.map((slot) => joinRoles(slot.roles)), ...errored.map((slot) => joinRoles(slot.roles))];
  const roles = allRoles.map(rolesCell);
  const columns = ([['name', names], ['roles', roles]] as const).filter(([, cells]) => cells.some((cell) => cell !== '-'));
  const header = withIdentity(kWorkerHeader, columns.map(([title]) => title));
  const cells = rows.map((row, index) => withIdentity(row, columns.map(([, column]) => column[index]!)));
  const cutNote = allRoles.some(isCutRoles) ? kRolesCutNote : '';
  return `${table(header, cells)}${notes}${cutNote}${failing.map(failingNote).join('')}${errored.map(erroredNote).join('')}`;
}

/** The `name` cell: the worker's name, `-` for none (or for a value that is no name: it crossed processes). */
function nameCell(name: unknown): string {
  return typeof name === 'string' && name !== '' ? name : '-';
}

/**
 * The widest `roles` cell, in characters: a longer list is cut there with an ellipsis, so a
 * worker of many roles does not push the figures off the screen (`--json` has them all, H362).
 */
export const kMaxRolesChars = 32;
const kEllipsis = '\u2026';
const kRolesCutNote = `roles cut at ${kMaxRolesChars} characters (${kEllipsis}): --json lists every role\n`;

/**
 * A worker's roles comma-joined, as `workerRoles=` in the log lines and `CLUSTERKIT_ROLES` write
 * them (`batch,io`); `''` for none (or for a value that is no list of roles: it crossed
 * processes, and a primary of an older clusterkit sends none).
 */
function joinRoles(roles: unknown): string {
  return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string' && role !== '').join(',') : '';
}

/** The `roles` cell: the joined roles, cut at `kMaxRolesChars` with an ellipsis (whole characters: never half an emoji); `-` for none. */
function rolesCell(joined: string): string {
  if (joined === '') return '-';
  return isCutRoles(joined) ? `${[...joined].slice(0, kMaxRolesChars - 1).join('')}${kEllipsis}` : joined;
}

function isCutRoles(joined: string): boolean {
  return [...joined].length > kMaxRolesChars;
}

/** `row` with `cells` (its name, its roles) after its `slot` cell. */
function withIdentity(row: Row, cells: readonly string[]): Row {
  const slot = kWorkerHeader.indexOf('slot') + 1;
  return [...row.slice(0, slot), ...cells, ...row.slice(slot)];
}

/**
 * The slots given up in a crash loop (`ClusterStatus.givenUpSlots`), those whose fields are
 * what a primary sends: the answer crossed processes, so a malformed entry is left out.
 */
export function erroredSlots(status: ClusterStatus): GivenUpSlotStats[] {
  const slots: unknown = (status as { givenUpSlots?: unknown }).givenUpSlots;
  if (!Array.isArray(slots)) return [];
  return slots.filter((slot): slot is GivenUpSlotStats => {
    if (typeof slot !== 'object' || slot === null) return false;
    const { slot: index, since, givenUpMs, restarts, crashes, failures, lastFailure } = slot as Record<string, unknown>;
    return [index, since, givenUpMs, restarts, crashes, failures].every(isCount) && typeof lastFailure === 'string';
  });
}

/**
 * The slots failing in a crash loop, not given up yet (`ClusterStatus.failingSlots`, H396), those
 * whose fields are what a primary sends (the answer crossed processes); `[]` from an older primary.
 */
export function failingSlots(status: ClusterStatus): FailingSlotStats[] {
  const slots: unknown = (status as { failingSlots?: unknown }).failingSlots;
  if (!Array.isArray(slots)) return [];
  return slots.filter((slot): slot is FailingSlotStats => {
    if (typeof slot !== 'object' || slot === null) return false;
    const { slot: index, state, failures, failedStarts, restarts, crashes, lastFailure, restartInMs } = slot as Record<string, unknown>;
    const isShaped = (state === 'restarting' && isFigure(restartInMs)) || state === 'starting';
    return isShaped && [index, failures, failedStarts, restarts, crashes].every(isCount) && typeof lastFailure === 'string';
  });
}

/**
 * One note of a slot without a ready worker: failing in a crash loop (`restarting`, `starting`,
 * H396) or given up (`errored`). `text` is the line `clusterkit status` prints under its table,
 * without the newline; the dashboard shows the same (H416).
 */
export interface SlotNote {
  slot: number;
  state: 'restarting' | 'starting' | 'errored';
  text: string;
}

/** The notes of the status's failing, then given-up slots (those well formed: the answer crossed processes). */
export function slotNotes(status: ClusterStatus): SlotNote[] {
  return [
    ...failingSlots(status).map((slot) => ({ slot: slot.slot, state: slot.state, text: failingNote(slot).trimEnd() })),
    ...erroredSlots(status).map((slot) => ({ slot: slot.slot, state: 'errored' as const, text: erroredNote(slot).trimEnd() })),
  ];
}

function restartingRow(slot: FailingSlotStats): Row {
  return ['-', '-', formatCount(slot.slot), 'restarting', '-', formatCount(slot.restarts), formatCount(slot.crashes), '-', '-', '-', '-', '-', '-'];
}

/**
 * `restarting: slot 0 restarts in 4.2s, after 3 exits in a row (3 failed starts); last failure: ...`,
 * or, its next worker started, `starting: slot 0 (worker 7) starts again after ...` (H396).
 */
function failingNote(slot: FailingSlotStats): string {
  const exits = slot.failures === 1 ? '1 exit' : `${slot.failures} exits in a row`;
  const failedStarts = slot.failedStarts === 0 ? '' : ` (${slot.failedStarts === 1 ? '1 failed start' : `${slot.failedStarts} failed starts in a row`})`;
  const after = `after ${exits}${failedStarts}`;
  const last = slot.lastFailure.replace(/^Worker (\d)/, 'worker $1');
  const when =
    slot.state === 'restarting'
      ? `restarting: slot ${slot.slot} ${slot.restartInMs! > 0 ? `restarts in ${formatWait(slot.restartInMs!)}` : 'restarts now'}`
      : `starting: slot ${slot.slot}${isCount(slot.workerId) ? ` (worker ${slot.workerId})` : ''} starts again`;
  return `${when}, ${after}; last failure: ${last}\n`;
}

/** `4.2s` under a minute (tenths: it shrinks while you watch), `1m 5s` past it. */
function formatWait(ms: number): string {
  return ms < 60_000 ? `${(ms / 1_000).toFixed(1)}s` : formatDuration(ms);
}

function erroredRow(slot: GivenUpSlotStats): Row {
  return ['-', '-', formatCount(slot.slot), 'errored', '-', formatCount(slot.restarts), formatCount(slot.crashes), '-', '-', '-', '-', '-', '-'];
}

/** `errored: slot 0 given up 12s ago after 3 failed starts in a row; last: ...; a reload that succeeds starts it again` */
function erroredNote(slot: GivenUpSlotStats): string {
  const after = slot.reason === 'too-many-restarts' ? `ended ${slot.failures} times within the restart window` : `${slot.failures} failed starts in a row`;
  // Mid-sentence: "worker 4 (pid ...)", not the error message's "Worker 4" (retest t31).
  const last = slot.lastFailure.replace(/^Worker (\d)/, 'worker $1');
  return `errored: slot ${slot.slot} given up ${formatDuration(slot.givenUpMs)} ago (crash loop: ${after}); last failure: ${last}. A reload that succeeds starts it again\n`;
}

/**
 * `store 12/10000 keys  1.2 KiB/64.0 MiB  3 watches (2 workers)  1 ephemeral  4 refused (full)
 * 1 watch refused (limit)`, only while the store is in use (it holds, watches or refused
 * something); the optional parts only when not 0. `full` is the budget (`maxStoreBytes`,
 * `maxStoreKeys`), `limit` a worker's `maxStoreWatchesPerWorker`: the one is fixed by deleting
 * keys, the other by stopping watches. Nothing for a store whose figures are not all numbers
 * (an older or odd primary).
 */
export function storeLine(store: unknown): string {
  if (typeof store !== 'object' || store === null) return '';
  const stats = store as Partial<Record<keyof StoreStats, unknown>>;
  const counts = ['keys', 'maxKeys', 'bytes', 'ephemeralKeys', 'watches', 'watchedKeys', 'watchers', 'heldChanges', 'refusals', 'watchLimitRefusals'] as const;
  if (!counts.every((field) => isCount(stats[field])) || !(stats.maxBytes === null || isCount(stats.maxBytes))) return '';
  const figures = stats as StoreStats;
  if (!isStoreInUse(figures) || figures.watchLimitRefusals > figures.refusals) return '';
  const full = figures.refusals - figures.watchLimitRefusals;
  const parts = [
    `store ${figures.keys}/${figures.maxKeys} keys`,
    `${formatStoreBytes(figures.bytes)}/${figures.maxBytes === null ? 'unbounded' : formatStoreBytes(figures.maxBytes)}`,
    ...(figures.watches > 0 ? [`${figures.watches} watch${figures.watches === 1 ? '' : 'es'} (${figures.watchers} worker${figures.watchers === 1 ? '' : 's'})`] : []),
    ...(figures.ephemeralKeys > 0 ? [`${figures.ephemeralKeys} ephemeral`] : []),
    ...(figures.heldChanges > 0 ? [`${figures.heldChanges} held for slow watchers`] : []),
    ...(full > 0 ? [`${full} refused (full)`] : []),
    ...(figures.watchLimitRefusals > 0 ? [`${figures.watchLimitRefusals} watch${figures.watchLimitRefusals === 1 ? '' : 'es'} refused (limit)`] : []),
  ];
  return `${parts.join('  ')}\n`;
}

/** `clusterkit list`: one row per cluster. */
export function formatList(statuses: readonly ClusterStatus[]): string {
  if (statuses.length === 0) return 'No cluster is running.\n';
  const header: Row = ['name', 'pid', 'state', 'workers', 'uptime', 'script'];
  const rows = statuses.map((status) => [
    status.name,
    formatCount(status.pid),
    status.state,
    formatWorkerCounts(status),
    formatDuration(status.uptimeMs),
    status.script,
  ]);
  return table(header, rows, new Set(['pid']));
}

/** The states other than ready the `workers` figure names, in this order. */
const kNotReady = ['starting', 'restarting', 'silent', 'stopped', 'closed', 'stopping', 'exited', 'errored'] as const;

/**
 * The `workers` figure: the ready workers over the target, `4/4`, when no live worker is in
 * another state; else those others by state, so that a worker still starting does not pass for
 * one that serves (tester t22: `workers 1/1` while its only worker was `starting`):
 * `0/1 ready (1 starting)`, `4/4 ready (1 starting)` during a reload, `1/2 ready (1 silent)`,
 * `1/2 ready (1 errored)` for a slot given up in a crash loop, `0/2 ready (2 restarting)` for
 * slots waiting out a restart's backoff (H396), `1/2 ready (1 stopped)` for a
 * silent worker whose process is stopped (kill -STOP: H327), `1/2 ready (1 exited)` for a worker
 * whose process exited, its exit still being read (up to 2 s: H462).
 * A silent worker (a blocked event loop) serves nobody: not counted ready, as on the dashboard.
 */
export function formatWorkerCounts(status: ClusterStatus): string {
  const counts = new Map<string, number>();
  for (const worker of status.workers) {
    const state = isSilent(worker) ? (isPaused(worker) ? 'stopped' : 'silent') : isClosed(worker) ? 'closed' : worker.state;
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  const errored = erroredSlots(status).length;
  if (errored > 0) counts.set('errored', errored);
  // Slots waiting out a restart's backoff have no worker either (H396: `0/2` said nothing of them).
  const restarting = failingSlots(status).filter((slot) => slot.state === 'restarting').length;
  if (restarting > 0) counts.set('restarting', restarting);
  const readyCount = counts.get('ready') ?? 0;
  const ready = `${readyCount}/${formatCount(status.targetWorkers)}`;
  if (readyCount === status.workers.length + errored + restarting) return ready;
  const others = kNotReady.flatMap((state) => (counts.has(state) ? [`${counts.get(state)} ${state}`] : []));
  return others.length === 0 ? `${ready} ready` : `${ready} ready (${others.join(', ')})`;
}

function workerRow(worker: WorkerStats): Row {
  // A silent worker's loop delay and CPU were measured over an interval long past: not shown,
  // unless its CPU is the primary's own reading, current whatever the worker does (H413).
  const silent = isSilent(worker);
  const delay = isFigure(worker.eventLoopDelayMs) && !silent
    ? `${formatMs(worker.eventLoopDelayMs)} / ${formatMs(worker.eventLoopDelayP99Ms ?? worker.eventLoopDelayMs)} ms`
    : '-';
  return [
    formatCount(worker.id),
    formatCount(worker.pid),
    formatCount(worker.slot),
    silent ? (isPaused(worker) ? formatStopped(worker.silentMs) : formatSilence(worker.silentMs)) : isClosed(worker) ? 'closed' : worker.state,
    formatDuration(worker.uptimeMs),
    formatCount(worker.restarts),
    // A primary of an older clusterkit sends no such field: `-`.
    formatCount((worker as { crashes?: number }).crashes),
    formatBytes(worker.rssBytes),
    formatBytes(worker.heapUsedBytes),
    delay,
    silent && !isCpuMeasured(worker) ? '-' : formatPercent(worker.cpuPercent),
    formatCount(worker.messagesIn),
    formatCount(worker.messagesOut),
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

/**
 * A ready worker unheard for over two heartbeat intervals (`WorkerStats.isSilent`). Only `true`
 * counts: a primary of an older clusterkit sends no such field.
 */
function isSilent(worker: WorkerStats): boolean {
  return worker.state === 'ready' && (worker as { isSilent?: unknown }).isSilent === true;
}

/**
 * Its CPU figures are the primary's own reading (`WorkerStats.isCpuMeasured`, H413), current for
 * a silent worker too. Only `true` counts: a primary of an older clusterkit sends no such field,
 * and its silent worker's figure may be that of its last answer.
 */
function isCpuMeasured(worker: WorkerStats): boolean {
  return (worker as { isCpuMeasured?: unknown }).isCpuMeasured === true;
}

/**
 * A silent worker whose process is stopped (`WorkerStats.isPaused`: kill -STOP, a debugger), not
 * blocked (H327). Only `true` counts: a primary of an older clusterkit sends no such field.
 */
function isPaused(worker: WorkerStats): boolean {
  return isSilent(worker) && (worker as { isPaused?: unknown }).isPaused === true;
}

/**
 * A ready worker that closed every server it listened on (`WorkerStats.isClosed`): it accepts
 * no connection. Only `true` counts: a primary of an older clusterkit sends no such field.
 */
function isClosed(worker: WorkerStats): boolean {
  return worker.state === 'ready' && (worker as { isClosed?: unknown }).isClosed === true;
}

/** `stopped, silent 5.8s`: a silent worker whose process is stopped, and for how long it has been silent (H327). */
export function formatStopped(ms: unknown): string {
  // Its silence, counted from its last answer, not from the stop, which the primary cannot see (chaos tester t51: `stopped 3.8s` read as stopped for 3.8 s).
  return `stopped, ${formatSilence(ms)}`;
}

/** `silent 5.2s` (tenths: it grows while you watch), `silent 1m 5s`, or `silent`. */
export function formatSilence(ms: unknown): string {
  if (!isFigure(ms)) return 'silent';
  return `silent ${ms < 60_000 ? `${(Math.max(0, ms) / 1_000).toFixed(1)}s` : formatDuration(ms)}`;
}

/** `450ms`, `12s`, `3m 12s`, `2h 5m`, `4d 3h`, or `-`. */
export function formatDuration(ms: number): string {
  if (!isFigure(ms)) return '-';
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/**
 * `48.2 MiB`, `157 MiB`, or `-` before the first heartbeat: MiB, as the memory limit (`show`,
 * `--max-memory`) and the memory lines of the log say it (newcomer t34 L1: `157 MB` here, of
 * MiB, beside `limit 200.0 MiB` there, H338).
 */
export function formatBytes(bytes: number | undefined): string {
  if (!isFigure(bytes)) return '-';
  const mib = bytes / (1024 * 1024);
  return mib >= 100 ? `${Math.round(mib)} MiB` : `${mib.toFixed(1)} MiB`;
}

/** `12.5%` of one core, or `-` before the first heartbeat. */
export function formatPercent(percent: number | undefined): string {
  return isFigure(percent) ? `${percent.toFixed(1)}%` : '-';
}

function formatMs(ms: number): string {
  if (!isFigure(ms)) return '-';
  return ms >= 100 ? String(Math.round(ms)) : ms.toFixed(1);
}

/** An id, pid or count as digits, or `-`. */
export function formatCount(count: number | undefined): string {
  return isFigure(count) ? String(count) : '-';
}

/** A count: a non-negative safe integer. */
export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A finite number. Status crossed processes, so its types are checked before use. */
function isFigure(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
