/**
 * Turning "the workers could not start" into one sentence that names the module and the
 * cause. The crash-loop breaker rejects `start()` with a `CrashLoopError` whose cause is the
 * last `WorkerStartupError`; when the worker module threw, that one's cause is the worker's
 * `WorkerModuleError`, flattened across IPC into a `RemoteError` that keeps its `summary`.
 */
import { escapeControlChars } from '../control/control-chars.js';
import { CrashLoopError, RemoteError, ServiceStartError, ShutdownInProgressError, WorkerStartupError } from '../errors.js';
import type { Logger } from '../logger.js';
import { loggerFailures } from '../guarded-logger.js';
import { isNodeOptionFailure } from '../primary/pool/node-option-failure.js';
import { toError } from '../to-error.js';
import { writeOwnLine } from '../line-start.js';

/**
 * `hint`: what to change, when the caller can tell (a TypeScript module without a loader).
 * `hasPrinted`: whether a worker wrote any output, when the caller sees it (`clusterkit run`
 * pipes it); undefined when its output goes straight to the terminal.
 */
export function describeStartFailure(error: unknown, serviceName: string, hint?: string, hasPrinted?: (workerId: number) => boolean): unknown {
  if (!(error instanceof CrashLoopError)) return error;
  const startup = error.cause;
  // The breaker counts one slot's failures: other slots' failed workers are not in this count (H251).
  const attempts = `${error.failures === 1 ? '1 attempt' : `${error.failures} attempts`} of worker slot ${error.slot}`;
  if (!(startup instanceof WorkerStartupError)) return new ServiceStartError(serviceName, `${lowerFirst(firstSentence(error.message))} (${attempts})`, { cause: error, hint });
  const remote = startup.cause instanceof RemoteError ? startup.cause : undefined;
  const summary = remote?.data?.summary;
  let reason: string;
  if (typeof summary === 'string') reason = summary;
  else if (remote) reason = `a worker failed to start: ${remote.remoteName}: ${remote.remoteMessage}`;
  else reason = `${lowerFirst(firstSentence(startup.message))}${outputClause(startup, hasPrinted)}`;
  // A TypeScript loader's hint would mislead where Node refused the options before any script (H253).
  return new ServiceStartError(serviceName, `${reason} (${attempts})`, { cause: error, hint: isNodeOptionFailure(startup) ? undefined : hint });
}

/**
 * `start()` was cut short by a stop (a signal, `clusterkit stop`): no failure of the start's
 * own, and the stop's path ends the process with its own code and report. Logging it as a
 * failed start put a false `ERROR ... no worker will be started` line after that report.
 */
export function isStartInterrupted(error: unknown): error is ShutdownInProgressError {
  return error instanceof ShutdownInProgressError;
}

/** Logs a start failure as one line and ends the process with code 1. */
export function exitAfterStartFailure(error: unknown, logger: Logger | false): never {
  const failure = toError(error);
  const code = (failure as { code?: unknown }).code;
  const failed = logger ? loggerFailures(logger) : 0;
  if (logger && typeof logger.error === 'function') logger.error({ code }, failure.message);
  // One line, as the logger writes it: the message may carry a worker's text. Also when the
  // given logger threw it away (H727): the process ends before any warning would say so.
  if (!logger || typeof logger.error !== 'function' || loggerFailures(logger) > failed) writeOwnLine(process.stderr, `${escapeControlChars(failure.message)}\n`);
  process.exit(1);
}

/**
 * Points at the worker's output only when it can help (H189): a worker killed at the ready
 * timeout was only slow, which the sentence already says, so its output is named only when it
 * printed some; one that ended on its own most often printed why, unless it is known it printed nothing.
 */
function outputClause(startup: WorkerStartupError, hasPrinted: ((workerId: number) => boolean) | undefined): string {
  const printed = startup.workerId === undefined || hasPrinted === undefined ? undefined : hasPrinted(startup.workerId);
  if (startup.reason === 'ready-timeout') return printed === true ? '; its output above may say what it was doing' : '';
  // Killed by the primary for the reason the sentence says: its output need not say anything (H510).
  if (startup.isKilledByPrimary) return '';
  // Ended by a signal from outside clusterkit: its output need not show an error (H275).
  if (startup.outsideSignal !== undefined) return '; its output need not show an error: look for what sent the signal';
  return printed === false ? '' : '; its output above says why';
}

function firstSentence(message: string): string {
  const end = message.indexOf('. ');
  return end === -1 ? message.replace(/\.$/, '') : message.slice(0, end);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
