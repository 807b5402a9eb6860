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
 * instance (its own fields), an object or an array with `toJSON` (what it returns), -0 (0). See
 * docs/messaging.md. A getter or `toJSON` that throws is a NotSerializableError with its path,
 * never the raw error.
 *
 * This runs for every message, so the common shapes (plain objects, arrays, strings) take a
 * fast path: no allocation for paths (the path is rebuilt from a key stack only on failure),
 * and cycles are found on a stack of ancestors (a cycle always leads back to one) rather than
 * in a set of everything seen. A sparse array (`advanced` carries its holes) is walked by what
 * is present in it, never its length (but counted as its receiver rebuilds it: below).
 *
 * Everything V8's serializer writes is counted, not only what JSON would: an array's named
 * properties (`a.pad = ...`, refused with JSON, which drops them) and an Error's `cause`
 * (special-values.ts); what V8 writes but cannot read back (an Error whose cause leads back to
 * it, a host object whose fields do, a WebAssembly.Module) is refused (read-back.ts). Symbol-keyed properties are written by neither serializer and not
 * refused either (docs/messaging.md gives the measured cost of checking them), except on a class
 * instance that would arrive holding nothing: a BlockList, a Hash (platform-objects.ts, H766).
 * Size: see wire-size.ts, which the estimate made here feeds.
 */
import { describeValue, MessageTooLargeError, NotSerializableError } from '../errors.js';
import { kFastPropertiesMax, kScalarSurplusBytes, Walk, type HeapCost } from './payload-walk.js';
import { nonFiniteReason, visitSpecialObject } from './special-values.js';
import { checkReadBack, kHostCycleReason, noteUnreadable } from './read-back.js';
import { describeError, isError } from '../readable-error.js';
import { throwingGetterKey } from './throwing-getter.js';
import { checkWireSize, kAdvancedWireFactor, kJsonWireFactor, kPunctuationBytes, kScalarBytes } from './wire-size.js';
import type { Serialization } from '../types.js';

const kMaxDepth = 512;

// One walk serves every check: checks are synchronous, and a reentrant one (a toJSON that
// sends a message) gets its own.
const sharedWalk = new Walk();
let isSharedWalkBusy = false;

/**
 * The walk of the last payload checked (undefined for a string or a scalar, which are not
 * walked): `checkHeldPayload` reads what it counted. One write per message: copying the counts
 * out of it on every message, for the store alone, cost a 64-byte message about 2% of its check.
 * The counting itself (a few increments per object) costs about 3% more; a flag to skip it
 * measured no cheaper than the increments it skips.
 */
let lastWalk: Walk | undefined;

/**
 * `checkPayload()` for a value the receiver keeps (the shared store): the larger of its wire
 * estimate and what the receiver rebuilds from it. A sparse array of 2 000 001 elements is 23
 * bytes on the wire and 16 MB in the receiver's heap; the store must count the 16 MB.
 */
export function checkHeldPayload(payload: unknown, serialization: Serialization, limitBytes: number, type: string, cost: HeapCost): number {
  const bytes = checkPayload(payload, serialization, limitBytes, type);
  const walk = lastWalk;
  if (walk === undefined) return bytes;
  // Counted during the walk above, not by a second one: 50 000 `{}` are 150 KB of JSON and
  // 3.4 MB of heap (tester t22, H178).
  // The root's own header is the store entry's (kStoreEntryOverheadBytes measured it).
  const heap =
    Math.max(0, walk.containers - 1) * cost.container +
    walk.properties * cost.property +
    walk.dictionaryProperties * cost.dictionaryProperty +
    walk.strings * cost.string +
    walk.scalars * cost.scalar;
  return Math.max(bytes, walk.unpackedBytes) + heap;
}

/**
 * Returns the estimated serialized size of `payload` in bytes.
 * @throws NotSerializableError when the payload cannot be sent with `serialization`.
 * @throws MessageTooLargeError when the payload takes more than `limitBytes` on the wire (wire-size.ts).
 */
