/**
 * Emitting from the protocol's path without letting user listeners break it. A listener that
 * throws is reported on 'error'; an 'error' nobody listens to is thrown on the next tick (as
 * Node's EventEmitter would), because eventemitter3 would drop it silently. A listener's
 * returned promise that rejects is reported the same way. Before that throw, one line on stderr
 * says what happened and the fix (an `error` listener): the thrown error alone says neither.
 */
import type { EventEmitter } from 'eventemitter3';
import { catchListenerRejections } from './catch-listener-rejections.js';
import { toError } from './to-error.js';
import { capitalize } from './capitalize.js';
import { boundedStack, describeError, readProperty } from './readable-error.js';

export interface SafeEmitter {
  emit(event: string, payload: unknown): void;
  /** Whether `event` has a listener: a payload that costs work to build (a copy) is built only then. */
  listens(event: string): boolean;
  reportError(error: Error): void;
  /**
   * Reports what a notification's handler (or a worker's store watch() callback) threw (nobody
   * waits for its outcome): on 'error' when heard, else said on stderr (a process warning naming
   * `what` and the fix); never ends the process.
   * @param what such as `the handler of notification "evt" from worker 2 (pid 4242) threw`.
   * @param thrown what the warning describes and shows the stack of, when `error` wraps it (a
   *   `StoreWatcherError` wraps what a watch() callback threw); default `error`. Given as
   *   `undefined` (a callback that rejected with no value), it is that `undefined` that is described.
   */
  reportHandlerError(error: Error, what: string, ...thrown: [thrown?: unknown]): void;
  /**
   * Reports a failure the process must not die of (a store change that cannot reach a
   * watcher): on 'error' when heard, else to the warning lines when set (`sayWarningsWith`),
   * else as a process warning on stderr.
   */
  reportWarning(error: Error): void;
  /**
   * Reports a warning as `reportWarning` does, but never to the warning lines: on 'error' when
   * heard, else as a process warning. For a failure of the logger itself (H727), which its lines
   * would hand back to the same broken logger.
   */
  reportUnlogged(error: Error): void;
  /**
   * Says something that went as the caller asked, though not as it might expect (a memory
   * replacement its own stopWorker() stopped, H754): to the notice lines when set
   * (`sayWarningsWith`), else as a process warning with `code`; never on 'error', which is for
   * failures (hostile t86 N5: it came as ERR_RELOAD_FAILED on 'error').
   */
  reportNotice(message: string, code: string): void;
  /**
   * Where warnings nobody listens for go instead of a process warning: the primary's own logger
   * (retest t61 L2: a library primary with the default logger printed `(node:13787)
   * [ERR_NAMED_WORKER_STOPPED] NamedWorkerStoppedError: ...`, not a `[svc] WARN` line).
   */
  sayWarningsWith(say: (error: Error) => void, sayNotice?: (message: string, code: string) => void): void;
}

/** Errors given to `reportWarning`: on 'error' too, but a condition to tell, not a fault. */
const warnings = new WeakSet<Error>();

/**
 * Whether `error` came to 'error' through `reportWarning` (a capacity condition such as
 * connections refused at `server.maxConnections`): a logger says it at WARN, not as a fault (H213).
 */
export function isReportedAsWarning(error: Error): boolean {
  return warnings.has(error);
}

/** Which side emits: names the class and the listener to add in the messages. */
export type EmitterSide = 'primary' | 'worker';

/** Warnings clusterkit writes with `process.emitWarning`: a type Node prints as their name. */
export const kWarningType = 'ClusterkitWarning';

/** Handler failures said as warnings per window, per emitter (`reportHandlerError`). */
export interface HandlerWarningLimits {
  /** At most this many said a window. @default 10 */
  readonly count: number;
  /** The window, in ms. @default 10 000 */
  readonly windowMs: number;
}

const kHandlerWarningLimits: HandlerWarningLimits = Object.freeze({ count: 10, windowMs: 10_000 });

