/**
 * Errors <-> plain objects. Custom fields do not survive IPC (not even with `advanced`
 * serialization), so errors always travel flattened as `{ name, message, code, stack, data }`.
 */
import type { SerializedError } from '../errors.js';

const kReservedKeys = new Set(['name', 'message', 'stack', 'code', 'cause']);
// Keys that could alter prototypes if a receiver ever merged `data` naively.
const kUnsafeKeys = new Set(['__proto__', 'constructor', 'prototype']);
const kMaxDataKeys = 32;

/** Flattens anything thrown (an Error or not) into a JSON-safe object. */
export function serializeError(thrown: unknown): SerializedError {
  if (!(thrown instanceof Error)) {
    return { name: 'Error', message: describeThrown(thrown) };
  }
  const serialized: SerializedError = {
    name: typeof thrown.name === 'string' ? thrown.name : 'Error',
    message: typeof thrown.message === 'string' ? thrown.message : String(thrown.message),
  };
  const code = (thrown as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') serialized.code = String(code);
  if (typeof thrown.stack === 'string') serialized.stack = thrown.stack;
  const data = collectData(thrown);
  if (data) serialized.data = data;
  return serialized;
}

function collectData(error: Error): Record<string, unknown> | undefined {
  let data: Record<string, unknown> | undefined;
  let count = 0;
  for (const key of Object.keys(error)) {
    if (kReservedKeys.has(key) || kUnsafeKeys.has(key) || count >= kMaxDataKeys) continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (!isJsonSafe(value)) continue;
    data ??= {};
    data[key] = value;
    count++;
  }
  return data;
}

function isJsonSafe(value: unknown): boolean {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return false;
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

function describeThrown(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  try {
    return `Non-error value thrown: ${JSON.stringify(thrown) ?? String(thrown)}`;
  } catch {
    return `Non-error value thrown: ${String(thrown)}`;
  }
}
