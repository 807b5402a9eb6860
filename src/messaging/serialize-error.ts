/**
 * Errors <-> plain objects. Custom fields do not survive IPC (not even with `advanced`
 * serialization), so errors always travel flattened as `{ name, message, code, stack, data,
 * cause }`, `cause` being the error's cause chain flattened the same way (H352, addCauses()).
 *
 * Anything can be thrown, including values that throw when read (a getter, a Proxy, a revoked
 * Proxy, a throwing `toString`): serializing never throws, and keeps whatever could be read.
 * A throw here would escape into the IPC listener and kill the process running the handler.
 *
 * Every field is bounded as it is flattened (H330): a `message` (or a thrown string) and a
 * `stack` of at most 64 KiB characters, a `name` and a `code` of at most 256, each saying the
 * cut (`… (9000000 characters, cut to 65536)`); `data` as below. An error reply is then at most
 * about 2.2 MiB, whatever was thrown, and its causes (each cut the same way, with fields of at
 * most 1 KiB, 8 at most) add at most about 1.3 MiB; inbound.ts fits it to a smaller
 * `maxMessageBytes`. Before, a 9 MB message went out whole, over the primary's limit, and the
 * worker was killed for it.
 */
import { RemoteError, type SerializedError } from '../errors.js';
import { describeThrown, isError, kUnreadable, kUnreadableText, readErrorName, readProperty, unreadableField } from '../readable-error.js';
import { cutStack, cutText, kMaxErrorNameChars, kMaxErrorTextChars } from './error-text.js';
import { kMaxCauseDepth } from './remote-cause.js';

export { cutText, kMaxErrorNameChars, kMaxErrorTextChars } from './error-text.js';

const kReservedKeys = new Set(['name', 'message', 'stack', 'code', 'cause']);
// Keys that could alter prototypes if a receiver ever merged `data` naively.
const kUnsafeKeys = new Set(['__proto__', 'constructor', 'prototype']);
const kMaxDataKeys = 32;
/** Longest JSON of one `data` field: longer ones are left out. */
const kMaxDataFieldBytes = 64 * 1024;
/**
 * Longest JSON of one field of a cause (H352): a cause's own fields are most often short
 * (`errno`, `syscall`, `address`, `port`), and eight causes must not carry 2 MiB each.
 */
export const kMaxCauseFieldBytes = 1024;

/** Flattens anything thrown (an Error or not) into a JSON-safe object. Never throws. */
export function serializeError(thrown: unknown): SerializedError {
  try {
    if (!isError(thrown)) return { name: 'Error', message: cutText(describeNonError(thrown), kMaxErrorTextChars) };
    const serialized = serializeErrorObject(thrown, false);
    addCauses(thrown, serialized);
    return serialized;
  } catch {
    // Nothing above should throw; an error reply must go out whatever happens.
    return { name: 'Error', message: 'A value was thrown that could not be read.' };
  }
}

/**
 * The cause chain of `error`, flattened onto `serialized` (H352): each cause an Error flattened
 * and bounded as the error itself (its fields up to 1 KiB of JSON each), at most 8 causes deep;
 * a cause that is not an Error ends the chain as `{ value }` (causeValue()). A chain that leads
 * back to an error already in it stops there, and so does a cause that cannot be read (a getter
 * or Proxy trap that throws): before, the cause was dropped, the root cause (a database's
 * ECONNREFUSED) with it. Never throws: the error reply goes out without its causes if need be.
 */
function addCauses(error: Error, serialized: SerializedError): void {
  try {
    const seen = new Set<object>([error]);
    let current: Error = error;
    let node = serialized;
    for (let depth = 1; depth <= kMaxCauseDepth; depth++) {
      const cause = readProperty(current, 'cause');
      if (cause === undefined || cause === kUnreadable) return;
      if (!isError(cause)) {
        node.cause = { value: causeValue(cause) };
        return;
      }
      if (seen.has(cause)) return;
      seen.add(cause);
      const next = serializeErrorObject(cause, true);
      node.cause = next;
      node = next;
      current = cause;
    }
  } catch {
    // Nothing above should throw: the error goes out with the causes read so far.
  }
}

/**
 * A cause that is not an Error, as a readable value: a string (cut as a message is), a finite
 * number, a boolean or null as itself; an object as a JSON copy of at most 64 KiB; anything
 * else (a larger or unwritable object, NaN, a BigInt, a symbol, a function) described in words.
 */
function causeValue(value: unknown): unknown {
  if (typeof value === 'string') return cutText(value, kMaxErrorTextChars);
  if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  if (typeof value === 'object') {
    const copy = jsonCopy(value, kMaxDataFieldBytes);
    if (copy !== undefined) return copy;
  }
  return describeThrown(value);
}

function serializeErrorObject(error: Error, isCause: boolean): SerializedError {
  const message = readProperty(error, 'message');
  const serialized: SerializedError = {
    // Its class's name when its name or message cannot be read: what was thrown, not just "Error".
    name: cutText(readErrorName(error, message), kMaxErrorNameChars),
    message: cutText(typeof message === 'string' ? message : unreadableField('message', message), kMaxErrorTextChars),
  };
  const code = readProperty(error, 'code');
  if (typeof code === 'string' || typeof code === 'number') serialized.code = cutText(String(code), kMaxErrorNameChars);
  const stack = readProperty(error, 'stack');
  // One with no frames (`Name: message`, a stackless refusal) is its name and message again: not
  // sent twice (the receiver writes the same when none came).
  if (typeof stack === 'string' && !(typeof message === 'string' && stack === (message === '' ? serialized.name : `${serialized.name}: ${message}`))) serialized.stack = cutStack(stack);
  // A RemoteError passed on carries its remote fields; as a cause, its own fields as any cause's.
  const data = isCause ? collectData(error, kMaxCauseFieldBytes) : error instanceof RemoteError ? remoteData(error) : collectData(error, kMaxDataFieldBytes);
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
  const data = collectData(error, kMaxDataFieldBytes) ?? {};
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
  const fields = typeof remote === 'object' && remote !== null ? collectData(remote, kMaxDataFieldBytes) : undefined;
  if (fields) data.data = fields;
  else delete data.data;
  return data;
}

function collectData(error: object, maxFieldBytes: number): Record<string, unknown> | undefined {
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
    const copy = jsonCopy(value, maxFieldBytes);
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
function jsonCopy(value: unknown, maxBytes: number): unknown {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  try {
    const json = JSON.stringify(value);
    return json === undefined || json.length > maxBytes ? undefined : (JSON.parse(json) as unknown);
  } catch {
    return undefined;
  }
}

/** Any non-Error, a string included, says it was one (H428): `Error: x` would pass for a thrown Error. */
function describeNonError(thrown: unknown): string {
  // A string in full (cut by the caller at the message limit), not at describeThrown()'s 2,000.
  const text = typeof thrown === 'string' ? thrown : describeThrown(thrown);
  // Not known to be no Error: `instanceof` itself threw (hostile t77: a Proxy around an Error read
  // `Error: Non-error value thrown: an unreadable value`).
  if (typeof thrown !== 'string' && text === kUnreadableText) return 'Unreadable value thrown: whether it is an Error, and what it holds, could not be read (a Proxy whose traps throw, say)';
  return `Non-error value thrown: ${text}`;
}
