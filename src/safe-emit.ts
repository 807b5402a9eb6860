/**
 * Emitting from the protocol's path without letting user listeners break it. A listener that
 * throws is reported on 'error'; an 'error' nobody listens to is thrown on the next tick (as
 * Node's EventEmitter would), because eventemitter3 would drop it silently. A listener's
 * returned promise that rejects is reported the same way.
 */
import type { EventEmitter } from 'eventemitter3';
import { catchListenerRejections } from './catch-listener-rejections.js';
import { toError } from './to-error.js';

export interface SafeEmitter {
  emit(event: string, payload: unknown): void;
  /** Whether `event` has a listener: a payload that costs work to build (a copy) is built only then. */
  listens(event: string): boolean;
  reportError(error: Error): void;
  /**
   * Reports a failure the process must not die of (a store change that cannot reach a
   * watcher): on 'error' when heard, else as a process warning on stderr.
   */
  reportWarning(error: Error): void;
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

export function safeEmitter(target: EventEmitter): SafeEmitter {
  const reportError = (error: Error): void => {
    if (target.listenerCount('error') === 0) {
      process.nextTick(() => {
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
    if (event !== 'error') reportError(error);
    else
      process.nextTick(() => {
        throw error;
      });
  });
  return {
    reportWarning(error) {
      warnings.add(error);
      if (target.listenerCount('error') > 0) reportError(error);
      else process.emitWarning(error);
    },
    emit(event, payload) {
      if (target.listenerCount(event) === 0) return;
      try {
        target.emit(event, payload);
      } catch (error) {
        reportError(toError(error, `A listener of "${event}" threw`));
      }
    },
    listens: (event) => target.listenerCount(event) > 0,
    reportError,
  };
}
