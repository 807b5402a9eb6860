/**
 * The state of one payload check (payload-check.ts): the running size estimate, and the path
 * from the root to the value being visited, for error messages and cycle detection.
 */
import { escapeControlChars } from '../control/control-chars.js';
import { NotSerializableError } from '../errors.js';
import { kScalarBytes } from './wire-size.js';
import type { Unreadable } from './read-back.js';

/** The fewest wire bytes a scalar estimated at 8 takes (see wire-size.ts). */
export const kScalarSurplusBytes = kScalarBytes - 1;

/** What one item of a held value costs the receiver's heap beyond its wire estimate (store-overhead.ts). */
export interface HeapCost {
  readonly container: number;
  readonly property: number;
  readonly dictionaryProperty: number;
  readonly string: number;
  readonly scalar: number;
}

/** Properties past which V8 keeps an object as a dictionary (measured: 64 fast, 128 dictionary). */
export const kFastPropertiesMax = 64;

export class Walk {
  bytes = 0;
  /** Scalars (numbers, booleans, null, undefined, BigInts, Dates, RegExps) counted in `bytes`, 8 bytes each. */
  scalars = 0;
  /**
   * Memory the receiver allocates beyond the wire: V8 rebuilds a sparse array of up to 2^25
   * elements with room for all of them, 8 bytes each, however few are present.
   */
  unpackedBytes = 0;
  /**
   * What the receiver's heap holds besides the bytes counted above (the shared store counts it:
   * store-overhead.ts): objects and arrays (Maps and Sets too), their properties, the properties
   * of objects big enough to be kept as dictionaries, and strings.
   */
  containers = 0;
  properties = 0;
  dictionaryProperties = 0;
  strings = 0;
  /** `maxMessageBytes`: a walk that certainly exceeds it stops early (the payload is refused). */
  limitBytes = Infinity;
  json = true;
  /** Keys from the payload root to the value being visited, for error paths. */
  readonly keys: Array<string | number> = [];
  /** Objects from the root to the one being visited. */
  readonly ancestors: object[] = [];
  /**
   * Errors with a `cause` walked so far: V8's serializer writes an object in full once, then refers
   * to it, so an Error met again is not walked again (read-back.ts). Made at the first such
   * Error: a payload without one costs nothing more.
   */
  errorsSeen: Set<object> | undefined = undefined;
  /**
   * Where the walk met what V8 writes but may not read back (read-back.ts): an Error again inside
   * its own cause (hostile t83 #2), an object other than a plain one or an array again inside its
   * own fields, a WebAssembly.Module (hostile t84 #1). Confirmed after the walk; made at the first
   * note: a payload without one costs nothing more.
   */
  unreadable: Unreadable[] | undefined = undefined;

  reset(json: boolean, limitBytes: number): this {
    this.bytes = 0;
    this.scalars = 0;
    this.unpackedBytes = 0;
    this.containers = 0;
    this.properties = 0;
    this.dictionaryProperties = 0;
    this.strings = 0;
    this.limitBytes = limitBytes;
    this.json = json;
    // Balanced after every successful walk; only a failed one leaves entries (and setting
    // `length` is a runtime call, too slow to make on every message).
    if (this.keys.length !== 0) this.keys.length = 0;
    if (this.ancestors.length !== 0) this.ancestors.length = 0;
    if (this.errorsSeen !== undefined) this.errorsSeen = undefined;
    if (this.unreadable !== undefined) this.unreadable = undefined;
    return this;
  }

  /** `isDepthCut`: the walk stopped at its depth limit, so the value goes deeper than `keys`. */
  fail(reason: string, cause?: unknown, isDepthCut = false): never {
    throw new NotSerializableError(pathText(this.keys, isDepthCut), reason, cause === undefined ? undefined : { cause });
  }
}

/** Levels of a path shown at each end when it is longer than both (H267). */
const kPathEndLevels = 6;
/** Characters of a key shown before it is cut. */
const kMaxKeyChars = 40;

/**
 * `payload.a[3].b` for the keys walked. A payload 500 levels deep gave 1.5 KB of `[0]`, and a key
 * can be any string: the middle of a long path becomes `...(490 more levels)...`, a long key is
 * cut and its control characters escaped, so the message stays a line a person reads (H267).
 * A cut key says so before the next separator (`.kkk...(9960 more characters).a`), and a path cut
 * at the depth limit counts "at least" (H283): the walk stopped there, the value goes deeper.
 */
export function pathText(keys: ReadonlyArray<string | number>, isDepthCut = false): string {
  const segment = (key: string | number) => {
    if (typeof key === 'number') return `[${key}]`;
    const chars = [...key];
    return `.${escapeControlChars(chars.length > kMaxKeyChars ? `${chars.slice(0, kMaxKeyChars).join('')}...(${chars.length - kMaxKeyChars} more characters)` : key)}`;
  };
  if (keys.length <= 2 * kPathEndLevels + 1) return `payload${keys.map(segment).join('')}`;
  const head = keys.slice(0, kPathEndLevels).map(segment).join('');
  const tail = keys.slice(-kPathEndLevels).map(segment).join('');
  return `payload${head}...(${isDepthCut ? 'at least ' : ''}${keys.length - 2 * kPathEndLevels} more levels)...${tail}`;
}

/**
 * `error` with its path named after the caller's argument when the library wrapped that argument
 * in a message of its own (H283): `sendTo()`'s relay carries it as `payload.payload`, `store.set()`
 * as `payload.value`, so `payload.payload.a` is the caller's `payload.a` and `payload.value.a` is `value.a`.
 */
export function argumentPath(error: unknown, field: string, argument: string): unknown {
  if (!(error instanceof NotSerializableError)) return error;
  const envelope = `payload.${field}`;
  if (!error.path.startsWith(envelope) || !/^$|^[.[]/.test(error.path.slice(envelope.length, envelope.length + 1))) return error;
  // The same refusal, renamed: the error it replaces is not its cause (its path was never the caller's), only that one's cause (newcomer t61).
  return new NotSerializableError(`${argument}${error.path.slice(envelope.length)}`, error.reason, { cause: error.cause });
}

/**
 * `error`, a value refused in a store write, as one that says it was a store write (H356):
 * `Cannot store the value of "k", at value.a: ...`, not `Cannot send payload.a: ...`. Its path
 * `from` (the checked payload's own, `payload`; or a name given earlier, `value`) becomes
 * `argument`, the caller's name for the value (`value`; compareAndSet's `next`).
 */
export function storedValuePath(error: unknown, from: string, argument: string, key: string): unknown {
  if (!(error instanceof NotSerializableError) || (error.storeKey === key && from === argument) || !error.path.startsWith(from) || !/^$|^[.[]/.test(error.path.slice(from.length, from.length + 1))) return error;
  return new NotSerializableError(`${argument}${error.path.slice(from.length)}`, error.reason, { cause: error.cause, storeKey: key });
}
