/**
 * The processes a worker started are told to go (SIGTERM), given `graceMs` to do so, then
 * killed (SIGKILL): a child that ignores SIGTERM, or takes too long over it, would otherwise
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
 * processes it listed before the kill (async: the primary must not block).
 */
import { readFileSync } from 'node:fs';
import { killDescendants } from './kill-descendants.js';

/** How long a worker's own processes have between SIGTERM and SIGKILL, in ms. */
export const kDescendantsGraceMs = 1_000;
const kPollMs = 50;
/** How long a SIGKILLed process may take to be gone (the kernel tears it down) before we stop waiting for it. */
const kKillWaitMs = 500;

/** Resolves, once none of `rootPid`'s descendants runs any more, with the pids it had to SIGKILL; never rejects. */
export async function endDescendants(rootPid: number, graceMs = kDescendantsGraceMs): Promise<number[]> {
  try {
    const termed = killDescendants(rootPid, 'SIGTERM');
    if (termed.length === 0) return [];
    const running = await waitGone(termed, Date.now() + graceMs);
    const killed = killListed(freezeTree(rootPid, running));
    await waitGone(running, Date.now() + kKillWaitMs);
    return killed;
  } catch {
    return []; // a runtime without process.getBuiltinModule: the worker still exits
  }
}

/**
 * As `endDescendants`, blocking the thread while it waits: for the 'exit' event, where no timer
 * fires. Returns the pids it had to SIGKILL.
 */
export function endDescendantsNow(rootPid: number, graceMs = kDescendantsGraceMs): number[] {
  try {
    const termed = killDescendants(rootPid, 'SIGTERM');
    if (termed.length === 0) return []; // the usual case: one look at /proc
    const running = waitGoneNow(termed, Date.now() + graceMs);
    const killed = killListed(freezeTree(rootPid, running));
    waitGoneNow(running, Date.now() + kKillWaitMs);
    return killed;
  } catch {
    return [];
  }
}

/**
 * Ends processes listed earlier (`<pid>:<start time>`, from `killDescendants`): SIGTERM, up to
 * `graceMs` for them to go, SIGKILL to the rest. Resolves once they are gone, with the pids it
 * had to SIGKILL.
 */
export async function endProcesses(identities: readonly string[], graceMs = kDescendantsGraceMs): Promise<number[]> {
  const termed = identities.filter((identity) => signal(identity, 'SIGTERM'));
  const running = await waitGone(termed, Date.now() + graceMs);
  const killed = killListed(running);
  await waitGone(running, Date.now() + kKillWaitMs);
  return killed;
}

/** Rounds of `freezeTree` at most: each is a look at /proc. */
const kMaxFreezeRounds = 8;
/** Processes left from the SIGTERM whose own children are looked for too (each a look at /proc). */
const kMaxFrozenRoots = 8;

/**
 * Stops (SIGSTOP) what is left of `rootPid`'s tree, and `running` (listed at the SIGTERM, some
 * maybe out of the tree since), round after round until a round finds no process it had not
 * stopped: a stopped process forks no more, and its children stay its own. Returns them all, to
 * SIGKILL together. Killing parents first instead handed the children they had started during
 * the grace to init, out of reach (tester t21: a shell loop's `sleep` per stop, 99 of a fast
 * forker's children left).
 */
function freezeTree(rootPid: number, running: readonly string[]): string[] {
  const stopped = new Set<string>();
  for (const identity of running) if (signal(identity, 'SIGSTOP')) stopped.add(identity);
  const roots = [rootPid, ...[...stopped].slice(0, kMaxFrozenRoots).map(pidOf)];
  for (let round = 0; round < kMaxFreezeRounds; round++) {
    let isNew = false;
    for (const root of roots) {
      for (const identity of killDescendants(root, 'SIGSTOP')) {
        if (stopped.has(identity)) continue;
        stopped.add(identity);
        isNew = true;
      }
    }
    if (!isNew) break;
  }
  return [...stopped];
}

/** SIGKILLs those of the processes listed earlier that still run; returns their pids. */
export function killListed(identities: readonly string[]): number[] {
  return identities.filter((identity) => signal(identity, 'SIGKILL')).map(pidOf);
}

/** Waits, polling, until none of `identities` runs or `deadline` passed; returns those still running. */
async function waitGone(identities: readonly string[], deadline: number): Promise<string[]> {
  let running = identities.filter(isRunning);
  while (running.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, kPollMs));
    running = running.filter(isRunning);
  }
  return running;
}

/** As `waitGone`, asleep on the thread (`Atomics.wait`). */
function waitGoneNow(identities: readonly string[], deadline: number): string[] {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let running = identities.filter(isRunning);
  while (running.length > 0 && Date.now() < deadline) {
    Atomics.wait(sleeper, 0, 0, kPollMs);
    running = running.filter(isRunning);
  }
  return running;
}

/** `<pid>:<start time>` still runs: the same process (not a zombie, not a new one with its pid). */
function isRunning(identity: string): boolean {
  const [pid, startTime] = identity.split(':');
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[19] === startTime;
  } catch {
    return false; // gone
  }
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

/** What a warn line says of descendants that had to be SIGKILLed: which, and what to do. */
export function describeKilledDescendants(pids: readonly number[], graceMs = kDescendantsGraceMs): string {
  const which = pids.length === 1 ? `its process ${pids[0]} (started by its code) did` : `its ${pids.length} processes ${pids.join(', ')} (started by its code) did`;
  return (
    `${which} not end within ${graceMs} ms of SIGTERM, so clusterkit killed ${pids.length === 1 ? 'it' : 'them'} (SIGKILL) as the worker ended: ` +
    'make them exit on SIGTERM, or start one with `detached: true` if it is meant to outlive the worker'
  );
}
