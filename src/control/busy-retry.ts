/**
 * Asking a primary again while its control socket is full (H430). The primary serves at most
 * 64 connections at once (control-server.ts); past that, while every one is busy, a new one gets
 * a refusal (id 0, code ERR_CONTROL_SOCKET, `already has 64 connections open`) and is closed, and an
 * idle one (connected, its request not read yet) makes room for a newer one. 200 `clusterkit
 * status` at once met both, and each blamed the primary ("may be blocked, out of file
 * descriptors, or exiting") though it was only busy. Such a request is asked again after a short
 * jittered pause, for up to `kBusyRetryMs` in all; still refused then, the error says the primary
 * is busy, and to try again.
 */
import { ControlSocketError, RemoteError } from '../errors.js';
import { unanswered, unansweredReason } from './unanswered.js';

/** How long a refused request is asked again, in all (ms). */
export const kBusyRetryMs = 10_000;

/** The words of the refusal, as every clusterkit primary words it (control-server.ts `refuse`). */
const kBusyWords = /already has (\d+) connections open/;

/** The connection cap a refusal names, when `error` is the primary's "too many connections" refusal; undefined otherwise. */
export function busyCap(error: unknown): number | undefined {
  if (!(error instanceof RemoteError) || error.remoteCode !== 'ERR_CONTROL_SOCKET') return undefined;
  const match = kBusyWords.exec(error.remoteMessage);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Runs `ask` until it is not refused as busy, or `kBusyRetryMs` passed. `isReadOnly`: a request
 * whose connection closed before any byte came back (an idle connection closed to make room) is
 * asked again too; a stop or reload is not, as it may have been the primary exiting.
 * @throws what `ask` throws; a busy refusal after `kBusyRetryMs` as a `ControlSocketError`
 * (`unansweredReason` 'busy') that says so.
 */
export async function withBusyRetry<T>(name: string, command: string, isReadOnly: boolean, ask: () => Promise<T>, budgetMs = kBusyRetryMs): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await ask();
    } catch (error) {
      const cap = busyCap(error);
      const isRoomMade = isReadOnly && isClosedUnanswered(error);
      if (cap === undefined && !isRoomMade) throw error;
      // 50 ms doubling to 800 ms, each a random part of it: 200 clients do not come back at once.
      const pauseMs = Math.min(800, 50 * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (Date.now() + pauseMs > deadline) {
        if (cap === undefined) throw error;
        throw unanswered(
          'busy',
          `${name}'s primary is busy: it already has ${cap} control connections open (each answering a request or following logs), and refused "${command}" for ${Math.round(budgetMs / 1000)} s; try again.`,
          error,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** The connection closed or broke before any byte of an answer came. */
function isClosedUnanswered(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET' || code === 'EPIPE') return true;
  return error instanceof ControlSocketError && unansweredReason(error) === 'closed';
}
