/**
 * Checks a payload before it is queued, so that a value that cannot cross IPC fails at the call
 * site with a precise `NotSerializableError` (which field, why) instead of breaking a coalesced
 * batch later, and estimates its size for `maxMessageBytes` and batching.
 *
 * The rules are stricter than Node's serializers where those lose data silently: JSON turns a
 * Map into `{}` and drops functions, and both are almost always bugs.
 */
import { MessageTooLargeError, NotSerializableError } from '../errors.js';
import type { Serialization } from '../types.js';

const kMaxDepth = 512;
// Rough per-value overheads of the serialized form; the estimate need not be exact.
const kNumberBytes = 8;
const kPunctuationBytes = 2;

interface Walk {
  readonly json: boolean;
  /** JSON: objects on the current path (a cycle). Advanced: every object seen (cycles are fine). */
  readonly seen: Set<object>;
  bytes: number;
}

/**
 * Returns the estimated serialized size of `payload` in bytes.
 * @throws NotSerializableError when the payload cannot be sent with `serialization`.
 * @throws MessageTooLargeError when the estimate exceeds `limitBytes`.
 */
export function checkPayload(payload: unknown, serialization: Serialization, limitBytes: number, type: string): number {
  // Fast path for the common small cases: no walk, no allocation.
  if (typeof payload === 'string') {
    const bytes = payload.length + kPunctuationBytes;
    if (bytes > limitBytes) throw new MessageTooLargeError(type, bytes, limitBytes);
    return bytes;
  }
  if (payload === undefined || payload === null || typeof payload === 'number' || typeof payload === 'boolean') {
    return kNumberBytes;
  }
  const walk: Walk = { json: serialization === 'json', seen: new Set(), bytes: 0 };
  visit(walk, payload, 'payload', 0);
  if (walk.bytes > limitBytes) throw new MessageTooLargeError(type, walk.bytes, limitBytes);
  return walk.bytes;
}

function visit(walk: Walk, value: unknown, path: string, depth: number): void {
  switch (typeof value) {
    case 'string':
      walk.bytes += value.length + kPunctuationBytes;
      return;
    case 'number':
    case 'boolean':
    case 'undefined':
      walk.bytes += kNumberBytes;
      return;
    case 'bigint':
      if (walk.json) fail(path, 'BigInt values cannot be sent with JSON serialization; convert it to a string, or use serialization: "advanced"');
      walk.bytes += kNumberBytes;
      return;
    case 'function':
      fail(path, 'functions cannot be sent between processes');
      return;
    case 'symbol':
      fail(path, 'symbols cannot be sent between processes');
      return;
    default:
      if (value === null) {
        walk.bytes += kNumberBytes;
        return;
      }
      visitObject(walk, value as object, path, depth);
  }
}

function visitObject(walk: Walk, value: object, path: string, depth: number): void {
  if (depth > kMaxDepth) fail(path, `it is nested more than ${kMaxDepth} levels deep`);
  if (walk.seen.has(value)) {
    if (walk.json) fail(path, 'it contains a circular reference; JSON serialization cannot represent cycles (serialization: "advanced" can)');
    return;
  }
  if (visitLeafObject(walk, value, path)) return;
  walk.seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) visit(walk, value[i], `${path}[${i}]`, depth + 1);
  } else if (value instanceof Map) {
    if (walk.json) fail(path, 'a Map becomes {} with JSON serialization; send Object.fromEntries(map), or use serialization: "advanced"');
    for (const [key, entry] of value) {
      visit(walk, key, `${path}.<key>`, depth + 1);
      visit(walk, entry, `${path}.get(${String(key)})`, depth + 1);
    }
  } else if (value instanceof Set) {
    if (walk.json) fail(path, 'a Set becomes {} with JSON serialization; send [...set], or use serialization: "advanced"');
    for (const entry of value) visit(walk, entry, `${path}.<entry>`, depth + 1);
  } else {
    visitPlainObject(walk, value, path, depth);
  }
  // JSON only forbids cycles (an object on its own path); shared references are fine.
  if (walk.json) walk.seen.delete(value);
}

/** Handles objects that are sent whole, not walked. Returns true when handled. */
function visitLeafObject(walk: Walk, value: object, path: string): boolean {
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    fail(path, `${value.constructor.name} objects cannot be sent between processes`);
  }
  if (Buffer.isBuffer(value)) {
    // JSON writes a Buffer as {"type":"Buffer","data":[...]}: about 4 bytes per byte, and slow.
    walk.bytes += walk.json ? value.length * 4 : value.length;
    return true;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    if (walk.json) fail(path, 'typed arrays and ArrayBuffers are mangled by JSON serialization; send a Buffer or an array, or use serialization: "advanced"');
    walk.bytes += value.byteLength;
    return true;
  }
  if (value instanceof Date || value instanceof RegExp) {
    walk.bytes += 32;
    return true;
  }
  if (value instanceof Error) {
    if (walk.json) fail(path, 'an Error loses its message with JSON serialization; throw it from the handler instead (the sender gets a RemoteError), or use serialization: "advanced"');
    walk.bytes += value.message.length + (value.stack?.length ?? 0);
    return true;
  }
  return false;
}

function visitPlainObject(walk: Walk, value: object, path: string, depth: number): void {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (walk.json && typeof toJSON === 'function') {
    visit(walk, toJSON.call(value), `${path}.toJSON()`, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    walk.bytes += key.length + kPunctuationBytes;
    visit(walk, (value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
  }
}

function fail(path: string, reason: string): never {
  throw new NotSerializableError(path, reason);
}
