/**
 * Waiting in tests: on events and conditions, always with a deadline, never with sleeps.
 */
import type { EventEmitter } from 'eventemitter3';

/** Resolves with the event's payload; rejects after `ms` naming what did not happen. */
export function onceEvent<T = any>(emitter: EventEmitter<any>, event: string, ms = 10_000, filter: (payload: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (payload: T) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(payload);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`"${event}" did not happen within ${ms} ms`));
    }, ms);
    emitter.on(event, listener);
  });
}

/** Polls `condition` every 20 ms until it is true; rejects after `ms`. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Collects the payloads of `event` into an array, until the returned stop() is called. */
export function record<T = any>(emitter: EventEmitter<any>, event: string): { events: T[]; stop(): void } {
  const events: T[] = [];
  const listener = (payload: T) => events.push(payload);
  emitter.on(event, listener);
  return { events, stop: () => emitter.off(event, listener) };
}
