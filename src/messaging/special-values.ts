/**
 * The objects payload-check.ts's walk does not walk by their keys: those sent whole (Buffers,
 * typed arrays, Dates, RegExps), those V8 writes in a form of their own (Errors: name, message,
 * stack, cause; boxed primitives: their value) and those that cannot be sent at all. Each is
 * counted as V8's serializer writes it, and refused with JSON where JSON would change it.
 * Errors and boxed primitives are recognized with util.types, across realms (a value
 * deserialized in a vm context, as under Jest).
 */
// `node:util/types`, not `node:util`: see errors.ts.
import { isBigIntObject, isBooleanObject, isBoxedPrimitive, isNativeError, isNumberObject, isStringObject } from 'node:util/types';
import { kPunctuationBytes, kScalarBytes } from './wire-size.js';
import type { Walk } from './payload-walk.js';
import { kErrorCycleReason, kWasmModuleReason, noteUnreadable } from './read-back.js';
import { refusePlatformObject } from './platform-objects.js';

/** Absent where WebAssembly is (`node --jitless`). */
const kWasmModule: (abstract new (...args: never[]) => object) | undefined = (globalThis as { WebAssembly?: { Module: abstract new (...args: never[]) => object } }).WebAssembly?.Module;

/** payload-check.ts's visitor, passed in so that this file does not import it back. */
export type Visit = (walk: Walk, value: unknown, depth: number) => void;

/** Objects sent whole, not walked, and objects that cannot be sent. Returns true when handled. */
export function visitSpecialObject(walk: Walk, value: object, depth: number, visit: Visit): boolean {
  if (value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    walk.fail(`${value.constructor.name} objects cannot be sent between processes`);
  }
  if (Buffer.isBuffer(value)) {
    // JSON writes a Buffer as {"type":"Buffer","data":[...]}: not a Buffer on arrival, about 4
    // bytes per byte, and slow (100 MB took 47 s).
    if (walk.json) walk.fail('a Buffer arrives as { type: "Buffer", data: [...] } with JSON serialization; send buffer.toString("base64"), or use serialization: "advanced"');
    // Its bytes, plus headers counted as one scalar (so a thousand empty ones count too).
    walk.bytes += kScalarBytes + value.length;
    walk.scalars++;
    return true;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    if (walk.json) walk.fail('typed arrays and ArrayBuffers are mangled by JSON serialization; send an array of numbers or a base64 string, or use serialization: "advanced"');
    walk.bytes += kScalarBytes + value.byteLength;
    walk.scalars++;
    return true;
  }
  if (value instanceof Date) {
    // JSON sends a Date as its ISO string (documented); an invalid one would become null.
    if (walk.json && Number.isNaN(value.getTime())) walk.fail('an invalid Date becomes null with JSON serialization; send null, or a valid Date');
    if (walk.json) refuseNamedProperties(walk, value, 0, 'a Date');
    // A scalar on the wire: 26 bytes of JSON (its ISO string), 9 with V8's serializer.
    walk.bytes += kScalarBytes;
    walk.scalars++;
    return true;
  }
  if (value instanceof RegExp) {
    if (walk.json) walk.fail('a RegExp becomes {} with JSON serialization; send its source and flags as strings, or use serialization: "advanced"');
    walk.bytes += kScalarBytes + value.source.length;
    walk.scalars++;
    return true;
  }
  // An Error as V8 sees one, made by an Error constructor; realm-independent: a value
  // deserialized in another context (a vm, Jest) is still one.
  if (isNativeError(value)) {
    if (walk.json) failError(walk);
    visitError(walk, value, depth, visit);
    return true;
  }
  // An object that only inherits from Error.prototype (a DOMException in Node 20,
  // Object.create(Error.prototype)): V8 writes it as any object, its own fields, and it is walked
  // as one (hostile t83 #2: a field of it leading back to an Error whose cause it is must be seen).
  if (walk.json && value instanceof Error) failError(walk);
  // Written by V8, read back only by a thread of the same process (hostile t84 #1: sent, it
  // crashed the worker reading it): noted, confirmed after the walk (read-back.ts).
  if (!walk.json && kWasmModule !== undefined && value instanceof kWasmModule) {
    noteUnreadable(walk, value, kWasmModuleReason);
    walk.bytes += kScalarBytes;
    walk.scalars++;
    return true;
  }
  if (visitBoxedPrimitive(walk, value, visit)) return true;
  // Hostile t86 N4: a Blob, a KeyObject, a stream... arrived as {} (platform-objects.ts).
  refusePlatformObject(walk, value);
  return false;
}

