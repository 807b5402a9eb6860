/**
 * Listeners that return a promise (`async` ones) and reject: eventemitter3 drops a listener's
 * return value, so such a rejection would end the process as unhandled, past the 'error' event
 * that keeps a throwing listener from ending it (H248). Listeners are wrapped as they are added so
 * every emit (not only the protocol's) is covered; `off` and `listeners` see the caller's function.
 */
import type { EventEmitter } from 'eventemitter3';
import { settleLikeAwait } from './is-thenable.js';
import { toError } from './to-error.js';

type Listener = (...args: unknown[]) => unknown;
type Patchable = Record<'on' | 'addListener' | 'once' | 'off' | 'removeListener', (event: string | symbol, fn?: Listener, context?: unknown, once?: boolean) => unknown> & {
  listeners(event: string | symbol): Listener[];
};

const originals = new WeakMap<Listener, Listener>();

export function catchListenerRejections(target: EventEmitter, report: (error: Error, event: string | symbol) => void): void {
  const emitter = target as unknown as Patchable;
  // One wrapper per function and event, so `off(event, fn)` finds what `on(event, fn)` added.
  const wrappers = new WeakMap<Listener, Map<string | symbol, Listener>>();
  const wrap = (event: string | symbol, fn: Listener): Listener => {
    if (typeof fn !== 'function') return fn;
    let byEvent = wrappers.get(fn);
    if (byEvent === undefined) wrappers.set(fn, (byEvent = new Map()));
    let wrapper = byEvent.get(event);
    if (wrapper === undefined) {
      wrapper = function (this: unknown, ...args: unknown[]): unknown {
        const result = fn.apply(this, args);
        settleLikeAwait(result)?.then(undefined, (reason: unknown) => report(toError(reason, `A listener of "${String(event)}" rejected`), event));
        return result;
      };
      originals.set(wrapper, fn);
      byEvent.set(event, wrapper);
    }
    return wrapper;
  };
  const unwrap = (event: string | symbol, fn: Listener | undefined): Listener | undefined => (fn === undefined ? fn : (wrappers.get(fn)?.get(event) ?? fn));
  for (const name of ['on', 'addListener', 'once'] as const) {
    const original = emitter[name];
    emitter[name] = function (this: unknown, event, fn, context) {
      return original.call(this, event, wrap(event, fn as Listener), context);
    };
  }
  for (const name of ['off', 'removeListener'] as const) {
    const original = emitter[name];
    emitter[name] = function (this: unknown, event, fn, context, once) {
      return original.call(this, event, unwrap(event, fn), context, once);
    };
  }
  const listeners = emitter.listeners;
  emitter.listeners = function (this: unknown, event) {
    return listeners.call(this, event).map((fn) => originals.get(fn) ?? fn);
  };
}
