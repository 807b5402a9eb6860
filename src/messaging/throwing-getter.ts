/**
 * Naming the getter that threw during a payload check (payload-check.ts). The walk keeps no
 * record of the property it is reading (that would cost every message); when user code throws,
 * the getter is found here instead, on the path of a payload that is being refused anyway.
 */

/**
 * The key of the getter that threw while the payload walk read the properties of the object it
 * was in, or `undefined`. `ancestors` and `keys` are the walk's stacks at the throw: the walk
 * is inside an object's property loop when that object is the last ancestor and the key stack
 * holds its path only (one key fewer than ancestors); a throw anywhere else (a Proxy's
 * getPrototypeOf trap, an Error's message getter) already has its path. Calls the object's
 * getters again, once each, until one throws.
 */
export function throwingGetterKey(ancestors: readonly object[], keys: ReadonlyArray<string | number>): string | undefined {
  if (ancestors.length === 0 || keys.length !== ancestors.length - 1) return undefined;
  const object = ancestors[ancestors.length - 1]!;
  try {
    for (const key in object) {
      const getter = Object.getOwnPropertyDescriptor(object, key)?.get;
      if (!getter) continue;
      try {
        getter.call(object);
      } catch {
        return key;
      }
    }
  } catch {
    // A Proxy whose traps throw: no key to name.
  }
  return undefined;
}