export function checkPayload(payload: unknown, serialization: Serialization, limitBytes: number, type: string): number {
  lastWalk = undefined;
  let bytes: number;
  let scalars = 0;
  let unpackedBytes = 0;
  if (typeof payload === 'string') {
    bytes = payload.length + kPunctuationBytes;
  } else if (typeof payload === 'number' || typeof payload === 'boolean' || payload === undefined || payload === null) {
    if (typeof payload === 'number' && payload - payload !== 0 && serialization === 'json') throw new NotSerializableError('payload', nonFiniteReason(payload));
    return kScalarBytes;
  } else {
    const reentrant = isSharedWalkBusy;
    const walk: Walk = (reentrant ? new Walk() : sharedWalk).reset(serialization === 'json', limitBytes);
    isSharedWalkBusy = true;
    try {
      visit(walk, payload, 0);
      // What V8 may not read back (an Error met again inside its own cause, a host object inside
      // its own fields, a WebAssembly.Module): confirmed by reading it back (read-back.ts).
      if (walk.unreadable !== undefined) checkReadBack(walk, payload);
      bytes = walk.bytes;
      scalars = walk.scalars;
      unpackedBytes = walk.unpackedBytes;
      lastWalk = walk;
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
  // A few bytes on the wire that the receiver would rebuild as hundreds of megabytes.
  if (unpackedBytes > limitBytes) throw new MessageTooLargeError(type, unpackedBytes, limitBytes, { why: kSparseRule });
  // The common case: even at the most bytes per estimated byte, it fits.
  if (bytes * (serialization === 'json' ? kJsonWireFactor : kAdvancedWireFactor) <= limitBytes) return bytes;
  return checkWireSize(payload, serialization, limitBytes, type, bytes, scalars);
}

function visit(walk: Walk, value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      walk.bytes += value.length + kPunctuationBytes;
      walk.strings++;
      return;
    case 'number':
      // NaN and ±Infinity (x - x is NaN for them, 0 for every finite number).
      if (value - value !== 0 && walk.json) walk.fail(nonFiniteReason(value));
      walk.bytes += kScalarBytes;
      walk.scalars++;
      return;
    case 'boolean':
    case 'undefined':
      walk.bytes += kScalarBytes;
      walk.scalars++;
      return;
    case 'bigint':
      if (walk.json) walk.fail('BigInt values cannot be sent with JSON serialization; convert it to a string, or use serialization: "advanced"');
      // Its digits, 4 bits per hex digit (rare: the string costs nothing on the common path).
      walk.bytes += kScalarBytes + (value.toString(16).length >> 1);
      walk.scalars++;
      return;
    case 'function':
      walk.fail('functions cannot be sent between processes');
    // falls through: fail() throws
    case 'symbol':
      walk.fail('symbols cannot be sent between processes');
    // falls through: fail() throws
    default:
      if (value === null) {
        walk.bytes += kScalarBytes;
        walk.scalars++;
      } else visitObject(walk, value as object, depth);
  }
}

function visitObject(walk: Walk, value: object, depth: number): void {
  if (depth > kMaxDepth) walk.fail(`it is nested more than ${kMaxDepth} levels deep`, undefined, true);
  const prototype: unknown = Object.getPrototypeOf(value);
  const isPlain = prototype === Object.prototype || prototype === null;
  const isArray = !isPlain && Array.isArray(value);
  if (!isPlain && !isArray && visitSpecialObject(walk, value, depth, visit)) return;
  if (depth > 0 && walk.ancestors.includes(value)) {
    // JSON cannot represent a cycle; structured clone can (and the walk must not loop).
    if (walk.json) walk.fail('it contains a circular reference; JSON serialization cannot represent cycles (serialization: "advanced" can)');
    // Back to a host object (a Blob, a MessagePort: hostile t84 #1), which V8 reads back only
    // after its fields, so not this reference to it; or to a class instance, which it reads back.
    // Which one, only reading it back tells (read-back.ts). A plain object, an array, a Map or a
    // Set exists before its contents are read.
    if (!isPlain && !isArray && !(value instanceof Map) && !(value instanceof Set)) noteUnreadable(walk, value, kHostCycleReason);
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
  // JSON.stringify writes what an array's toJSON() returns, its own or one its prototype chain
  // holds (a subclass's method), as for any object: that, not the array, is what is sent.
  const toJSON = walk.json ? (array as { toJSON?: unknown }).toJSON : undefined;
  if (typeof toJSON === 'function') {
    visitToJSON(walk, array, toJSON, depth);
    return;
  }
  walk.bytes += kPunctuationBytes;
  walk.containers++;
  for (let i = 0; i < array.length; i++) {
    // A long array certainly over the limit already is refused (wire-size.ts) without walking
    // the rest: in dictionary mode (`a[1e8] = x`) each element costs a hash lookup.
    if ((i & 4095) === 4095 && walk.bytes - walk.scalars * kScalarSurplusBytes > walk.limitBytes) return;
    const item = array[i];
    if (item === undefined) {
      walk.keys.push(i);
      if (walk.json) walk.fail('undefined in an array (or an empty slot of a sparse array) becomes null with JSON serialization; use null, or use serialization: "advanced"');
      walk.keys.pop();
      // A hole: the array is sparse (`advanced` keeps its holes), perhaps `a[1e9] = x`. Walk
      // what is present from here on, never the whole length.
      if (!(i in array)) {
        visitSparseArray(walk, array, i, depth);
        return;
      }
    }
    walk.keys.push(i);
    visit(walk, item, depth + 1);
    walk.keys.pop();
  }
  visitNamedProperties(walk, array, array.length, depth);
}

/**
 * An array's named (non-index) own properties, `a.pad = ...`: V8's serializer writes them after
 * the elements, JSON drops them. `present` is how many index keys the array holds: Object.keys
 * lists them first, in order, so what follows them is named. No public API lists an array's
 * named keys without its indices, so this costs one Object.keys per array (see docs/messaging.md
 * for the measured cost).
 */
function visitNamedProperties(walk: Walk, array: unknown[], present: number, depth: number): void {
  const keys = Object.keys(array);
  for (let k = present; k < keys.length; k++) visitNamedProperty(walk, array, keys[k]!, depth);
}

function visitNamedProperty(walk: Walk, array: unknown[], key: string, depth: number): void {
  walk.keys.push(key);
  if (walk.json) walk.fail('JSON serialization writes the elements of an array only, and drops its named properties; use an object, or use serialization: "advanced"');
  walk.bytes += key.length + kPunctuationBytes;
  visit(walk, (array as unknown as Record<string, unknown>)[key], depth + 1);
  walk.keys.pop();
}

/**
 * V8's JSArray::kMaxFastArrayLength: its deserializer rebuilds a sparse array up to this length
 * with a backing store for every index (measured: `a[3.3e7] = 1`, 20 bytes on the wire, took
 * 264 MB and 300 ms to receive), and a longer one as a dictionary of what is present.
 */
const kMaxDenseLength = 32 * 1024 * 1024;
/** Why a sparse array of a few elements can be refused: said in the error (docs/messaging.md#size-limit). */
const kSparseRule =
  'as its receiver holds it: V8 rebuilds a sparse array of up to 2^25 (33 554 432) elements with 8 bytes for every index up to its length, ' +
  'however few are present; send an object keyed by index, or a Map, instead';

/** The present elements of `array` from index `from` on: what V8's serializer writes of a sparse array. */
function visitSparseArray(walk: Walk, array: unknown[], from: number, depth: number): void {
  // Written as its length, then index-value pairs: each number counted as a scalar.
  walk.bytes += kScalarBytes;
  walk.scalars++;
  // Certainly over the limit already (the elements before the hole): refused (wire-size.ts).
  if (walk.bytes - walk.scalars * kScalarSurplusBytes > walk.limitBytes) return;
  if (array.length <= kMaxDenseLength) {
    walk.unpackedBytes += array.length * kScalarBytes;
    // Refused by checkPayload; otherwise short enough (under maxMessageBytes / 8) to walk by index.
    if (walk.unpackedBytes > walk.limitBytes) return;
    let present = from;
    for (let i = from; i < array.length; i++) {
      if (!(i in array)) continue;
      present++;
      walk.bytes += kScalarBytes;
      walk.scalars++;
      walk.keys.push(i);
      visit(walk, array[i], depth + 1);
      walk.keys.pop();
    }
    visitNamedProperties(walk, array, present, depth);
    return;
  }
  for (const key in array) {
    // Certainly over the limit already: refused (wire-size.ts), no need to walk the rest.
    if (walk.bytes - walk.scalars * kScalarSurplusBytes > walk.limitBytes) return;
    if (!Object.hasOwn(array, key)) continue;
    const index = Number(key);
    // An array index is an integer below 2^32 - 1, written canonically; any other key is named.
    if (`${index}` !== key || !(index < 4294967295) || !Number.isInteger(index) || index < 0) {
      visitNamedProperty(walk, array, key, depth);
      continue;
    }
    if (index < from) continue;
    walk.bytes += kScalarBytes;
    walk.scalars++;
    walk.keys.push(index);
    visit(walk, array[index], depth + 1);
    walk.keys.pop();
  }
}

function visitProperties(walk: Walk, value: object, depth: number): void {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (walk.json && typeof toJSON === 'function') {
    visitToJSON(walk, value, toJSON, depth);
    return;
  }
  walk.bytes += kPunctuationBytes;
  walk.containers++;
  let properties = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const entry = (value as Record<string, unknown>)[key];
    walk.bytes += key.length + kPunctuationBytes;
    properties++;
    if (typeof entry === 'string') {
      walk.bytes += entry.length + kPunctuationBytes;
      walk.strings++;
      continue;
    }
    walk.keys.push(key);
    visit(walk, entry, depth + 1);
    walk.keys.pop();
  }
  walk.properties += properties;
  if (properties > kFastPropertiesMax) walk.dictionaryProperties += properties;
}

function visitMap(walk: Walk, map: Map<unknown, unknown>, depth: number): void {
  if (walk.json) walk.fail('a Map becomes {} with JSON serialization; send Object.fromEntries(map), or use serialization: "advanced"');
  walk.containers++;
  walk.dictionaryProperties += map.size;
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
  walk.containers++;
  walk.dictionaryProperties += set.size;
  walk.keys.push('<entry>');
  for (const entry of set) visit(walk, entry, depth + 1);
  walk.keys.pop();
}


/** What JSON writes for a value with a `toJSON()` method (an object's or an array's): what it returns. */
function visitToJSON(walk: Walk, value: object, toJSON: Function, depth: number): void {
  const json = callToJSON(walk, value, toJSON);
  walk.keys.push('toJSON()');
  visit(walk, json, depth + 1);
  walk.keys.pop();
}

/** `value.toJSON()`; out of line, so the hot property loop holds no try/catch. */
function callToJSON(walk: Walk, value: object, toJSON: Function): unknown {
  try {
    return toJSON.call(value);
  } catch (error) {
    return walk.fail(`its toJSON() threw ${describeError(error)}`, error);
  }
}
