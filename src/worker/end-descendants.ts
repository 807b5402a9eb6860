/**
 * The processes a worker started are stopped (SIGSTOP) where they are, told to go (SIGTERM)
 * and resumed (SIGCONT), given `graceMs` to do so, then killed (SIGKILL): a child that ignores SIGTERM, or takes too long over it, would otherwise
 * live on, re-parented to init, once the worker exits, with nobody left to stop it. The same
 * escalation as PM2's `treekill` after its `kill_timeout`, and as systemd's stop.
 *
 * The SIGKILL goes to the processes the SIGTERM went to, not to a new search of the tree: a
 * process in the middle (`sh -c`, a launcher) that exits on SIGTERM leaves its own child to
 * init, out of the worker's tree, and a new search would miss it (tester t20). Each is known by
 * its pid and start time, so a pid the system gave to a new process meanwhile is left alone.
 *
 * Three callers: an orphaned worker (async, its loop still turns), every worker's 'exit' event
 * (synchronous: nothing async runs there), and the primary for a worker it SIGKILLed, with the
 * processes it listed before the kill (async and in time slices: the primary must not block).
 */
import { TimeSlicer } from '../time-slicer.js';
import { wholeMs } from '../whole-ms.js';
import { freezeLooks, killDescendants } from './kill-descendants.js';
import { recordSignalled, resumeUnlessKilling } from './signalled-processes.js';
import { commandOf, descendantsIn, readProcessTable, readProcessTableNow, statFields, type ProcessTable } from './process-table.js';

/** How long a worker's own processes have between SIGTERM and SIGKILL, in ms. */
export const kDescendantsGraceMs = 1_000;
const kPollMs = 50;
/** How long a SIGKILLed process may take to be gone (the kernel tears it down) before we stop waiting for it. */
const kKillWaitMs = 500;

/** Resolves, once none of `rootPid`'s descendants runs any more, with the pids it had to SIGKILL; never rejects. */
export async function endDescendants(rootPid: number, graceMs = kDescendantsGraceMs): Promise<number[]> {
  try {
    const termed = termFrozen(killDescendants(rootPid, 'SIGSTOP'), rootPid);
    if (termed.length === 0) return [];
    const running = await waitGone(termed, Date.now() + graceMs);
    const killed = killListed(freezeTreeNow([rootPid], running));
    await waitGone(running, Date.now() + kKillWaitMs);
    return killed;
  } catch {
    return []; // a runtime without process.getBuiltinModule: the worker still exits
  }
}

/**
 * As `endDescendants`, blocking the thread while it waits: for the 'exit' event, where no timer
 * fires. Returns the pids it had to SIGKILL. The processes of the tree it left alone for leading
 * a session of their own are added to `ownSessions`, when given (H309): the same look at /proc.
 */
export function endDescendantsNow(rootPid: number, graceMs = kDescendantsGraceMs, ownSessions?: string[]): number[] {
  try {
    const termed = termFrozen(killDescendants(rootPid, 'SIGSTOP', [], ownSessions), rootPid);
    if (termed.length === 0) return []; // the usual case: one look at /proc
    const running = waitGoneNow(termed, Date.now() + graceMs);
    const killed = killListed(freezeTreeNow([rootPid], running));
    waitGoneNow(running, Date.now() + kKillWaitMs);
    return killed;
  } catch {
    return [];
  }
}

/**
 * Ends processes listed earlier (`<pid>:<start time>`, by kill-worker.ts, of a worker now dead),
 * and those they started since: frozen, SIGTERM and SIGCONT, up to `graceMs` for them to go,
 * then what is left is frozen again (`freezeTree`) and SIGKILLed. Resolves once they are gone, with the pids it had to
 * SIGKILL. The primary runs it: every long step is done in time slices (H159).
 */
export async function endProcesses(identities: readonly string[], graceMs = kDescendantsGraceMs): Promise<number[]> {
  const slicer = new TimeSlicer();
  const listed = await runningOf(identities, slicer);
  // Started between the list and the worker's death: a parent that goes at the SIGTERM would leave them to init.
  const table = await readProcessTable();
  const found = [...new Set([...listed, ...descendantsIn(table, listed.map(pidOf))])];
  // Frozen before the SIGTERM, for the reason `termFrozen` gives.
  const stopped = await freezeTree(found, slicer);
  const sent = await signalEach(stopped, 'SIGTERM', slicer);
  await signalEach(sent, 'SIGCONT', slicer);
  const running = await waitGone(sent, Date.now() + graceMs);
  const frozen = await freezeTree(running, slicer);
  const killed = await signalEach(frozen, 'SIGKILL', slicer);
  await waitGone(killed, Date.now() + kKillWaitMs);
  return killed.map(pidOf);
}

