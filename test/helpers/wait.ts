/**
 * Waiting in tests: on events and conditions, always with a deadline, never with sleeps.
 *
 * Every timer and listener these helpers create is released after the test (test/helpers/
 * cleanup.ts), also when the test failed before awaiting it: the promise then simply never
 * settles, instead of rejecting later inside another test.
 */
import type { EventEmitter } from 'eventemitter3';
import { onCleanup } from './cleanup.js';

/**
 * How long a test waits for something that should happen (an event, a condition, a process
 * line) before it fails. Only a broken run waits this long, so it is generous: on a 2-core
 * machine shared with CPU hogs and other test runs, starting one tsx worker has taken 15 s.
 */
export const kPatienceMs = 30_000;

/** Resolves with the event's payload; rejects after `ms` naming what did not happen. */
export function onceEvent<T = any>(emitter: EventEmitter<any>, event: string, ms = kPatienceMs, filter: (payload: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (payload: T) => {
      if (!filter(payload)) return;
      release();
      resolve(payload);
    };
    const timer = setTimeout(() => {
      release();
      reject(new Error(`"${event}" did not happen within ${ms} ms`));
    }, ms);
    const release = onCleanup(() => {
      clearTimeout(timer);
      emitter.off(event, listener);
    });
    emitter.on(event, listener);
  });
}

/** Polls `condition` every 20 ms until it is true; rejects after `ms`. */
export function until(condition: () => boolean | Promise<boolean>, ms = kPatienceMs, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    let isReleased = false;
    const release = onCleanup(() => {
      isReleased = true;
      clearTimeout(timer);
    });
    const check = async (): Promise<void> => {
      let isMet: boolean;
      try {
        isMet = await condition();
      } catch (error) {
        if (isReleased) return;
        release();
        return reject(error);
      }
      if (isReleased) return;
      if (isMet) {
        release();
        return resolve();
      }
      if (Date.now() > deadline) {
        release();
        return reject(new Error(`${what} not met within ${ms} ms`));
      }
      timer = setTimeout(() => void check(), 20);
    };
    void check();
  });
}

/** Collects the payloads of `event` into an array, until stop() is called or the test ends. */
export function record<T = any>(emitter: EventEmitter<any>, event: string): { events: T[]; stop(): void } {
  const events: T[] = [];
  const listener = (payload: T) => events.push(payload);
  emitter.on(event, listener);
  const stop = onCleanup(() => emitter.off(event, listener));
  return { events, stop };
}
