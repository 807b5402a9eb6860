/**
 * Errors <-> plain objects. Custom fields do not survive IPC (not even with `advanced`
 * serialization), so errors always travel flattened as `{ name, message, code, stack, data }`.
 *
 * Anything can be thrown, including values that throw when read (a getter, a Proxy, a revoked
 * Proxy, a throwing `toString`): serializing never throws, and keeps whatever could be read.
 * A throw here would escape into the IPC listener and kill the process running the handler.
 */
import type { SerializedError } from '../errors.js';
import { describeThrown, isError, kUnreadable, readErrorName, readProperty, unreadableField } from '../readable-error.js';

const kReservedKeys = new Set(['name', 'message', 'stack', 'code', 'cause']);
// Keys that could alter prototypes if a receiver ever merged `data` naively.
const kUnsafeKeys = new Set(['__proto__', 'constructor', 'prototype']);
const kMaxDataKeys = 32;
/** Longest JSON of one `data` field: an error reply is not checked against `maxMessageBytes`. */
const kMaxDataFieldBytes = 64 * 1024;

/** Flattens anything thrown (an Error or not) into a JSON-safe object. Never throws. */
export function serializeError(thrown: unknown): SerializedError {
  try {
    if (!isError(thrown)) return { name: 'Error', message: describeNonError(thrown) };
    return serializeErrorObject(thrown);
  } catch {
    // Nothing above should throw; an error reply must go out whatever happens.
    return { name: 'Error', message: 'A value was thrown that could not be read.' };
  }
}

function serializeErrorObject(error: Error): SerializedError {
  const message = readProperty(error, 'message');
  const serialized: SerializedError = {
    // Its class's name when its name or message cannot be read: what was thrown, not just "Error".
    name: readErrorName(error, message),
    message: typeof message === 'string' ? message : unreadableField('message', message),
  };
  const code = readProperty(error, 'code');
  if (typeof code === 'string' || typeof code === 'number') serialized.code = String(code);
  const stack = readProperty(error, 'stack');
  if (typeof stack === 'string') serialized.stack = stack;
  const data = collectData(error);
  if (data) serialized.data = data;
  return serialized;
}

function collectData(error: Error): Record<string, unknown> | undefined {
  let keys: string[];
  try {
    keys = Object.keys(error);
  } catch {
    return undefined; // a Proxy whose ownKeys trap throws
  }
  let data: Record<string, unknown> | undefined;
  let count = 0;
  for (const key of keys) {
    if (kReservedKeys.has(key) || kUnsafeKeys.has(key) || count >= kMaxDataKeys) continue;
    const value = readProperty(error, key);
    if (value === kUnreadable) continue;
    const copy = jsonCopy(value);
    if (copy === undefined) continue;
    data ??= {};
    data[key] = copy;
    count++;
  }
  return data;
}

/**
 * `value` as JSON would carry it (a plain copy), or `undefined` when it has no JSON form or is
 * too large. A copy, not the value: it cannot change or throw when the reply is written, and
 * it also crosses `advanced` serialization (which refuses functions that JSON drops).
 */
function jsonCopy(value: unknown): unknown {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  try {
    const json = JSON.stringify(value);
    return json === undefined || json.length > kMaxDataFieldBytes ? undefined : (JSON.parse(json) as unknown);
  } catch {
    return undefined;
  }
}

function describeNonError(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  return `Non-error value thrown: ${describeThrown(thrown)}`;
}
