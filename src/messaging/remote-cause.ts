/**
 * The cause chain of an error that crossed IPC, revived on the side that receives it (H352):
 * a `RemoteError`'s `cause`. serialize-error.ts flattens the thrown error's `cause`, and the
 * cause's own, as `SerializedError`s nested in `cause` (a cause that is not an Error as
 * `{ value }`); here each becomes a plain `Error` again, with the remote `name`, `message`,
 * `code`, `stack` and other fields, its own `cause` the next one down.
 *
 * The sender is not trusted (a worker's code may write anything on its channel): whatever
 * arrives, reviving never throws, reads at most `kMaxCauseDepth` causes, cuts each text as the
 * sender would have, and sets no field an Error already has (`toString`, `constructor`...).
 */
import { cutText, kMaxErrorNameChars, kMaxErrorTextChars } from './error-text.js';

/** How many causes deep an error carries across IPC, counted from the thrown error's own. */
export const kMaxCauseDepth = 8;
/** Most fields of one cause set on its revived Error. */
const kMaxCauseFields = 32;
/** Longest field of a cause, in characters (a string) or characters of JSON: serialize-error.ts's `kMaxCauseFieldBytes`. */
const kMaxCauseFieldChars = 1024;
/** Fields never set from the wire: the Error's own, and keys that could alter prototypes. */
const kReservedKeys = new Set(['name', 'message', 'stack', 'code', 'cause', '__proto__', 'constructor', 'prototype']);

type WireRecord = Record<string, unknown>;

/**
 * The revived cause chain of a `SerializedError.cause` from the peer, or `undefined` for none
 * (or nothing usable). An error becomes an `Error`; a `{ value }` becomes that value (a long
 * string cut). Never throws.
 */
export function reviveRemoteCause(wire: unknown): unknown {
  try {
    const errors: WireError[] = [];
    let end: unknown;
    let node = wire;
    while (errors.length < kMaxCauseDepth) {
      const read = readNode(node);
      if (read === undefined) break;
      if ('value' in read) {
        end = reviveValue(read.value);
        break;
      }
      errors.push(read);
      node = read.cause;
    }
    // From the root cause up, so each Error is made with its cause.
    let cause = end;
    for (let index = errors.length - 1; index >= 0; index--) cause = reviveError(errors[index]!, cause);
    return cause;
  } catch {
    return undefined;
  }
}

interface WireError {
  name: string;
  message: string;
  code: unknown;
  stack: unknown;
  data: unknown;
  cause: unknown;
}

/**
 * One cause of the chain, its fields read once: an error, a `{ value }`, or `undefined` for
 * nothing usable (the chain ends there, with the causes above it kept).
 */
function readNode(node: unknown): WireError | { value: unknown } | undefined {
  if (!isRecord(node)) return undefined;
  try {
    const { name, message, code, stack, data, cause } = node;
    if (typeof name === 'string' && typeof message === 'string') return { name, message, code, stack, data, cause };
    return Object.hasOwn(node, 'value') ? { value: node.value } : undefined;
  } catch {
    return undefined;
  }
}

function reviveError(wire: WireError, cause: unknown): Error {
  const name = cutText(wire.name, kMaxErrorNameChars);
  const message = cutText(wire.message, kMaxErrorTextChars);
  const error = cause === undefined ? new Error(message) : new Error(message, { cause });
  const hidden = (key: string, value: unknown) => Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
  hidden('name', name);
  // Its remote stack, with the remote file paths; without one, no local frames (they would point here).
  hidden('stack', typeof wire.stack === 'string' ? cutText(wire.stack, kMaxErrorTextChars) : `${name}: ${message}`);
  const fields = (key: string, value: unknown) => Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: true });
  if (typeof wire.code === 'string') fields('code', cutText(wire.code, kMaxErrorNameChars));
  const data = wire.data;
  if (isRecord(data)) {
    try {
      let count = 0;
      for (const key of Object.keys(data)) {
        if (count >= kMaxCauseFields) break;
        if (kReservedKeys.has(key) || key in error) continue;
        // Bounded as a clusterkit sender bounds a cause's field (1 KiB of JSON, serialize-error.ts): a forged one was kept up to 64 KiB (retest t64).
        const value = data[key];
        const kept = typeof value === 'string' ? cutText(value, kMaxCauseFieldChars) : fitsJson(value, kMaxCauseFieldChars) ? value : undefined;
        if (kept === undefined) continue;
        fields(key, kept);
        count++;
      }
    } catch {
      // Fields that cannot be read (not from a real channel): the error keeps those set so far.
    }
  }
  return error;
}

/** A value from the wire: as it came, a string cut as a message is. */
function reviveValue(value: unknown): unknown {
  return typeof value === 'string' ? cutText(value, kMaxErrorTextChars) : value;
}

function isRecord(value: unknown): value is WireRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Most fields of a received error's `data` kept, as a sender keeps (serialize-error.ts). */
const kMaxDataFields = 32;
/** Longest JSON of one field of a received error's `data` that is not a string: longer ones are left out. */
const kMaxDataFieldBytes = 64 * 1024;

/**
 * A received error (an error reply, a worker's `_init` or `_destroy` failure) bounded as
 * clusterkit's sender bounds it (serialize-error.ts): `name` and `code` at most 256 characters,
 * `message` and `stack` 64 KiB, `data` at most 32 fields, a string cut as a message is, any
 * other value over 64 KiB of JSON left out (a relayed error's own `data` the same, one level
 * down). A worker that writes its own error frames is not trusted (hostile t64: a 5 MiB
 * `remoteMessage`, a 4,000-character `remoteCode` and a 200 KB `data` field reached the
 * primary's caller). Its `cause` is bounded as it is revived (reviveRemoteCause()). Never throws.
 */
export function boundReceivedError<E extends { name: string; message: string; code?: unknown; stack?: unknown; data?: unknown; cause?: unknown }>(error: E): E {
  try {
    const bounded: Record<string, unknown> = { name: cutText(error.name, kMaxErrorNameChars), message: cutText(error.message, kMaxErrorTextChars) };
    if (typeof error.code === 'string') bounded.code = cutText(error.code, kMaxErrorNameChars);
    if (typeof error.stack === 'string') bounded.stack = cutText(error.stack, kMaxErrorTextChars);
    const data = boundData(error.data, true);
    if (data !== undefined) bounded.data = data;
    if (error.cause !== undefined) bounded.cause = error.cause;
    return bounded as E;
  } catch {
    return { name: 'Error', message: 'An error arrived whose fields could not be read.' } as E;
  }
}

function boundData(data: unknown, withNested: boolean): WireRecord | undefined {
  if (!isRecord(data)) return undefined;
  let bounded: WireRecord | undefined;
  let count = 0;
  for (const key of Object.keys(data)) {
    if (count >= kMaxDataFields) break;
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const value = data[key];
    // A relayed error's remote fields travel in `data` (remoteMessage, remoteStack, its own `data`).
    const kept = typeof value === 'string' ? cutText(value, kMaxErrorTextChars) : withNested && key === 'data' ? boundData(value, false) : fitsJson(value) ? value : undefined;
    if (kept === undefined) continue;
    bounded ??= {};
    Object.defineProperty(bounded, key, { value: kept, writable: true, configurable: true, enumerable: true });
    count++;
  }
  return bounded;
}

function fitsJson(value: unknown, maxChars = kMaxDataFieldBytes): boolean {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return true;
  try {
    const json = JSON.stringify(value);
    return json !== undefined && json.length <= maxChars;
  } catch {
    return false;
  }
}
