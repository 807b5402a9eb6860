/**
 * Whether a primary that dropped a control connection unanswered died (H450): a primary frozen
 * (SIGSTOP) then SIGKILLed resets the connections it had not answered, and the CLI said "its
 * primary may be exiting" while `reload` at the same moment said it had ended without stopping.
 */
import { existsSync } from 'node:fs';
import { lockHolder } from './name-lock.js';

/** How long a dropped connection's primary is looked at until it reads as dead, in ms. */
export const kDropLookMs = 1_000;

/**
 * The primary of the control socket `socketPath` when it is gone (killed, crashed) after it
 * dropped a connection; undefined when it lives, when no lock names it, or when its socket was
 * removed (a stop under way). A SIGKILLed process closes its sockets before it is a zombie, so
 * right after the drop it can still read as alive: looked at again every 25 ms, at most
 * `lookMs`, only while its lock names a live process.
 */
export async function deadAfterDrop(socketPath: string, lookMs = kDropLookMs): Promise<{ pid: number } | undefined> {
  const deadline = Date.now() + lookMs;
  for (;;) {
    // One read of the lock a round: it dead, or it alive, never neither (H507).
    const holder = lockHolder(socketPath);
    if (holder?.isAlive === false) return { pid: holder.pid };
    if (holder === undefined || !existsSync(socketPath) || Date.now() > deadline) return undefined;
    // Referenced: the request is over, and nothing else may keep the CLI alive meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