/**
 * SIGTERM to a tree stopped first (`stopped`: the first look's processes, SIGSTOPped as they
 * were found; `freezeTreeNow` stops what they started meanwhile), then SIGCONT: each resumes
 * with the SIGTERM pending, so a shell loop that the SIGTERM ends starts nothing more. Signalled
 * while running, `sh -c 'while :; do sleep 300 & sleep 0.05; done'` started a `sleep` between
 * the look and the signal, then died of it, and that `sleep` went to init: a graceful stop left
 * one or two behind every time (tester t22). Returns what the SIGTERM went to.
 */
function termFrozen(stopped: readonly string[], rootPid: number): string[] {
  if (stopped.length === 0) return [];
  const frozen = freezeTreeNow([rootPid], stopped);
  const termed = frozen.filter((identity) => signal(identity, 'SIGTERM'));
  // Not once the watchdog has begun its kill: it froze them to SIGKILL them (H216).
  for (const identity of termed) resumeUnlessKilling(() => signal(identity, 'SIGCONT'));
  return termed;
}

/** Rounds of `freezeTree` at most, as `freezeLooks` (kill-descendants.ts): each is a look at /proc. */
const kMaxFreezeRounds = 8;

/**
 * Stops (SIGSTOP) `running` (listed at the SIGTERM, some maybe out of the tree since) and what
 * is left of the trees of `roots` and of `running`, round after round until a round finds no
 * process it had not stopped: a stopped process forks no more, and its children stay its own.
 * Returns them all, to SIGKILL together. Killing parents first instead handed the children they
 * had started during the grace to init, out of reach (tester t21: a shell loop's `sleep` per
 * stop, 99 of a fast forker's children left, H157; the primary's path too, H160).
 * Each is recorded for the orphan watchdog before it is signalled (signalled-processes.ts): the
 * worker's own paths run this, and a worker killed before its SIGKILL step would leave the
 * ones its SIGTERM handed to init (H182).
 */
function freezeTreeNow(roots: readonly number[], running: readonly string[]): string[] {
  recordSignalled(running);
  const stopped = new Set(running.filter((identity) => signal(identity, 'SIGSTOP')));
  const find = (stopped: ReadonlySet<string>) => unstopped(readProcessTableNow(), roots, stopped);
  return [...freezeLooks(stopped, find, stopSignalled)];
}

/** SIGSTOPs those of `found` still the processes listed, recorded first; returns those it stopped. */
function stopSignalled(found: readonly string[]): string[] {
  recordSignalled(found);
  return found.filter((identity) => signal(identity, 'SIGSTOP'));
}

/** As `freezeTreeNow` for the primary (the worker is gone: its processes are the roots), in slices. */
async function freezeTree(running: readonly string[], slicer: TimeSlicer): Promise<string[]> {
  const stopped = new Set(await signalEach(running, 'SIGSTOP', slicer));
  for (let round = 0; round < kMaxFreezeRounds; round++) {
    const found = unstopped(await readProcessTable(), [], stopped);
    if (found.length === 0) break;
    for (const identity of await signalEach(found, 'SIGSTOP', slicer)) stopped.add(identity);
  }
  return [...stopped];
}

/** The descendants of `roots` and of `stopped` that are not stopped yet. */
function unstopped(table: ProcessTable, roots: readonly number[], stopped: ReadonlySet<string>): string[] {
  return descendantsIn(table, [...roots, ...[...stopped].map(pidOf)]).filter((identity) => !stopped.has(identity));
}

/** SIGKILLs those of the processes listed earlier that still run; returns their pids. */
export function killListed(identities: readonly string[]): number[] {
  return identities.filter((identity) => signal(identity, 'SIGKILL')).map(pidOf);
}

/** Sends `name` to each of `identities` still the process listed, in slices; returns those it was sent to. */
async function signalEach(identities: readonly string[], name: NodeJS.Signals, slicer: TimeSlicer): Promise<string[]> {
  const sent: string[] = [];
  for (const identity of identities) {
    if (slicer.isDue) await slicer.pause();
    if (signal(identity, name)) sent.push(identity);
  }
  return sent;
}

/** Those of `identities` still running, read in slices. */
async function runningOf(identities: readonly string[], slicer: TimeSlicer): Promise<string[]> {
  const running: string[] = [];
  for (const identity of identities) {
    if (slicer.isDue) await slicer.pause();
    if (isRunning(identity)) running.push(identity);
  }
  return running;
}

/**
 * Waits, polling, until none of `identities` runs or `deadline` passed; returns those from the
 * first still running on (the rest may have gone too: what is sent to them checks again).
 * Each poll reads up to the first process still running, not all of them: 2 000 processes
 * that ignore SIGTERM cost one read per poll, not 2 000 (H159).
 */