function failError(walk: Walk): never {
  return walk.fail('an Error loses its message with JSON serialization; throw it from the handler instead (the sender gets a RemoteError), or use serialization: "advanced"');
}

/**
 * V8's serializer writes an Error's name (one of the standard ones), message, stack and `cause`
 * (any value, walked like the rest); its other own properties are not sent (nor an
 * AggregateError's `errors`).
 */
function visitError(walk: Walk, error: Error, depth: number, visit: Visit): void {
  const message: unknown = error.message;
  const stack: unknown = error.stack;
  walk.bytes += kScalarBytes + (typeof message === 'string' ? message.length : String(message).length);
  walk.bytes += typeof stack === 'string' ? stack.length : 0;
  walk.scalars++;
  if (!Object.hasOwn(error, 'cause')) return;
  // Met again inside its own cause (`e.cause = e`, `e.cause = { error: e }`): V8 writes that
  // cycle, but its deserializer makes an Error only after reading its cause, so the reference
  // back finds nothing and the receiver fails (hostile t83 #2: a worker was killed, the primary's
  // reader blamed on bytes written below process.send()). Noted, confirmed after the walk
  // (read-back.ts): any other cycle V8 reads back, as the ancestors of a plain object.
  if (walk.ancestors.includes(error)) {
    noteUnreadable(walk, error, kErrorCycleReason);
    return;
  }
  // Met before, its cause walked: V8 writes a reference to it this time.
  if (walk.errorsSeen?.has(error)) return;
  (walk.errorsSeen ??= new Set()).add(error);
  walk.ancestors.push(error);
  walk.keys.push('cause');
  visit(walk, error.cause, depth + 1);
  walk.keys.pop();
  walk.ancestors.pop();
}

/**
 * `new String('x')`, `new Number(1)`, `Object(1n)`...: sent as their value (V8's serializer
 * writes the value alone; JSON writes the primitive), so counted as it. Their other properties
 * are not sent: with JSON they are refused (JSON would drop them silently).
 */
function visitBoxedPrimitive(walk: Walk, value: object, visit: Visit): boolean {
  if (!isBoxedPrimitive(value)) return false;
  if (isStringObject(value)) {
    // Its own properties are not looked for: Object.keys() of a String object lists every
    // character's index first, so the check would cost a microsecond per character (seconds
    // for a few megabytes, blocking the event loop). Both serializers write the string alone;
    // docs/messaging.md says properties added to a String object are not sent.
    const text = value.valueOf();
    walk.bytes += text.length + kPunctuationBytes;
    return true;
  }
  if (isNumberObject(value) || isBooleanObject(value)) {
    const primitive = value.valueOf();
    if (walk.json) {
      if (typeof primitive === 'number' && primitive - primitive !== 0) walk.fail(nonFiniteReason(primitive));
      refuseNamedProperties(walk, value, 0, `a ${typeof primitive === 'number' ? 'Number' : 'Boolean'} object`);
    }
    walk.bytes += kScalarBytes;
    walk.scalars++;
    return true;
  }
  if (isBigIntObject(value)) {
    visit(walk, value.valueOf(), 0);
    return true;
  }
  // A Symbol object: V8 cannot clone it, JSON writes {}.
  return walk.fail('symbols cannot be sent between processes');
}

/** With JSON: `value` is written as a primitive, so its own enumerable properties (beyond its first `indexKeys` index keys) would be dropped. */
function refuseNamedProperties(walk: Walk, value: object, indexKeys: number, what: string): void {
  const keys = Object.keys(value);
  if (keys.length <= indexKeys) return;
  walk.keys.push(keys[indexKeys]!);
  walk.fail(`${what} is written by JSON as its value alone, and its properties are dropped; send them in an object, or use serialization: "advanced"`);
}

export function nonFiniteReason(value: number): string {
  return `${value} becomes null with JSON serialization; send null or a string such as "${value}", or use serialization: "advanced"`;
}
