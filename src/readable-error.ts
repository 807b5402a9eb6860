/**
 * Reading thrown values without throwing. Anything can be thrown: an Error whose `message`
 * getter throws, a Proxy whose traps throw, a revoked Proxy (even `instanceof` throws on it),
 * an object without a prototype or whose `toString` throws. Code that reports a thrown value
 * (an error reply, the `error` event, a log line, an error message) must never throw itself:
 * on the protocol's path such a throw escapes into the IPC listener and kills the process.
 */

/** What `readProperty` returns when reading throws. */
export const kUnreadable: unique symbol = Symbol('unreadable');

/** Longest description of a thrown value; a thrown 10 MB object must not become a 10 MB message. */
const kMaxDescriptionLength = 2_000;

/** `value[key]`, or `kUnreadable` when reading it throws (a getter, a Proxy trap). */
export function readProperty(value: object, key: PropertyKey): unknown {
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return kUnreadable;
  }
}

/** `value instanceof Error`, and false when the check itself throws (a revoked Proxy). */
export function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** What `describeThrown` says of a value no way of reading works on (a Proxy whose traps all throw). */
export const kUnreadableText = 'an unreadable value';

/**
 * A one-line description of any value, for messages; never throws. Strings are themselves;
 * objects are their JSON, or their `String()`, or their `[object Tag]`, whichever works first.
 */
export function describeThrown(value: unknown): string {
  // An empty string said as such: `rejected: .` read as a cut line (retest t53).
  if (typeof value === 'string') return value === '' ? 'an empty string ("")' : truncate(value);
  // String() of these never runs user code (a symbol's description is read directly).
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return String(value);
  if (typeof value === 'function') {
    const name = readProperty(value, 'name');
    return `function ${typeof name === 'string' && name ? name : '(anonymous)'}`;
  }
  // A plain object JSON cannot write (a cycle, a BigInt) keeps its `message` at least: String() of
  // it says only "[object Object]" (hostile t35 L5: `{ message: 'cyc', self }` lost its message).
  const ownMessage = () => {
    const message = readProperty(value, 'message');
    return typeof message === 'string' ? `an object with the message ${JSON.stringify(message)}` : undefined;
  };
  for (const attempt of [() => JSON.stringify(value), ownMessage, () => String(value), () => Object.prototype.toString.call(value)]) {
    try {
      const text: unknown = attempt();
      if (typeof text === 'string') return truncate(text);
    } catch {
      // the next way, then
    }
  }
  return kUnreadableText;
}

/** `Name: message` of an error, or the description of anything else; never throws. */
export function describeError(value: unknown): string {
  if (!isError(value)) return describeThrown(value);
  // Not through toReadableError: its wrapper would say "Error: A value was thrown: DbError: ...".
  if (!isReadable(value)) return describeUnreadableError(value);
  // Bounded as any thrown value is: an Error with a 50 MB message made a 50 MB warning and error
  // message (hostile t75 F1, F4: 419 MB on stderr for 8 failures, the loop blocked for seconds).
  return truncate(`${value.name}: ${value.message}`);
}

/**
 * `thrown` itself when it is an Error whose `name`, `message`, `code` and `stack` can be read
 * (so listeners and loggers may read them), otherwise a new Error saying what could be read,
 * with `thrown` as its `cause`. Never throws.
 * @param context Starts the new error's message, such as `The handler for "x" threw`.
 */
export function toReadableError(thrown: unknown, context = 'A value was thrown'): Error {
  if (isError(thrown) && isReadable(thrown)) return thrown;
  const what = isError(thrown) ? describeUnreadableError(thrown) : describeThrown(thrown);
  return new Error(`${context}: ${what}`, { cause: thrown });
}

function isReadable(error: Error): boolean {
  const name = readProperty(error, 'name');
  const message = readProperty(error, 'message');
  return typeof name === 'string' && typeof message === 'string' && readProperty(error, 'code') !== kUnreadable && readProperty(error, 'stack') !== kUnreadable;
}

/** What can be read of an Error some of whose fields cannot. */
function describeUnreadableError(error: Error): string {
  const message = readProperty(error, 'message');
  return `${readErrorName(error, message)}: ${typeof message === 'string' ? truncate(message) : unreadableField('message', message)}`;
}

/**
 * The name to report an error under, given its `message` as read (`readProperty`). Its `name`
 * when that and its message are strings; otherwise its class's name (`DbError`), which says
 * what was thrown: a class whose `message` getter throws most often inherits `name` 'Error'
 * (before, it was reported as a bare `Error`). Never throws.
 */
export function readErrorName(error: Error, message: unknown): string {
  const name = readProperty(error, 'name');
  if (typeof name === 'string' && typeof message === 'string') return name;
  const constructor = readProperty(error, 'constructor');
  const className = typeof constructor === 'function' ? readProperty(constructor, 'name') : undefined;
  if (typeof className === 'string' && className !== '') return truncate(className);
  return typeof name === 'string' ? name : 'Error';
}

/** A field that is not a string: described, or marked as unreadable. */
export function unreadableField(field: string, value: unknown): string {
  return value === kUnreadable ? `(its ${field} could not be read)` : describeThrown(value);
}

/**
 * An error's `stack` for a warning's detail, bounded: its first line (`Name: message`, which may
 * be megabytes) cut as a description is, then its frames, at most `kMaxStackLength` in all.
 */
export function boundedStack(stack: string): string {
  const framesAt = stack.indexOf('\n    at ');
  const head = framesAt === -1 ? stack : stack.slice(0, framesAt);
  const bounded = framesAt === -1 ? truncate(head) : `${truncate(head)}${stack.slice(framesAt, framesAt + kMaxStackLength)}`;
  return bounded.length > kMaxStackLength ? `${bounded.slice(0, kMaxStackLength - 3)}...` : bounded;
}

/** Longest stack said in a warning's detail: about 40 frames. */
const kMaxStackLength = 8_000;

function truncate(text: string): string {
  return text.length > kMaxDescriptionLength ? `${text.slice(0, kMaxDescriptionLength - 3)}...` : text;
}