async function waitGone(identities: readonly string[], deadline: number): Promise<string[]> {
  const slicer = new TimeSlicer();
  let index = 0;
  for (;;) {
    while (index < identities.length && !isRunning(identities[index]!)) {
      index++;
      if (slicer.isDue) await slicer.pause();
    }
    if (index === identities.length || Date.now() >= deadline) return identities.slice(index);
    await new Promise((resolve) => setTimeout(resolve, kPollMs));
  }
}

/** As `waitGone`, asleep on the thread (`Atomics.wait`). */
function waitGoneNow(identities: readonly string[], deadline: number): string[] {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let index = 0;
  for (;;) {
    while (index < identities.length && !isRunning(identities[index]!)) index++;
    if (index === identities.length || Date.now() >= deadline) return identities.slice(index);
    Atomics.wait(sleeper, 0, 0, kPollMs);
  }
}

/** `<pid>:<start time>` still runs: the same process (not a zombie, not a new one with its pid). */
function isRunning(identity: string): boolean {
  const [pid, startTime] = identity.split(':');
  const fields = statFields(Number(pid));
  // Gone, a zombie, or a new process given its pid.
  return fields !== undefined && fields[0] !== 'Z' && fields[19] === startTime;
}

function pidOf(identity: string): number {
  return Number(identity.split(':')[0]);
}

/** Sends `name` to the process if it is still the one listed; returns whether it was sent. */
function signal(identity: string, name: NodeJS.Signals): boolean {
  if (!isRunning(identity)) return false;
  try {
    process.kill(pidOf(identity), name);
    return true;
  } catch {
    return false; // gone meanwhile
  }
}

/** Pids a warn line names, and its `killedPids` holds: 2 000 made one line of 14 KB (tester t21, H162). */
export const kPidsInLine = 20;

/**
 * What a warn line says of descendants that had to be SIGKILLed: which, and what to do. `count`:
 * how many there were, when `pids` holds the first of them only.
 */
export function describeKilledDescendants(pids: readonly number[], graceMs = kDescendantsGraceMs, count = pids.length): string {
  const more = count - Math.min(pids.length, kPidsInLine);
  const listed = pids.slice(0, kPidsInLine).join(', ') + (more > 0 ? ` and ${more} more` : '');
  const which = count === 1 ? `its process ${pids[0]} (started by its code) did` : `its ${count} processes ${listed} (started by its code) did`;
  return (
    `${which} not end within ${wholeMs(graceMs)} ms of SIGTERM, so clusterkit killed ${count === 1 ? 'it' : 'them'} (SIGKILL) as the worker ended: ` +
    'make them exit on SIGTERM, or start one with `detached: true` if it is meant to outlive the worker'
  );
}

/** A process named in a warn line: its pid and command name (`/proc/<pid>/comm`). */
export interface NamedProcess {
  readonly pid: number;
  readonly command: string;
}

/**
 * Those of `identities` (`<pid>:<start time>`) still running, named: the first `named` with
 * their command names, and `count`, how many still run. At once: the worker's exit.
 */
export function namedRunningNow(identities: readonly string[], named = kPidsInLine): { processes: NamedProcess[]; count: number } {
  const running = identities.filter(isRunning).map(pidOf);
  return { processes: running.slice(0, named).map((pid) => ({ pid, command: commandOf(pid) })), count: running.length };
}

/** As `namedRunningNow`, read in time slices: the primary. */
export async function namedRunning(identities: readonly string[], named: number): Promise<{ processes: NamedProcess[]; count: number; identities: string[] }> {
  const slicer = new TimeSlicer();
  const running = await runningOf(identities, slicer);
  const processes: NamedProcess[] = [];
  for (const identity of running.slice(0, named)) {
    if (slicer.isDue) await slicer.pause();
    processes.push({ pid: pidOf(identity), command: commandOf(pidOf(identity)) });
  }
  return { processes, count: running.length, identities: running };
}

/**
 * What a warn line says of processes a worker leaves running as it ends because each leads a
 * session of its own (H309): which (the first 20, then `and N more`), why, and what to do.
 * `count`: how many there were, when `processes` holds the first of them only.
 */
export function describeLeftRunning(processes: readonly NamedProcess[], count = processes.length): string {
  const shown = processes.slice(0, kPidsInLine).map(({ pid, command }) => `${pid} (${command})`);
  const more = count - shown.length;
  const listed = shown.join(', ') + (more > 0 ? ` and ${more} more` : '');
  const one = count === 1;
  return (
    `left ${one ? `its process ${listed}` : `its ${count} processes ${listed}`} running: ${one ? 'it leads' : 'each leads'} a session of its own ` +
    '(`detached: true`, `setsid`, a daemon), which clusterkit takes as "outlive me"; ' +
    `if ${one ? 'it is' : 'they are'} not meant to outlive the worker, start ${one ? 'it' : 'them'} without \`detached\`/\`setsid\`, ` +
    `or end ${one ? 'it' : 'them'} as the worker stops (its SIGTERM listener, \`_destroy\`)`
  );
}
