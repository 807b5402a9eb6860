/**
 * A loaded config copied into plain data before it is checked. A config is code: its object may
 * have getters, be a Proxy, or be revoked, and any of them may throw when read. Reading each
 * key once, here, turns such a throw into a usage error naming the key path
 * (`"apps[0].script" cannot be read`) instead of a bare `clusterkit: getter boom` (exit 1); the
 * checker then reads only the copy.
 *
 * Only what the checker looks at is copied, and no more than a config can hold: values deeper
 * than `kMaxDepth` become empty placeholders (the checker refuses them by their shape alone: a
 * cycle such as `app.env = app` ends there), and a list longer than `kMaxEntries`, an object
 * with more keys, a string longer than `kMaxChars` or more than `kMaxNodes` values in all are
 * refused here, at once.
 *
 * A value that cannot be read is not the end of the check: it is kept as `kUnreadable`, its
 * problem in `unreadable`, and the checker reports it with every other problem of the file
 * (config.md: "Every problem of the file is reported in one run"; hostile t58: one throwing
 * getter hid nine other problems).
 *
 * The limits hold before anything walks the value: a list's `length` is the file's to say
 * (`a.length = 2 ** 32 - 1` makes an empty list of four billion holes; a Proxy may say 1e15),
 * and a builtin that walks it (`apps.some(...)`) runs for minutes in V8 code that nothing can
 * interrupt, not even the loading process's own timers (H315). So no list longer than the
 * limit is copied, not even as a placeholder of its length: every list the checker reads
 * (`apps`, `args`, `nodeArgs`, `watch`, `ignoreWatch`, a PM2 `env_<name>`'s keys) is short.
 */
import { types } from 'node:util';
import { describeError } from '../../readable-error.js';
import { UsageError } from '../usage-error.js';

/** root → apps → app → env/args → value: nothing a valid config holds lies deeper. */
const kMaxDepth = 4;
/** Past every list, app and variable limit of the checker (100 apps, 1000 entries). */
const kMaxEntries = 1_000;
const kMaxNodes = 200_000;
/** Past every string limit of the checker (128 KiB): a PM2 `args` string is split into a list. */
const kMaxChars = 1024 * 1024;

/**
 * What stands in the copy for a value that could not be read: the checker says nothing more of
 * it. An object, not a symbol: the checks put values in messages, and a symbol in a template
 * string throws.
 */
class UnreadableStandIn {
  toString(): string {
    return 'a value that cannot be read';
  }
}
export const kUnreadable = Object.freeze(new UnreadableStandIn());

/** A value that could not be read: its key path (`apps[0].env`), and the problem as said (`"apps[0].env" cannot be read ...`). */
export interface UnreadableValue {
  readonly path: string;
  readonly message: string;
}

export interface PlainConfig {
  readonly value: unknown;
  readonly unreadable: readonly UnreadableValue[];
}

interface CopyState {
  nodes: number;
  readonly unreadable: UnreadableValue[];
}

/** @throws UsageError for a value past a limit (message without the file); a value that cannot be read is listed instead. */
export function toPlainConfig(value: unknown): PlainConfig {
  const state: CopyState = { nodes: 0, unreadable: [] };
  return { value: copy(value, '', 0, state), unreadable: state.unreadable };
}

function copy(value: unknown, path: string, depth: number, budget: CopyState): unknown {
  if (++budget.nodes > kMaxNodes) throw new UsageError(`The config holds more than ${kMaxNodes} values; it is not a config.`);
  const at = path === '' ? 'The config' : `"${path}"`;
  if (typeof value === 'string' && value.length > kMaxChars) throw new UsageError(`${at} is a string of ${value.length} characters; the limit is ${kMaxChars}.`);
  if (typeof value !== 'object' || value === null) return value; // functions stay: the checker names them
  const read = <T>(what: string, get: () => T, where = at, wherePath = path): T | UnreadableStandIn => {
    try {
      return get();
    } catch (error) {
      budget.unreadable.push({ path: wherePath, message: `${where} cannot be read (${what} threw): ${describeError(error).split('\n')[0]}` });
      return kUnreadable;
    }
  };
  // A Proxy's get trap is no getter of the key (open item t58: "its getter threw" of a Proxy).
  const getter = types.isProxy(value) ? 'its Proxy\'s get trap' : 'its getter';
  const isArray = read('checking whether it is an array', () => Array.isArray(value));
  if (isArray instanceof UnreadableStandIn) return kUnreadable;
  if (isArray) {
    if (depth >= kMaxDepth) return [];
    const length = read('its length', () => (value as unknown[]).length as unknown);
    if (length instanceof UnreadableStandIn) return kUnreadable;
    // A Proxy's length may be anything; a real list's is a whole number up to 2 ** 32 - 1.
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw new UsageError(`${at} is a list whose length is not a count of entries (${typeof length === 'number' ? String(length) : typeof length}).`);
    if (length > kMaxEntries) throw new UsageError(`${at} has ${length} entries; the limit is ${kMaxEntries}.`);
    return Array.from({ length }, (_, index) => copy(read(getter, () => (value as unknown[])[index], `"${path}[${index}]"`, `${path}[${index}]`), `${path}[${index}]`, depth + 1, budget));
  }
  const prototype = read('reading its prototype', () => Object.getPrototypeOf(value) as unknown);
  if (prototype instanceof UnreadableStandIn) return kUnreadable;
  // Dates, Maps, class instances: not config values; the checker names them by their kind.
  if (prototype !== Object.prototype && prototype !== null) return value;
  if (depth >= kMaxDepth) return {};
  const keys = read('listing its keys', () => Object.keys(value));
  if (keys instanceof UnreadableStandIn) return kUnreadable;
  if (keys.length > kMaxEntries) throw new UsageError(`${at} has ${keys.length} keys; the limit is ${kMaxEntries}.`);
  const plain: Record<string, unknown> = {};
  // A setting whose value is undefined is not set, as PM2 reads it (retest t89: `instances:
  // process.env.WORKERS` with the variable unset was refused, "It is missing (undefined): pass it"):
  // the file's own keys, an app's, and a variable of its `env` or `env_<name>` (left as inherited).
  const isSettings = path === '' || /^apps\[\d+\](\.env(_\w+)?)?$/.test(path);
  for (const key of keys) {
    const name = /^[A-Za-z_$][\w$]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key.length > 80 ? `${key.slice(0, 77)}...` : key)}]`;
    const entry = read(getter, () => (value as Record<string, unknown>)[key], `"${name}"`, name);
    if (entry === undefined && isSettings) continue;
    // defineProperty: a "__proto__" key (JSON.parse makes one) stays a key, not the prototype.
    Object.defineProperty(plain, key, { value: copy(entry, name, depth + 1, budget), enumerable: true, writable: true, configurable: true });
  }
  return plain;
}