/** `limits`: how many handler failures are said a window (tests shorten the window). */
export function safeEmitter(target: EventEmitter, side: EmitterSide, limits: HandlerWarningLimits = kHandlerWarningLimits): SafeEmitter {
  const owner = side === 'primary' ? 'ClusterPrimary' : 'ClusterWorker';
  const { count: kHandlerWarnings, windowMs: kHandlerWarningWindowMs } = limits;
  let handlerWarnings = { since: 0, said: 0, unsaid: 0 };
  /** Says the count left unsaid when the window ends, if no failure said it first (H442). */
  let unsaidTimer: NodeJS.Timeout | undefined;
  const unsaidWords = () => `${handlerWarnings.unsaid} more handler failures were not said, at most ${kHandlerWarnings} are every ${kHandlerWarningWindowMs / 1000} s`;
  const sayUnsaid = () => {
    unsaidTimer = undefined;
    if (handlerWarnings.unsaid === 0) return;
    const words = unsaidWords();
    handlerWarnings.unsaid = 0;
    process.emitWarning(`${capitalize(words)}; nothing listens for 'error' on the ${owner}: add ${side}.on('error', ...) to handle them, or catch in the handler`, {
      type: kWarningType,
      code: 'CLUSTERKIT_HANDLER_THREW',
    });
  };
  const reportError = (error: Error, what = "an 'error' event was emitted"): void => {
    if (target.listenerCount('error') === 0) {
      process.nextTick(() => {
        // Node's semantics stay (the original error is thrown, uncaughtException handlers see it);
        // this line says where it came from and how to keep the process up (H422).
        writeStderr(`clusterkit: ${what} and nothing listens for 'error' on the ${owner}, so the process ends as Node's EventEmitter would: add ${side}.on('error', ...) to handle it\n`);
        throw error;
      });
      return;
    }
    try {
      target.emit('error', error);
    } catch (listenerError) {
      process.nextTick(() => {
        throw listenerError;
      });
    }
  };
  // An 'error' listener that rejects goes where one that throws goes: thrown, not back to 'error'.
  catchListenerRejections(target, (error, event) => {
    if (event !== 'error') reportError(error, `a listener of "${String(event)}" rejected`);
    else
      process.nextTick(() => {
        throw error;
      });
  });
  let sayWarning: ((error: Error) => void) | undefined;
  let sayNotice: ((message: string, code: string) => void) | undefined;
  return {
    reportWarning(error) {
      warnings.add(error);
      if (target.listenerCount('error') > 0) reportError(error);
      else if (sayWarning !== undefined) sayWarning(error);
      else emitWarningSafely(error);
    },
    reportUnlogged(error) {
      warnings.add(error);
      if (target.listenerCount('error') > 0) reportError(error);
      else emitWarningSafely(error);
    },
    reportNotice(message, code) {
      if (sayNotice !== undefined) sayNotice(message, code);
      else process.emitWarning(message, { type: kWarningType, code });
    },
    sayWarningsWith(say, notice) {
      sayWarning = say;
      sayNotice = notice;
    },
    reportHandlerError(error, what, ...given) {
      // By count, not a default: a default would put `error` for a given `undefined`, and the
      // warning would say the wrapper's own words twice (retest t52).
      const thrown = given.length > 0 ? given[0] : error;
      if (target.listenerCount('error') > 0) {
        reportError(error);
        return;
      }
      // No sender waits for a notification: its handler's throw must not end the process (H421).
      // At most kHandlerWarnings a window: a flood of notifications (a worker in a loop) must
      // not flood stderr with one warning each; the next one said counts those left unsaid.
      const now = Date.now();
      if (now - handlerWarnings.since >= kHandlerWarningWindowMs) handlerWarnings = { since: now, said: 0, unsaid: handlerWarnings.unsaid };
      if (handlerWarnings.said >= kHandlerWarnings) {
        handlerWarnings.unsaid += 1;
        // A burst that ends inside the window would leave its count unsaid for good: said when
        // the window ends. Unref'd: it never keeps the process up.
        unsaidTimer ??= setTimeout(sayUnsaid, Math.max(0, handlerWarnings.since + kHandlerWarningWindowMs - now)).unref();
        return;
      }
      handlerWarnings.said += 1;
      const unsaid = handlerWarnings.unsaid === 0 ? '' : ` (${unsaidWords()})`;
      handlerWarnings.unsaid = 0;
      clearTimeout(unsaidTimer);
      unsaidTimer = undefined;
      const stack = typeof thrown === 'object' && thrown !== null ? readProperty(thrown, 'stack') : undefined;
      process.emitWarning(
        `${capitalize(what)}: ${describeError(thrown)}. Nothing listens for 'error' on the ${owner}, so it is only said here: add ${side}.on('error', ...) to handle it, or catch in the handler${unsaid}`,
        { type: kWarningType, code: 'CLUSTERKIT_HANDLER_THREW', ...(typeof stack === 'string' ? { detail: boundedStack(stack) } : {}) },
      );
    },
    emit(event, payload) {
      if (target.listenerCount(event) === 0) return;
      try {
        target.emit(event, payload);
      } catch (error) {
        reportError(toError(error, `A listener of "${event}" threw`), `a listener of "${event}" threw`);
      }
    },
    listens: (event) => target.listenerCount(event) > 0,
    reportError,
  };
}

/** Synchronous for files, pipes and terminals on Linux: the line is out before the throw ends the process. */
function writeStderr(line: string): void {
  try {
    process.stderr.write(line);
  } catch {
    // nothing to tell it on
  }
}

/**
 * `process.emitWarning(error)`, which throws a TypeError for an Error made in another realm (a
 * `vm` context: Jest's, a REPL's), whose class is no `Error` of this one. Thrown from a timer
 * (the heartbeat's stall warning), that ended the process: the warning goes as its text then.
 */
export function emitWarningSafely(error: Error): void {
  try {
    process.emitWarning(error);
  } catch {
    const code = (error as { code?: unknown }).code;
    process.emitWarning(String(error.message), { type: String(error.name), ...(typeof code === 'string' ? { code } : {}) });
  }
}
