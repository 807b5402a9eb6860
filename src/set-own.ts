/**
 * Sets `object[key]` as an own data property whatever the key: a `"__proto__"` key (JSON.parse
 * makes one; a config file or an env file may hold one) stays a key, where `object[key] = value`
 * would set the object's prototype and drop the key (hostile tester t50).
 */
export function setOwn<T>(object: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}
