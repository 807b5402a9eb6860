/**
 * Errors <-> plain objects. Custom fields do not survive IPC (not even with `advanced`
 * serialization), so errors always travel flattened as `{ name, message, code, stack, data }`.
 *
 * Anything can be thrown, including values that throw when read (a getter, a Proxy, a revoked
 * Proxy, a throwing `toString`): serializing never throws, and keeps whatever could be read.
 * A throw here would escape into the IPC listener and kill the process running the handler.
 *
 * Every field is bounded as it is flattened (H330): a `message` (or a thrown string) and a
 * `stack` of at most 64 KiB characters, a `name` and a `code` of at most 256, each saying the
 * cut (`… (9000000 characters, cut to 65536)`); `data` as below. An error reply is then at most
 * about 2.2 MiB, whatever was thrown; inbound.ts fits it to a smaller `maxMessageBytes`. Before,
 * a 9 MB message went out whole, over the primary's limit, and the worker was killed for it.
 */
import { RemoteError, type SerializedError } from '../errors.js';
import { describeThrown, isError, kUnreadable, readErrorName, readProperty, unreadableField } from '../readable-error.js';

const kReservedKeys = new Set(['name', 'message', 'stack', 'code', 'cause']);
// Keys that could alter prototypes if a receiver ever merged `data` naively.
const kUnsafeKeys = new Set(['__proto__', 'constructor', 'prototype']);
const kMaxDataKeys = 32;
/** Longest JSON of one `data` field: longer ones are left out. */
const kMaxDataFieldBytes = 64 * 1024;
/** Longest `message` (a thrown string's included) and `stack`, in characters (UTF-16 units). */
export const kMaxErrorTextChars = 64 * 1024;
/** Longest `name` and `code`, in characters. */
export const kMaxErrorNameChars = 256;

/** Flattens anything thrown (an Error or not) into a JSON-safe object. Never throws. */
export function serializeError(thrown: unknown): SerializedError {
  try {
    if (!isError(thrown)) return { name: 'Error', message: cutText(describeNonError(thrown), kMaxErrorTextChars) };
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
    name: cutText(readErrorName(error, message), kMaxErrorNameChars),
    message: cutText(typeof message === 'string' ? message : unreadableField('message', message), kMaxErrorTextChars),
  };
  const code = readProperty(error, 'code');
  if (typeof code === 'string' || typeof code === 'number') serialized.code = cutText(String(code), kMaxErrorNameChars);
  const stack = readProperty(error, 'stack');
  if (typeof stack === 'string') serialized.stack = cutStack(stack);
  const data = error instanceof RemoteError ? remoteData(error) : collectData(error);
  if (data) serialized.data = data;
  return serialized;
}

/**
 * A RemoteError passed on (a relayed `sendTo()` reply, a handler rethrowing what it got): its
 * remote fields travel in `data`, where the receiver revives them (revive-error.ts). They are
 * bounded as a thrown error's own, not left out as a 64 KiB `data` field would be: a relayed
 * 100 KiB message arrived as "undefined".
 */
function remoteData(error: RemoteError): Record<string, unknown> | undefined {
  const data = collectData(error) ?? {};
  const text = (value: unknown, max: number): string | undefined => (typeof value === 'string' ? cutText(value, max) : undefined);
  data.remoteName = text(readProperty(error, 'remoteName'), kMaxErrorNameChars) ?? 'Error';
  data.remoteMessage = text(readProperty(error, 'remoteMessage'), kMaxErrorTextChars) ?? '';
  const code = text(readProperty(error, 'remoteCode'), kMaxErrorNameChars);
  if (code === undefined) delete data.remoteCode;
  else data.remoteCode = code;
  const stack = readProperty(error, 'remoteStack');
  if (typeof stack === 'string') data.remoteStack = cutStack(stack);
  else delete data.remoteStack;
  const remote = readProperty(error, 'data');
  const fields = typeof remote === 'object' && remote !== null ? collectData(remote) : undefined;
  if (fields) data.data = fields;
  else delete data.data;
  return data;
}

/**
 * `text` when it has at most `max` characters, else its start and what was cut, `max`
 * characters in all: `EEE… (9000000 characters, cut to 65536)`. A text cut before (a relayed
 * error, an error reply fit to a small `maxMessageBytes`) keeps its first length. Never ends
 * on half a surrogate pair.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const earlier = kCutSuffix.exec(text);
  const length = earlier ? Number(earlier[1]) : text.length;
  const suffix = `… (${length} characters, cut to ${max})`;
  return `${sliceWhole(earlier ? text.slice(0, earlier.index) : text, 0, Math.max(0, max - suffix.length))}${suffix}`;
}

/** The end cutText() gives a text it cut. */
const kCutSuffix = /… \((\d+) characters, cut to \d+\)$/;

/**
 * A stack of more than 64 KiB (most often one that repeats a huge message): its start and its
 * end, with what was cut between them, 64 KiB in all, so that the frames at its end survive.
 */
function cutStack(stack: string): string {
  if (stack.length <= kMaxErrorTextChars) return stack;
  const mark = `\n… (${stack.length} characters, cut to ${kMaxErrorTextChars}) …\n`;
  const half = Math.floor((kMaxErrorTextChars - mark.length) / 2);
  return `${sliceWhole(stack, 0, half)}${mark}${sliceWhole(stack, stack.length - half, stack.length)}`;
}

/** `text.slice(start, end)` without a half surrogate pair at either end. */
function sliceWhole(text: string, start: number, end: number): string {
  if (start > 0 && isLowSurrogate(text.charCodeAt(start))) start++;
  if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end--;
  return text.slice(start, end);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function collectData(error: object): Record<string, unknown> | undefined {
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
