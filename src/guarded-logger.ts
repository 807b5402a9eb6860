/**
 * A user's `logger` option, guarded (hostile t83 #5, H727): clusterkit writes its lines from its
 * event listeners and timers, so a method that threw went where a throwing listener goes, and
 * with no 'error' listener ended the primary, orphaning every worker, while the message blamed a
 * listener of "workerExit" the user never added; a method whose promise rejected ended it as an
 * unhandled rejection. Now a failing call loses its line and nothing else: the first failure
 * (a throw, or a returned promise that rejects) is reported as a `LoggerError`, once per logger,
 * never through the logger itself (the same broken sink would say it per line, or recurse).
 *
 * Wrapped once, where the option is normalized: every caller (primary lines, signal lines, the
 * service runner, a worker's own lines) goes through the same guard. A call costs one more
 * function call and a `typeof` of its result.
 */
import { LoggerError } from './errors.js';
import { settleLikeAwait } from './is-thenable.js';
import type { Logger } from './logger.js';
import { emitWarningSafely } from './safe-emit.js';

type Method = keyof Logger;

const kMethods: readonly Method[] = ['debug', 'info', 'warn', 'error'];

interface Guard {
  /** Where the first failure goes: a process warning until a primary says otherwise. */
  report: (error: LoggerError) => void;
  /** Failed calls so far (the first one is reported). */
  failures: number;
}

const guards = new WeakMap<Logger, Guard>();
/** Each guarded logger's given one: `primary.options.logger` is the user's object, as given (H761). */
const givens = new WeakMap<Logger, Logger>();
/** The guard last made for a given logger: code that reads `options.logger` writes through it. */
const guardedOfGiven = new WeakMap<Logger, Logger>();

/**
 * `logger` with every method guarded (above); a logger guarded already comes back as it is, so
 * the service runner and its primary share one guard, and one report. Only the four methods are
 * kept: clusterkit calls no other.
 */
export function guardLogger(logger: Logger): Logger {
  if (guards.has(logger)) return logger;
  const guard: Guard = { report: emitWarningSafely, failures: 0 };
  const fail = (method: Method, isRejection: boolean, thrown: unknown): void => {
    if (++guard.failures === 1) guard.report(new LoggerError(method, isRejection, { cause: thrown }));
  };
  const guarded = {} as Logger;
  for (const method of kMethods) {
    guarded[method] = function (fields: object, message?: string): void {
      try {
        // As called: a logger may tell a missing message from an undefined one.
        const result: unknown = arguments.length < 2 ? logger[method](fields) : logger[method](fields, message);
        // Only a thenable is looked at further (pino returns undefined).
        if (typeof result === 'object' || typeof result === 'function') settleLikeAwait(result)?.catch((error: unknown) => fail(method, true, error));
      } catch (error) {
        fail(method, false, error);
      }
    };
  }
  guards.set(guarded, guard);
  givens.set(guarded, logger);
  guardedOfGiven.set(logger, guarded);
  return guarded;
}

/** The logger the user gave, for a guarded one (any other value as it is). */
export function givenLogger<T>(logger: T): T {
  return (typeof logger === 'object' && logger !== null ? (givens.get(logger as unknown as Logger) as T | undefined) : undefined) ?? logger;
}

/** The guard made for a given `logger` (one guarded already as it is); `logger` itself when none was made. */
export function guardedLogger(logger: Logger): Logger {
  return guards.has(logger) ? logger : (guardedOfGiven.get(logger) ?? logger);
}

/**
 * Sends the first failure of a guarded `logger` to `report` (a primary: its 'error' event, else a
 * process warning) instead of a process warning. Nothing for a logger not guarded.
 */
export function reportLoggerFailuresWith(logger: Logger, report: (error: LoggerError) => void): void {
  const guard = guards.get(logger);
  if (guard !== undefined) guard.report = report;
}

/** How many calls of a guarded `logger` failed so far; 0 for one not guarded. */
export function loggerFailures(logger: Logger): number {
  return guards.get(logger)?.failures ?? 0;
}
