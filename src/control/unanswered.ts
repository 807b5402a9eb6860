/**
 * Why a request to a control socket got no answer: the reason and detail kept apart from the
 * message (which names the path), for the words of `list`, `status` and `status --watch`.
 */
import { ControlSocketError } from '../errors.js';

/**
 * Why a request got no answer, for the words that name the cluster (`status`, `list`):
 * `timeout` (none within the time allowed), `not-protocol` (bytes came, but no line of the
 * control protocol: bytes that cannot begin an answer, a line that is not a JSON object, or a
 * line past the 1 MiB an answer may be), `closed` (the connection
 * closed or broke before any byte came). Two are this process's, never the cluster's:
 * `own-limit` (the CLI could not open a connection: out of file descriptors, EMFILE/ENFILE, or
 * of memory) and `not-asked` (a survey's time was up before its turn: too many sockets before
 * it answered slowly). `busy`: the primary refused the connection again and again for 10 s, as it
 * already had its most control connections open (busy-retry.ts). Kept apart from the message, which names the path.
 */
export type UnansweredReason = 'timeout' | 'not-protocol' | 'closed' | 'own-limit' | 'not-asked' | 'busy';

const reasons = new WeakMap<Error, UnansweredReason>();

/** What a request that got no answer saw: how long it waited (`timeout`), what came instead (`not-protocol`). */
export interface UnansweredDetail {
  readonly waitedMs?: number;
  readonly what?: string;
}

const details = new WeakMap<Error, UnansweredDetail>();

/** A `ControlSocketError` that `unansweredReason` reads as `reason` and `unansweredDetail` as `detail`. */
export function unanswered(reason: UnansweredReason, message: string, cause?: unknown, detail?: UnansweredDetail): ControlSocketError {
  const error = new ControlSocketError(message, cause === undefined ? undefined : { cause });
  reasons.set(error, reason);
  if (detail !== undefined) details.set(error, detail);
  return error;
}

/** The detail of `error`, from a request to a socket some process listens on; `{}` when none. */
export function unansweredDetail(error: Error): UnansweredDetail {
  return details.get(error) ?? {};
}

/** Why `error` (thrown by a request to a socket some process listens on) brought no status. */
export function unansweredReason(error: Error): UnansweredReason {
  return reasons.get(error) ?? 'closed';
}

/**
 * Whether a request's connection broke or closed before any answer (not a timeout, not a
 * refusal): `error` is the socket's own error (ECONNRESET, EPIPE), a `ControlSocketError`
 * wrapping one, or one whose reason is `closed`. A dropped connection may hide a primary that
 * died meanwhile (dead-after-drop.ts).
 */
export function isDropped(error: unknown): boolean {
  if (error instanceof ControlSocketError && (unansweredReason(error) === 'closed' || isDropped(error.cause))) return true;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * Errors of this process's own connect, never the peer's: out of descriptors (per process, or
 * the whole system), or of kernel memory for a socket.
 */
const kOwnLimitWords: Readonly<Record<string, string>> = {
  EMFILE: 'this process is out of file descriptors (EMFILE); raise `ulimit -n`',
  ENFILE: 'the system is out of file descriptors (ENFILE); close some programs, or raise the system limit (fs.file-max)',
  ENOMEM: 'the system is out of memory for a new socket (ENOMEM)',
  ENOBUFS: 'the system is out of buffer space for a new socket (ENOBUFS)',
};

/** What this process lacked to open a connection, from an error's code; undefined when the fault is not its own. */
export function ownLimitWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : kOwnLimitWords[code];
}
