// The event timeline: one line per lifecycle event, newest first, and the look of each event
// kind, shared with the markers drawn on the charts' time axis.
import { formatBytes, formatClock, formatMs, formatSize } from './format.js';

/** Entries kept in the list; the charts keep their own markers for the whole history. */
const kMaxEntries = 400;

const kKinds = {
  workerFork: { tag: 'fork', color: '#64748b', line: false },
  workerReady: { tag: 'ready', color: '#34d399', line: false },
  workerExit: { tag: 'exit', color: '#f87171', line: true },
  workerRestart: { tag: 'restart', color: '#fb923c', line: true },
  workerUnresponsive: { tag: 'unresponsive', color: '#c084fc', line: true },
  workerMemoryLimit: { tag: 'memory limit', color: '#f472b6', line: true },
  workerDestroyTimeout: { tag: 'destroy timeout', color: '#fbbf24', line: true },
  workerRequestsCut: { tag: 'requests cut', color: '#f97316', line: true },
  workerProtocolError: { tag: 'protocol error', color: '#e879f9', line: false },
  workerDrain: { tag: 'drain', color: '#a3e635', line: false },
  workerChannelCorrupt: { tag: 'channel corrupt', color: '#ef4444', line: true },
  workerSlowMessage: { tag: 'slow message', color: '#e879f9', line: false },
  workerOutputLost: { tag: 'output lost', color: '#fbbf24', line: false },
  stickyRefused: { tag: 'sticky refused', color: '#f97316', line: false },
  crashLoop: { tag: 'crash loop', color: '#ef4444', line: true },
  reload: { tag: 'reload', color: '#60a5fa', line: true },
  reloadComplete: { tag: 'reload done', color: '#60a5fa', line: true },
  reloadFailed: { tag: 'reload failed', color: '#ef4444', line: true },
  reloadJoined: { tag: 'reload joined', color: '#60a5fa', line: false },
  reloadWaiting: { tag: 'reload waiting', color: '#60a5fa', line: false },
  crashLoopRefill: { tag: 'slots started again', color: '#60a5fa', line: false },
  scale: { tag: 'scale', color: '#2dd4bf', line: true },
  scaleComplete: { tag: 'scale done', color: '#2dd4bf', line: true },
  shutdown: { tag: 'shutdown', color: '#94a3b8', line: true },
  shutdownForced: { tag: 'forced stop', color: '#ef4444', line: true },
  // Marks the dashboard adds (H386): the primary went away (stopped, or lost: killed, crashed), another one answers.
  primaryGone: { tag: 'primary gone', color: '#ef4444', line: true },
  primaryStarted: { tag: 'primary started', color: '#34d399', line: true },
};
const kUnknown = { tag: 'event', color: '#94a3b8', line: false };

/** What forced a stop, as the primary's log line says it (primary-signals.ts `describeForcedStop`): no `firstSignal` when a call or `clusterkit stop` started the shutdown. */
function describeForcedStop(event) {
  const signal = event.reason ?? 'a signal';
  if (event.firstSignal === undefined) return `${signal} during the shutdown`;
  return event.firstSignal === signal ? `a second ${signal}` : `${signal} after ${event.firstSignal}`;
}

/** How an event looks: `{ tag, color, line }`; an exit the primary asked for is drawn muted, unless its stop was left unfinished. */
export function eventKind(event) {
  const kind = kKinds[event.type] ?? kUnknown;
  if (event.type === 'primaryGone' && event.how === 'stopped') return { ...kind, color: '#94a3b8' };
  // A reload a newer watched change cut short (H388) failed nothing: its change's reload follows.
  if (event.type === 'reloadFailed' && event.superseded === true) return { ...kind, tag: 'reload superseded', color: '#60a5fa' };
  if (event.type === 'workerExit' && event.expected && !event.stopUnfinished) return { ...kind, color: '#94a3b8', line: false };
  return kind;
}

function worker(event) {
  const name = event.name === undefined ? '' : ` "${event.name}"`;
  return `worker ${event.workerId}${name} (pid ${event.pid ?? '-'}, slot ${event.slot})`;
}

