/**
 * Checks a payload before it is queued, so that a value that cannot cross IPC fails at the call
 * site with a precise `NotSerializableError` (which field, why) instead of breaking a coalesced
 * frame later, and estimates its size for `maxMessageBytes` and frame splitting.
 *
 * The rules are stricter than Node's serializers where those lose data silently: JSON turns a
 * Map into `{}` and drops functions, and both are almost always bugs. With JSON, every value
 * that JSON would change silently is refused with its path: Map, Set, RegExp (`{}`), Buffer
 * (`{ type, data }`), typed arrays, NaN and Infinity (`null`), an invalid Date (`null`),
 * `undefined` or a hole in an array (`null`), BigInt and cycles (which JSON cannot write).
 * What JSON converts faithfully and documentedly is accepted: a Date (its ISO string), a class
 * instance (its own fields), an object with `toJSON` (what it returns), -0 (0). See
 * docs/messaging.md. A getter or `toJSON` that throws is a NotSerializableError with its path,
 * never the raw error.
 *
 * This runs for every message, so the common shapes (plain objects, arrays, strings) take a
 * fast path: no allocation for paths (the path is rebuilt from a key stack only on failure),
 * and cycles are found on a stack of ancestors (a cycle always leads back to one) rather than
 * in a set of everything seen.
 */
import { describeValue, MessageTooLargeError, NotSerializableError } from '../errors.js';
import { describeError, isError } from '../readable-error.js';
import { throwingGetterKey } from './throwing-getter.js';
import type { Serialization } from '../types.js';

const kMaxDepth = 512;
// Rough per-value overheads of the serialized form; the estimate need not be exact.
const kScalarBytes = 8;
const kPunctuationBytes = 2;

class Walk {
  bytes = 0;
  json = true;
  /** Keys from the payload root to the value being visited, for error paths. */
  readonly keys: Array<string | number> = [];
  /** Objects from the root to the one being visited. */
  readonly ancestors: object[] = [];

  reset(json: boolean): this {
    this.bytes = 0;
    this.json = json;
    // Balanced after every successful walk; only a failed one leaves entries (and setting
    // `length` is a runtime call, too slow to make on every message).
    if (this.keys.length !== 0) this.keys.length = 0;
    if (this.ancestors.length !== 0) this.ancestors.length = 0;
    return this;
  }

  fail(reason: string, cause?: unknown): never {
    let path = 'payload';
    for (const key of this.keys) path += typeof key === 'number' ? `[${key}]` : `.${key}`;
    throw new NotSerializableError(path, reason, cause === undefined ? undefined : { cause });
  }
}

// One walk serves every check: checks are synchronous, and a reentrant one (a toJSON that
// sends a message) gets its own.
const sharedWalk = new Walk();
let isSharedWalkBusy = false;

/**
 * Returns the estimated serialized size of `payload` in bytes.
 * @throws NotSerializableError when the payload cannot be sent with `serialization`.
 * @throws MessageTooLargeError when the estimate exceeds `limitBytes`.
 */
export function checkPayload(payload: unknown, serialization: Serialization, limitBytes: number, type: string): number {
  let bytes: number;
  if (typeof payload === 'string') {
    bytes = payload.length + kPunctuationBytes;
  } else if (typeof payload === 'number' || typeof payload === 'boolean' || payload === undefined || payload === null) {
    if (typeof payload === 'number' && payload - payload !== 0 && serialization === 'json') throw new NotSerializableError('payload', nonFiniteReason(payload));
    return kScalarBytes;
  } else {
    const reentrant = isSharedWalkBusy;
    const walk: Walk = (reentrant ? new Walk() : sharedWalk).reset(serialization === 'json');
    isSharedWalkBusy = true;
    try {
      visit(walk, payload, 0);
      bytes = walk.bytes;
    } catch (error) {
      if (isError(error) && error instanceof NotSerializableError) throw error;
      // User code ran during the walk and threw: a getter, a Proxy trap... Found here, on the
      // failure path, so that the walk itself holds no try/catch and no bookkeeping for it.
      const key = throwingGetterKey(walk.ancestors, walk.keys);
      if (key !== undefined) walk.keys.push(key);
      walk.fail(`${key === undefined ? 'reading it' : 'its getter'} threw ${describeError(error)}`, error);
    } finally {
      if (!reentrant) isSharedWalkBusy = false;
    }
  }
  if (bytes > limitBytes) throw new MessageTooLargeError(type, bytes, limitBytes);
  return bytes;
}

function visit(walk: Walk, value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      walk.bytes += value.length + kPunctuationBytes;
      return;
    case 'number':
      // NaN and ±Infinity (x - x is NaN for them, 0 for every finite number).
      if (value - value !== 0 && walk.json) walk.fail(nonFiniteReason(value));
      walk.bytes += kScalarBytes;
      return;
    case 'boolean':
    case 'undefined':
      walk.bytes += kScalarBytes;
      return;
    case 'bigint':
      if (walk.json) walk.fail('BigInt values cannot be sent with JSON serialization; convert it to a string, or use serialization: "advanced"');
      walk.bytes += kScalarBytes;
      return;
    case 'function':
      walk.fail('functions cannot be sent between processes');
    // falls through: fail() throws
    case 'symbol':
      walk.fail('symbols cannot be sent between processes');
    // falls through: fail() throws
    default:
      if (value === null) walk.bytes += kScalarBytes;
      else visitObject(walk, value as object, depth);
  }
}

