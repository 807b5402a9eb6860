/**
 * The processes an orphaned worker started are told to go (SIGTERM), given `graceMs` to do so,
 * then killed (SIGKILL): a child that ignores SIGTERM, or takes too long over it, would
 * otherwise live on as the orphan of an orphan once the worker exits, with nobody left to stop
 * it. The same escalation as PM2's `treekill` after its `kill_timeout`, and as systemd's stop.
 *
 * The SIGKILL goes to the processes the SIGTERM went to, not to a new search of the tree: a
 * process in the middle (`sh -c`, a launcher) that exits on SIGTERM leaves its own child to
 * init, out of the worker's tree, and a new search would miss it (tester t20). Each is known by
 * its pid and start time, so a pid the system gave to a new process meanwhile is left alone.
 */
import { readFileSync } from 'node:fs';
import { killDescendants } from './kill-descendants.js';

/** How long a worker's own processes have between SIGTERM and SIGKILL, in ms. */
export const kDescendantsGraceMs = 1_000;
const kPollMs = 50;

/** Resolves once none of `rootPid`'s descendants runs any more, killed if need be; never rejects. */
export async function endDescendants(rootPid: number, graceMs = kDescendantsGraceMs): Promise<void> {
  try {
    let running = killDescendants(rootPid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (running.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, kPollMs));
      running = running.filter(isRunning);
    }
    for (const identity of running) kill(identity);
    // And any the tree gained meanwhile (a process that started another as it stopped).
    killDescendants(rootPid, 'SIGKILL');
  } catch {
    // A runtime without process.getBuiltinModule: the worker still exits.
  }
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

function kill(identity: string): void {
  if (!isRunning(identity)) return;
  try {
    process.kill(Number(identity.split(':')[0]), 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}