/** The signals a process raises on itself on a fatal error (errors.ts `isSelfFatalSignal`). */
const kSelfFatalSignals = new Set(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGTRAP', 'SIGSYS']);

/** One sentence per event, in the words of the primary's log lines. */
export function describeEvent(event) {
  switch (event.type) {
    case 'workerFork':
      return `${worker(event)} forked`;
    case 'workerReady':
      return `${worker(event)} ready`;
    case 'workerExit': {
      // A fatal error of its own (V8 out of memory, abort(), a native crash) is no kill (H296).
      const how = kSelfFatalSignals.has(event.signal)
        ? `died of ${event.signal} (a fatal error in the process itself)`
        : event.signal
          ? `killed by ${event.signal}${event.killedByPrimary ? ' (the primary)' : ''}`
          : `exited with code ${event.code}`;
      if (event.stopUnfinished) return `${worker(event)} ${how} before its stop finished: failed`;
      return `${worker(event)} ${how}${event.expected ? ', as asked' : ''}`;
    }
    case 'workerRestart':
      return `slot ${event.slot} restarted as worker ${event.workerId} (pid ${event.pid ?? '-'}) after ${formatMs(event.delayMs)} ms backoff, attempt ${event.attempt}; replaces worker ${event.previousId}`;
    case 'workerUnresponsive':
      // Its heap near its limit at its last answer (H394): garbage collection, most likely.
      if (event.heapLimitBytes !== undefined) return `${worker(event)} silent for ${formatMs(event.silentMs)} ms, its heap at ${formatBytes(event.heapUsedBytes)} of ${formatBytes(event.heapLimitBytes)} (most likely garbage collection near its limit): killed and replaced`;
      // The primary's own stall within that silence (H474), not the worker's.
      if (event.primaryBlockedMs !== undefined) return `${worker(event)} silent for ${formatMs(event.silentMs)} ms (${formatMs(event.primaryBlockedMs)} ms of them while the primary was blocked): killed and replaced`;
      return `${worker(event)} silent for ${formatMs(event.silentMs)} ms: killed and replaced`;
    case 'workerMemoryLimit':
      if (event.restartedInPlace) return `${worker(event)} grew by the memory limit again (${formatBytes(event.rssBytes)}) while its replacement was not ready: stopped, restarted in place`;
      return `${worker(event)} over the memory limit (${formatBytes(event.rssBytes)} > ${formatBytes(event.limitBytes)}): replaced`;
    case 'workerDestroyTimeout':
      if (event.signal) return `${worker(event)}: the script's ${event.signal} listener ran but the process did not exit in ${formatMs(event.timeoutMs)} ms (exit 1)`;
      // The time kept for it was used up before it began (H350): not _destroy's fault.
      if (event.shortenedBy !== undefined && event.reservedMs !== undefined) {
        const by = event.shortenedBy === 'init' ? 'waiting for _init' : 'a held event loop';
        return `${worker(event)}: _destroy was left ${formatMs(event.timeoutMs)} ms, not the ${formatMs(event.reservedMs)} ms kept for it (used up by ${by}), and did not finish (exit 1)`;
      }
      return `${worker(event)}: _destroy did not finish in ${formatMs(event.timeoutMs)} ms; the worker cut it short (exit 1)`;
    case 'workerRequestsCut': {
      const requests = `${event.openRequests} request${event.openRequests === 1 ? '' : 's'}`;
      // A crash or a kill resets the worker's idle keep-alive connections too (H367).
      const reset = event.resetConnections ? `${event.resetConnections} idle connection${event.resetConnections === 1 ? '' : 's'} reset` : '';
      if (reset && !event.openRequests) return `${worker(event)} exited: ${reset}`;
      if (event.timeoutMs === undefined) return `${worker(event)} exited with ${requests} still open: cut off${reset ? `, and ${reset}` : ''}`;
      return `${worker(event)} cut off ${requests} still open at its shutdown deadline (${formatMs(event.timeoutMs)} ms; exit 1)`;
    }
    case 'workerProtocolError':
      return `${worker(event)} broke the protocol: ${event.dropped} message${event.dropped === 1 ? '' : 's'} dropped (${event.error})`;
    case 'workerDrain':
      // A worker with no open connection has nothing to release gradually: it just stops.
      if (event.connections === 0) return `${worker(event)} stops: no open connection to release`;
      return `${worker(event)} drains gradually: releases its ${event.connections} open connection${event.connections === 1 ? '' : 's'} one at a time over ${formatMs(event.spreadMs)} ms`;
    case 'workerSlowMessage':
      return `${worker(event)} sent ${event.reads > 1 ? `${event.reads} messages` : 'a message'} that kept the primary busy ${formatMs(event.readMs)} ms (${event.reads > 1 ? 'the largest ' : ''}about ${formatBytes(event.bytes)})${event.count > 1 ? `; ${event.count} times since the last` : ''}`;
    case 'workerOutputLost':
      return `${worker(event)} exited with ${formatSize(event.bytes)} of its output not yet read: its last lines are lost`;
    case 'stickyRefused': {
      const connections = `${event.count} sticky connection${event.count === 1 ? '' : 's'}`;
      if (event.reason === 'worker-refused') return `${worker(event)} had no sticky server: ${connections} closed; it gets no more`;
      const role = event.role ? ` with role ${event.role}` : '';
      return `${connections} closed: no ready worker${role} serves sticky connections${event.reason === 'no-ready-worker' ? ' (none ready)' : ''}`;
    }
    case 'workerChannelCorrupt':
      return `${worker(event)} killed: ${event.error}`;
    case 'crashLoop':
      return `slot ${event.slot} gave up after ${event.failures} failures (${event.remainingSlots} slot${event.remainingSlots === 1 ? '' : 's'} left): ${event.error}`;
    case 'reload':
      return `rolling reload started: ${event.workers} worker${event.workers === 1 ? '' : 's'}`;
    case 'reloadComplete':
      // The slots a scale-down removed meanwhile are said (H191); the browser has no shared code, hence the phrase here.
      // And the slots with no worker running at their turn (H574).
      return `rolling reload complete: ${event.replaced} ${event.replaced === 1 ? 'worker' : 'workers'} replaced${stoppedSummary(event)}${event.retired > 0 ? `; ${retiredText(event.retired, event.retiredByStopWorker)}` : ''}${event.vacant > 0 ? `; ${vacantText(event.vacant, event.vacantCrashed)}` : ''}${event.refilled > 0 ? `; ${refilledText(event.refilled, event.refillsFailed)}` : ''}`;
    case 'reloadFailed':
      return event.superseded === true ? `rolling reload superseded: ${event.error}` : `reload failed: ${event.error}`;
    case 'reloadJoined':
      // `queued` (H374): every replacement of the reload under way was forked already, so one more reload follows it.
      return event.queued === true ? 'reload requested while a rolling reload is under way: queued after it' : 'reload requested while a rolling reload is under way: joined to it';
    case 'reloadWaiting':
      // The reload's final wait (H371): its replacements must outlive the startup window (H398).
      return `rolling reload: waiting ${formatMs(event.waitMs)} ms until the replacements have been ready the ${formatMs(event.windowMs)} ms startup window`;
    case 'crashLoopRefill':
      // Slots given up in a crash loop, started again by the reload (H259, H528).
      return `rolling reload: starting slot${Array.isArray(event.slots) && event.slots.length === 1 ? '' : 's'} ${Array.isArray(event.slots) ? event.slots.join(', ') : ''} again, given up in a crash loop before it`;
    case 'scale':
      return `scaling from ${event.from} to ${event.to} worker${event.to === 1 ? '' : 's'}`;
    case 'scaleComplete':
      return `scaling from ${event.from} to ${event.to} worker${event.to === 1 ? '' : 's'} complete${stoppedSummary(event, 'stopped workers')}`;
    case 'shutdown':
      return `shutdown began${event.reason ? ` (${event.reason})` : ''}`;
    case 'shutdownForced':
      return `${describeForcedStop(event)} forced the stop: ${event.killed} worker${event.killed === 1 ? '' : 's'} killed${event.openRequests === undefined ? '' : `, ${event.openRequests} requests still open`}`;
    case 'primaryGone':
      return event.how === 'stopped'
        ? `primary (pid ${event.pid}) gone: stopped`
        : `primary (pid ${event.pid}) gone: connection lost without a shutdown (killed or crashed); its last events may be missing`;
    case 'primaryStarted':
      return `new primary (pid ${event.pid}) answers, after pid ${event.previousPid}: its workers and events start over`;
    default:
      return String(event.type);
  }
}

/** `; old workers: 2 graceful, 1 failed, 0 killed` when the event carries the counts. */
/**
 * `2 not replaced: a scale-down removed their slots`, as the cluster's log says it (stop-counts.ts
 * `describeNotReplaced`; the browser has no shared code): a slot stopWorker() removed is named so
 * (H757); `byStopWorker` is absent from events from before it was counted.
 */
function retiredText(retired, byStopWorker) {
  const by = typeof byStopWorker === 'number' ? Math.min(Math.max(0, byStopWorker), retired) : 0;
  const slots = retired === 1 ? 'its slot' : 'their slots';
  if (by === 0) return `${retired} not replaced: a scale-down removed ${slots}`;
  if (by === retired) return `${retired} not replaced: stopWorker() removed ${slots}`;
  return `${retired} not replaced: a scale-down removed ${retired - by} of their slots, stopWorker() ${by}`;
}

/**
 * The slots a reload did not stop a worker in, as the cluster's log says them (stop-counts.ts
 * `describeVacant`; the browser has no shared code): `crashed`, of them, lost a worker running as
 * the reload began (retest t67 F8); unknown in events from before it was counted.
 */
function vacantText(vacant, crashed) {
  const one = vacant === 1;
  // Not "runs": a vacant slot's restart may still be loading or waiting out its back-off as the reload ends (hostile t75 F5).
  const newCode = `any worker started in ${one ? 'its slot' : 'their slots'} since the reload began runs the new code`;
  if (typeof crashed !== 'number') return `${vacant} old ${one ? 'worker' : 'workers'} not stopped by the reload: ${one ? 'it' : 'they'} crashed or ${one ? 'was' : 'were'} killed before the reload stopped ${one ? 'it' : 'them'} (or had not started yet), and ${newCode}`;
  if (crashed === vacant) return `${vacant} old ${one ? 'worker' : 'workers'} not stopped by the reload: ${one ? 'it' : 'they'} crashed or ${one ? 'was' : 'were'} killed during the reload, not by it, and ${newCode}`;
  const before = 'had no running worker as the reload began (it had exited or been stopped, or had not started yet)';
  if (crashed === 0) return `${vacant} ${one ? 'slot' : 'slots'} with no old worker for the reload to stop: ${one ? 'it' : 'each'} ${before}, and ${newCode}`;
  const others = vacant - crashed;
  return `${vacant} old workers not stopped by the reload: ${crashed} crashed or ${crashed === 1 ? 'was' : 'were'} killed during the reload, not by it; the other ${others === 1 ? 'slot' : `${others} slots`} ${before}; ${newCode}`;
}

/** The slots given up in a crash loop that a reload started again, as the cluster's log says them (stop-counts.ts `describeRefilled`). */
function refilledText(refilled, refillsFailed = 0) {
  const failed = Math.min(typeof refillsFailed === 'number' ? refillsFailed : 0, refilled);
  const was = failed === 1 ? 'was' : 'were';
  const failedClause =
    failed === 0 ? '' : `, ${failed === refilled ? (refilled === 1 ? `and it ${was}` : `and all of them ${was}`) : `${failed} of which ${was}`} given up again or crashed (the crash lines above say why)`;
  return `${refilled} worker ${refilled === 1 ? 'slot' : 'slots'} given up in a crash loop started again${failedClause}`;
}

function stoppedSummary(event, whose = 'old workers') {
  if (event.graceful === undefined) return '';
  // A scale-down's removed workers that were not ready yet are counted too (H211).
  const notStarted = event.notStarted > 0 ? `, ${event.notStarted} stopped before ready` : '';
  if (whose === 'stopped workers' && event.graceful + event.failed + event.killed === 0 && notStarted === '') return '';
  const cut = event.requestsCut > 0 ? `, ${event.requestsCut} request${event.requestsCut === 1 ? '' : 's'} cut off` : '';
  return `; ${whose}: ${event.graceful} graceful, ${event.failed} failed, ${event.killed} killed${notStarted}${cut}`;
}

export class Timeline {
  #list;
  #count;
  #total = 0;
  #missed = 0;

  constructor(list, count) {
    this.#list = list;
    this.#count = count;
  }

  reset(events, missed) {
    this.#list.replaceChildren();
    this.#total = 0;
    this.#missed = 0;
    this.add(events, missed);
  }

  /** Adds events (oldest first), shown newest first. */
  add(events, missed) {
    this.#missed += missed;
    if (missed > 0) this.#list.prepend(this.#entry({ type: 'missed', at: Date.now() }, `${missed} events were missed: the primary's event log overflowed before they were read`));
    const fragment = document.createDocumentFragment();
    for (let i = events.length - 1; i >= 0; i--) fragment.append(this.#entry(events[i], describeEvent(events[i])));
    this.#list.prepend(fragment);
    this.#total += events.length;
    while (this.#list.childElementCount > kMaxEntries) this.#list.lastElementChild.remove();
    this.#count.textContent = `${this.#total} events${this.#missed > 0 ? `, ${this.#missed} missed` : ''}`;
  }

  #entry(event, text) {
    const kind = event.type === 'missed' ? { tag: 'missed', color: '#fbbf24' } : eventKind(event);
    const item = document.createElement('li');
    item.dataset.type = event.type;
    item.style.setProperty('--kind', kind.color);
    const time = document.createElement('time');
    time.dateTime = new Date(event.at).toISOString();
    time.textContent = formatClock(event.at);
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = kind.tag;
    const body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    item.append(time, tag, body);
    return item;
  }
}