function visitObject(walk: Walk, value: object, depth: number): void {
  if (depth > kMaxDepth) walk.fail(`it is nested more than ${kMaxDepth} levels deep`);
  const prototype: unknown = Object.getPrototypeOf(value);
  const isPlain = prototype === Object.prototype || prototype === null;
  const isArray = !isPlain && Array.isArray(value);
  if (!isPlain && !isArray && visitSpecialObject(walk, value)) return;
  if (depth > 0 && walk.ancestors.includes(value)) {
    // JSON cannot represent a cycle; structured clone can (and the walk must not loop).
    if (walk.json) walk.fail('it contains a circular reference; JSON serialization cannot represent cycles (serialization: "advanced" can)');
    return;
  }
  walk.ancestors.push(value);
  if (isArray) visitArray(walk, value as unknown[], depth);
  else if (value instanceof Map) visitMap(walk, value, depth);
  else if (value instanceof Set) visitSet(walk, value, depth);
  else visitProperties(walk, value, depth);
  walk.ancestors.pop();
}

function visitArray(walk: Walk, array: unknown[], depth: number): void {
  walk.bytes += kPunctuationBytes;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    walk.keys.push(i);
    if (item === undefined && walk.json) {
      walk.fail('undefined in an array (or an empty slot of a sparse array) becomes null with JSON serialization; use null, or use serialization: "advanced"');
    }
    visit(walk, item, depth + 1);
    walk.keys.pop();
  }
}

function visitProperties(walk: Walk, value: object, depth: number): void {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (walk.json && typeof toJSON === 'function') {
    const json = callToJSON(walk, value, toJSON);
    walk.keys.push('toJSON()');
    visit(walk, json, depth + 1);
    walk.keys.pop();
    return;
  }
  walk.bytes += kPunctuationBytes;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const entry = (value as Record<string, unknown>)[key];
    walk.bytes += key.length + kPunctuationBytes;
    if (typeof entry === 'string') {
      walk.bytes += entry.length + kPunctuationBytes;
      continue;
    }
    walk.keys.push(key);
    visit(walk, entry, depth + 1);
    walk.keys.pop();
  }
}

function visitMap(walk: Walk, map: Map<unknown, unknown>, depth: number): void {
  if (walk.json) walk.fail('a Map becomes {} with JSON serialization; send Object.fromEntries(map), or use serialization: "advanced"');
  for (const [key, entry] of map) {
    walk.keys.push('<key>');
    visit(walk, key, depth + 1);
    walk.keys.pop();
    walk.keys.push(`get(${describeValue(key)})`);
    visit(walk, entry, depth + 1);
    walk.keys.pop();
  }
}

function visitSet(walk: Walk, set: Set<unknown>, depth: number): void {
  if (walk.json) walk.fail('a Set becomes {} with JSON serialization; send [...set], or use serialization: "advanced"');
  walk.keys.push('<entry>');
  for (const entry of set) visit(walk, entry, depth + 1);
  walk.keys.pop();
}

/** Objects sent whole, not walked, and objects that cannot be sent. Returns true when handled. */
function visitSpecialObject(walk: Walk, value: object): boolean {
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    walk.fail(`${value.constructor.name} objects cannot be sent between processes`);
  }
  if (Buffer.isBuffer(value)) {
    // JSON writes a Buffer as {"type":"Buffer","data":[...]}: not a Buffer on arrival, about 4
    // bytes per byte, and slow (100 MB took 47 s).
    if (walk.json) walk.fail('a Buffer arrives as { type: "Buffer", data: [...] } with JSON serialization; send buffer.toString("base64"), or use serialization: "advanced"');
    walk.bytes += value.length;
    return true;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    if (walk.json) walk.fail('typed arrays and ArrayBuffers are mangled by JSON serialization; send an array of numbers or a base64 string, or use serialization: "advanced"');
    walk.bytes += value.byteLength;
    return true;
  }
  if (value instanceof Date) {
    // JSON sends a Date as its ISO string (documented); an invalid one would become null.
    if (walk.json && Number.isNaN(value.getTime())) walk.fail('an invalid Date becomes null with JSON serialization; send null, or a valid Date');
    walk.bytes += 32;
    return true;
  }
  if (value instanceof RegExp) {
    if (walk.json) walk.fail('a RegExp becomes {} with JSON serialization; send its source and flags as strings, or use serialization: "advanced"');
    walk.bytes += 32;
    return true;
  }
  if (value instanceof Error) {
    if (walk.json) walk.fail('an Error loses its message with JSON serialization; throw it from the handler instead (the sender gets a RemoteError), or use serialization: "advanced"');
    walk.bytes += value.message.length + (value.stack?.length ?? 0);
    return true;
  }
  return false;
}

function nonFiniteReason(value: number): string {
  return `${value} becomes null with JSON serialization; send null or a string such as "${value}", or use serialization: "advanced"`;
}

/** `value.toJSON()`; out of line, so the hot property loop holds no try/catch. */
function callToJSON(walk: Walk, value: object, toJSON: Function): unknown {
  try {
    return toJSON.call(value);
  } catch (error) {
    return walk.fail(`its toJSON() threw ${describeError(error)}`, error);
  }
}
