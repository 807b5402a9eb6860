/**
 * The processes an orphaned worker started are told to go (SIGTERM), given `graceMs` to do so,
 * then killed (SIGKILL): a child that ignores SIGTERM, or takes too long over it, would
 * otherwise live on as the orphan of an orphan once the worker exits, with nobody left to stop
 * it. The same escalation as PM2's `treekill` after its `kill_timeout`, and as systemd's stop.
 */
import { killDescendants } from './kill-descendants.js';

/** How long a worker's own processes have between SIGTERM and SIGKILL, in ms. */
export const kDescendantsGraceMs = 1_000;
const kPollMs = 50;

/** Resolves once none of `rootPid`'s descendants runs any more, killed if need be; never rejects. */
export async function endDescendants(rootPid: number, graceMs = kDescendantsGraceMs): Promise<void> {
  try {
    if (killDescendants(rootPid, 'SIGTERM') === 0) return;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, kPollMs));
      if (killDescendants(rootPid, 0) === 0) return;
    }
    killDescendants(rootPid, 'SIGKILL');
  } catch {
    // A runtime without process.getBuiltinModule: the worker still exits.
  }
}
