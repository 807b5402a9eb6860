/**
 * Asking a primary again while its control socket is full (H430). The primary serves at most
 * 64 connections at once (control-server.ts); past that, while every one is busy, a new one gets
 * a refusal (id 0, code ERR_CONTROL_SOCKET, `already has 64 connections open`) and is closed, and an
 * idle one (connected, its request not run yet) makes room for a newer one, told so first
 * (`closed this idle connection to make room`). 200 `clusterkit status` at once met both, and each
 * blamed the primary ("may be blocked, out of file descriptors, or exiting") though it was only
 * busy. Such a request is asked again after a short jittered pause, for up to `kBusyRetryMs` in
 * all; still refused then, the error says the primary is busy, and to try again.
 *
 * Only what the primary says is asked again: a connection that closed or broke with no word (the
 * primary exiting, crashed, or an older primary that closes idle connections silently) fails at
 * once, as before H430. Asking again on any close made `status` of an exiting primary take 10 s
 * and more (H440).
 */
import { ControlSocketError, RemoteError } from '../errors.js';
import { unanswered, unansweredReason } from './unanswered.js';

/** How long a refused request is asked again, in all (ms). */
export const kBusyRetryMs = 10_000;

/** The words of the refusal, as every clusterkit primary words it (control-server.ts `refuse`). */
const kBusyWords = /already has (\d+) connections open/;

/** The words a primary says to an idle connection it closes to make room (control-server.ts `roomMadeAnswer`). */
export const kRoomMadeWords = 'closed this idle connection to make room';

/** The connection cap a refusal names, when `error` is the primary's "too many connections" refusal; undefined otherwise. */
export function busyCap(error: unknown): number | undefined {
  if (!isControlSocketAnswer(error)) return undefined;
  const match = kBusyWords.exec(error.remoteMessage);
  return match === null ? undefined : Number(match[1]);
}

/** `error` is the primary's word that it closed this connection, idle, to make room: the request was not run. */
export function isRoomMade(error: unknown): boolean {
  return isControlSocketAnswer(error) && error.remoteMessage.includes(kRoomMadeWords);
}

function isControlSocketAnswer(error: unknown): error is RemoteError {
  return error instanceof RemoteError && error.remoteCode === 'ERR_CONTROL_SOCKET';
}

/**
 * Runs `ask` until it is not refused as busy nor closed to make room, or `budgetMs` passed in all.
 * `ask(timeoutMs)`: one request, waiting at most `timeoutMs` (undefined: as long as it takes).
 * The first ask waits `timeoutMs`; one asked again waits what is left of the budget at most, so
 * the whole takes about `budgetMs` plus the first ask's `timeoutMs` at most. Any other failure,
 * a bare close included, is thrown at once.
 * @throws what `ask` throws; a refusal still met after `budgetMs` as a `ControlSocketError`
 * (`unansweredReason` 'busy') that says so.
 */
export async function withBusyRetry<T>(name: string, command: string, timeoutMs: number | undefined, ask: (timeoutMs: number | undefined) => Promise<T>, budgetMs = kBusyRetryMs): Promise<T> {
  let deadline: number | undefined;
  let refusal: { error: unknown; cap: number | undefined } | undefined;
  for (let attempt = 0; ; attempt++) {
    // An ask after a refusal gets no more than the budget has left (H440); one without a timeout
    // (a `stop`, a `reload`, which may take minutes once let in) keeps waiting as before.
    const leftMs = deadline === undefined ? undefined : deadline - Date.now();
    // A loaded machine woke us past the deadline: no time is left to ask in.
    if (refusal !== undefined && leftMs !== undefined && leftMs <= 0) throw busyError(name, command, refusal.error, refusal.cap, budgetMs);
    const attemptMs = leftMs === undefined || timeoutMs === undefined ? timeoutMs : Math.min(timeoutMs, leftMs);
    try {
      return await ask(attemptMs);
    } catch (error) {
      const cap = busyCap(error);
      if (cap === undefined && !isRoomMade(error)) {
        // Cut short by the budget rather than by its own timeout: the refusal is the news.
        if (refusal !== undefined && attemptMs !== timeoutMs && unansweredReason(error as Error) === 'timeout') throw busyError(name, command, refusal.error, refusal.cap, budgetMs);
        throw error;
      }
      refusal = { error, cap: cap ?? refusal?.cap };
      deadline ??= Date.now() + budgetMs;
      // 50 ms doubling to 800 ms, each a random part of it: 200 clients do not come back at once.
      const pauseMs = Math.min(800, 50 * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (Date.now() + pauseMs >= deadline) throw busyError(name, command, error, refusal.cap, budgetMs);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** A `busy` `ControlSocketError`: refused (or closed to make room) for `budgetMs`. */
function busyError(name: string, command: string, cause: unknown, cap: number | undefined, budgetMs: number): ControlSocketError {
  const seconds = Math.round(budgetMs / 1000);
  const what =
    cap === undefined
      ? `it closed the connection of "${command}" unanswered to make room for newer ones, again and again for ${seconds} s`
      : `it already has ${cap} control connections open (each answering a request or following logs), and refused "${command}" for ${seconds} s`;
  return unanswered('busy', `${name}'s primary is busy: ${what}; try again.`, cause);
}
