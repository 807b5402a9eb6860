/**
 * Emitting from the protocol's path without letting user listeners break it. A listener that
 * throws is reported on 'error'; an 'error' nobody listens to is thrown on the next tick (as
 * Node's EventEmitter would), because eventemitter3 would drop it silently.
 */
import type { EventEmitter } from 'eventemitter3';
import { toError } from './to-error.js';

export interface SafeEmitter {
  emit(event: string, payload: unknown): void;
  reportError(error: Error): void;
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
  return {
    emit(event, payload) {
      if (target.listenerCount(event) === 0) return;
      try {
        target.emit(event, payload);
      } catch (error) {
        reportError(toError(error, `A listener of "${event}" threw`));
      }
    },
    reportError,
  };
}
